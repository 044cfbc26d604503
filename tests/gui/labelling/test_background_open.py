"""A large folder opens in two steps: its first image at once, view only; the rest of its labels read meanwhile."""
from __future__ import annotations

import threading

import pytest

from engine.annotations.records import Box
from engine.project import project as project_module
from engine.project.lock import read_lock
from resyolo_gui.labelling import background_open


@pytest.fixture
def held_back_reading(monkeypatch):
    """Folders of more than 2 images open in the background, and the whole read of one named ``large`` waits for
    ``release.set()``."""
    monkeypatch.setattr(background_open, "BACKGROUND_OPEN_IMAGES", 2)
    release = threading.Event()
    original = project_module.Opening.read

    def read(self, first_only=False):
        if not first_only and self.folder.name == "large":
            assert release.wait(10)
        return original(self, first_only=first_only)

    monkeypatch.setattr(project_module.Opening, "read", read)
    yield release
    release.set()


@pytest.fixture
def empty_window(qtbot):
    from resyolo_gui.main_window import MainWindow
    from resyolo_gui.settings import AppSettings

    window = MainWindow(None, AppSettings())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.loader.wait_for_done()
    window.browser.thumbnails.wait_for_done()
    window.close()


def test_first_image_view_only_then_the_whole_folder(make_folder, tmp_path, empty_window, held_back_reading, qtbot):
    folder = make_folder(tmp_path / "large", count=6, labelled=3)
    (folder / "img4.xml").write_text("<annotation><object>")  # a problem: still reported, once all is read
    window = empty_window
    assert window.open_folder(folder)
    assert window.labels_pending() and window.project is None
    canvas = window.canvas
    assert canvas.has_image() and canvas.is_view_only() and canvas.annotation().image_path.name == "img0.jpg"
    assert [b.label for b in canvas.annotation().boxes] == ["cat"] and len(canvas._items) == 1  # its box drawn
    canvas.select_boxes(canvas.annotation().boxes)
    assert canvas.selected_boxes() == [] and not canvas._editable()  # nothing to edit, nothing to lose
    assert not canvas.canvas_actions.draw.isEnabled()
    assert window.position_label.text() == "Image 1 of 6" and "reading labels" in window.windowTitle()
    assert read_lock(folder) is not None  # held from the start, as a small folder's

    with qtbot.waitSignal(window.first_image_shown, timeout=10000):
        held_back_reading.set()
    assert not window.labels_pending() and not canvas.is_view_only()
    project = window.project
    assert [a.image_path.name for a in project.annotations] == [f"img{i}.jpg" for i in range(6)]
    assert [len(a.boxes) for a in project.annotations] == [1, 1, 1, 0, 0, 0]
    assert [p.name for p in project.problems] == ["img4.jpg"]
    assert canvas._editable() and canvas.annotation() is project.annotations[0]
    canvas.annotation().boxes.append(Box("dog", 1, 1, 9, 9))  # editable now, and saved where it belongs
    project.mark_dirty(canvas.annotation())
    window.save()
    assert "dog" in (folder / "img0.xml").read_text()


def test_another_folder_opened_meanwhile_lets_go_of_the_first(make_folder, tmp_path, empty_window,
                                                                held_back_reading, qtbot):
    large = make_folder(tmp_path / "large", count=6)
    small = make_folder(tmp_path / "small", count=2)
    window = empty_window
    assert window.open_folder(large) and window.labels_pending()
    assert window.open_folder(small) and not window.labels_pending()
    assert window.project.folder == small.resolve() and read_lock(large) is None
    held_back_reading.set()
    qtbot.wait(300)  # the first folder's read arrives: dropped
    assert window.project.folder == small.resolve() and read_lock(large) is None


def test_closing_the_window_meanwhile_lets_go_of_the_folder(make_folder, tmp_path, empty_window, held_back_reading):
    large = make_folder(tmp_path / "large", count=6)
    assert empty_window.open_folder(large) and read_lock(large) is not None
    empty_window.close()
    assert read_lock(large) is None


def test_a_large_folder_named_on_the_command_line_shows_its_first_image_first(make_folder, tmp_path,
                                                                              held_back_reading, monkeypatch):
    """``resyolo-gui FOLDER`` used to read every label file before the window appeared."""
    from resyolo_gui import app
    from resyolo_gui.main_window import MainWindow

    folder = make_folder(tmp_path / "large", count=6, labelled=3)
    seen = {}
    real_screenshot = app._screenshot

    def screenshot(qapp, window, out):  # what the window shows when it is first captured
        seen.update(pending=window.labels_pending(), view_only=window.canvas.is_view_only(),
                    title=window.windowTitle())
        held_back_reading.set()
        return real_screenshot(qapp, window, out)

    monkeypatch.setattr(app, "_screenshot", screenshot)
    opened = []
    real_open = MainWindow.open_opening
    monkeypatch.setattr(MainWindow, "open_opening", lambda self, opening: opened.append(self) or real_open(self, opening))
    assert app.main([str(folder), "--screenshot", str(tmp_path / "shot.png")]) == 0
    assert seen["pending"] and seen["view_only"] and "reading labels" in seen["title"]
    assert (tmp_path / "shot.png").is_file() and len(opened) == 1
    opened[0].background_open.cancel()
