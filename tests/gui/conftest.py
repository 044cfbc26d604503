"""GUI tests run offscreen with a throw-away user config; helpers build real image folders on disk."""
from __future__ import annotations

import os
import tempfile

# Before any Qt import: no display needed, and the user's own settings (recent folders) stay untouched.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["RESYOLO_CONFIG_DIR"] = tempfile.mkdtemp(prefix="resyolo-gui-test-config-")
os.environ["RESYOLO_DATA_DIR"] = tempfile.mkdtemp(prefix="resyolo-gui-test-data-")  # the sample project's copy

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from engine.annotations.records import Box, ImageAnnotation  # noqa: E402
from engine.annotations.voc import write_voc_xml  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_user_config(tmp_path_factory, monkeypatch):
    """Each test starts as a first session: no recent folders, no remembered workspace or layout."""
    monkeypatch.setenv("RESYOLO_CONFIG_DIR", str(tmp_path_factory.mktemp("user-config")))


def make_image_folder(folder: Path, count: int = 5, labelled: int = 3, size=(64, 48), classes=("cat", "dog")) -> Path:
    """``count`` JPEGs ``img0.jpg``...; the first ``labelled`` get a VOC file with one box of a rotating class."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    for i in range(count):
        pixels = np.full((height, width, 3), (i * 37) % 256, np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i}.jpg")
        if i < labelled:
            box = Box(classes[i % len(classes)], 4 + i, 5, 30 + i, 40)
            write_voc_xml(ImageAnnotation(folder / f"img{i}.jpg", width, height, [box]))
    return folder


@pytest.fixture(autouse=True, scope="session")
def garbage_collected_on_gui_thread(qapp):
    """As in the app (resyolo_gui.app): a training or detection worker thread must never run the collector."""
    from resyolo_gui.gc_guard import collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread(qapp)
    yield


@pytest.fixture(autouse=True)
def collect_between_tests(qapp):
    """Windows of the previous test die here, on the GUI thread, not inside the next test's worker thread."""
    import gc

    yield
    gc.collect()


@pytest.fixture
def make_folder():
    return make_image_folder


@pytest.fixture
def image_folder(tmp_path) -> Path:
    return make_image_folder(tmp_path / "photos")


@pytest.fixture
def open_window(qtbot):
    """``open_window(folder)`` -> a shown MainWindow whose first image is on screen."""
    from engine.project.project import Project
    from resyolo_gui.main_window import MainWindow
    from resyolo_gui.settings import AppSettings

    windows = []

    def open_(folder: Path):
        window = MainWindow(None, AppSettings())
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        with qtbot.waitSignal(window.first_image_shown, timeout=5000):
            window.set_project(Project.open(folder))
        window.activateWindow()
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.loader.wait_for_done()
        window.browser.thumbnails.wait_for_done()
        window.close()


@pytest.fixture(autouse=True)
def no_blocking_save_question(monkeypatch):
    """A modal question would hang an offscreen test: answer "discard" unless a test says otherwise."""
    from resyolo_gui.labelling import dialogs

    answers = []

    def ask(parent, failures):
        answers.append([str(f) for f in failures])
        return dialogs.DISCARD

    monkeypatch.setattr(dialogs, "ask_save_failure", ask)
    return answers
