"""Fixtures of the real-window scenarios. These run only in the child pytest that tests/e2e/test_real_window.py
starts with QT_QPA_PLATFORM=xcb on its Xvfb display; importing this file has no side effects, because the outer
suite collects this folder too (and runs offscreen)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from real_input import RealInput

SAMPLE = Path(__file__).resolve().parents[3] / "assets" / "sample"


@pytest.fixture
def real(qtbot):
    driver = RealInput(qtbot)
    yield driver
    driver.stop_background()


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    """The bundled sample project copied to a temporary folder (its 24 images, VOC files, classes.txt)."""
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns(".resyolo"))
    return folder


@pytest.fixture
def shots_dir(tmp_path) -> Path:
    folder = Path(os.environ.get("RESYOLO_E2E_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def open_app(qapp, qtbot, real, tmp_path):
    """Open the app's window on a folder as ``resyolo-gui FOLDER`` does, shown for real and focused."""
    from engine.project.project import Project
    from resyolo_gui.gc_guard import collect_garbage_on_gui_thread
    from resyolo_gui.main_window import MainWindow
    from resyolo_gui.settings import AppSettings
    from resyolo_gui.style import apply_style

    assert qapp.platformName() == "xcb", "the scenarios need a real X display (QT_QPA_PLATFORM=xcb)"
    qapp.setApplicationName("ResYOLO")  # as resyolo_gui.app does: window titles end in "— ResYOLO"
    collect_garbage_on_gui_thread(qapp)
    apply_style(qapp)
    windows = []

    def open_(folder: Path, size: tuple[int, int] | None = (1280, 740)):
        """``size`` None: the size the app picks itself (its last one, or its default fitted to the screen)."""
        window = MainWindow(Project.open(folder), AppSettings(tmp_path / "settings.ini"))
        if size is not None:
            window.resize(*size)
        window.move(0, 0)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window._first_shown, timeout=10_000)
        real.xdotool("windowactivate", "--sync", int(window.winId()))
        qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        for feature in window.features:  # a run a failed scenario left training: stopped, not asked about
            if getattr(feature, "running", False):
                feature.stop_and_wait()
        if window.isVisible():
            window.close()
