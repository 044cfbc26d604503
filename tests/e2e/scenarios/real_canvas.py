"""Labelling with real X mouse and keys: draw, move, resize, delete, undo, redo; the next image and the file on
disk; quitting with unsaved edits (saved, or kept when the folder cannot be written)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.annotations.records import Box, ImageAnnotation
from engine.annotations.voc import read_voc_xml, write_voc_xml

W, H = 320, 240
FIRST_BOX = (40, 40, 120, 120)


@pytest.fixture
def photos(tmp_path):
    """Three plain 320x240 photos; the first has one "cat" box at FIRST_BOX."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((H, W, 3), 90 + 40 * i, np.uint8)).save(folder / f"img{i}.jpg")
    write_voc_xml(ImageAnnotation(folder / "img0.jpg", W, H, [Box("cat", *FIRST_BOX)]))
    return folder


def rect(box) -> tuple[float, float, float, float]:
    return box.x1, box.y1, box.x2, box.y2


def near(actual, expected, tolerance: float) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected))


def boxes_of(window):
    return list(window.current_annotation().boxes)


def test_draw_move_resize_delete_undo_redo(real, open_app, photos, shots_dir):
    window = open_app(photos)
    canvas = window.canvas
    px = 1.5 / canvas.zoom()  # image pixels per screen pixel, with rounding slack
    real.click_at(*real.image_point(canvas, 250, 20))  # focus the canvas (a click on empty image)

    real.key("w")
    real.drag(real.image_point(canvas, 180, 60), real.image_point(canvas, 280, 180))
    real.qtbot.waitUntil(lambda: len(boxes_of(window)) == 2, timeout=5000)
    drawn = boxes_of(window)[1]
    assert drawn.label == "cat" and near(rect(drawn), (180, 60, 280, 180), px)
    real.screenshot(shots_dir / "drawn.png")

    real.key("Escape")  # leaves draw mode: a drag on a box moves it now
    assert not canvas.is_draw_mode()
    real.drag(real.image_point(canvas, 80, 80), real.image_point(canvas, 100, 90))
    moved = boxes_of(window)[0]
    assert near(rect(moved), (60, 50, 140, 130), px), rect(moved)

    real.drag(real.image_point(canvas, 140, 130), real.image_point(canvas, 170, 150))  # bottom-right handle
    assert near(rect(boxes_of(window)[0]), (60, 50, 170, 150), px), rect(boxes_of(window)[0])

    real.key("Delete")
    assert [b.label for b in boxes_of(window)] == ["cat"] and near(rect(boxes_of(window)[0]), rect(drawn), 0)
    real.key("ctrl+z")
    assert len(boxes_of(window)) == 2 and any(near(rect(b), (60, 50, 170, 150), px) for b in boxes_of(window))
    real.key("ctrl+z")  # the resize
    assert any(near(rect(b), (60, 50, 140, 130), px) for b in boxes_of(window))
    real.key("ctrl+shift+z")
    assert any(near(rect(b), (60, 50, 170, 150), px) for b in boxes_of(window))
    real.key("ctrl+y")  # the delete again
    assert len(boxes_of(window)) == 1

    real.key("d")  # next image: leaving saves the edited one
    real.qtbot.waitUntil(lambda: window.current_annotation().image_path.name == "img1.jpg", timeout=5000)
    on_disk = read_voc_xml(photos / "img0.xml").boxes
    assert len(on_disk) == 1 and near(rect(on_disk[0]), rect(drawn), 1)
    real.screenshot(shots_dir / "next-image.png")


def draw_box_on_current_image(real, window, corner_a, corner_b) -> None:
    canvas = window.canvas
    count = len(boxes_of(window))
    real.click_at(*real.image_point(canvas, 300, 230))
    real.key("w")
    real.drag(real.image_point(canvas, *corner_a), real.image_point(canvas, *corner_b))
    real.qtbot.waitUntil(lambda: len(boxes_of(window)) == count + 1, timeout=5000)
    real.key("Escape")


def test_quit_with_unsaved_edits_saves_them(real, open_app, photos):
    window = open_app(photos)
    draw_box_on_current_image(real, window, (150, 150), (250, 220))
    assert window.project.has_unsaved_changes()
    real.key("ctrl+q")
    real.qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert len(read_voc_xml(photos / "img0.xml").boxes) == 2


def test_quit_when_saving_fails_asks_and_cancel_keeps_everything(real, open_app, photos):
    """The label file cannot be written (a folder stands where img1.xml would go: fails for root too). Quitting
    tells once, asks retry / save elsewhere / discard / cancel, and Cancel keeps the window and the edit."""
    window = open_app(photos)
    real.key("d")
    real.qtbot.waitUntil(lambda: window.current_annotation().image_path.name == "img1.jpg", timeout=5000)
    draw_box_on_current_image(real, window, (20, 20), (90, 90))
    blocker = photos / "img1.xml"
    blocker.mkdir()
    try:
        real.answer_dialog("Cannot save labels", ("key", "Return"))  # the non-blocking notice, once
        real.answer_dialog("Could not save labels", ("key", "Escape"))  # Cancel: stay
        real.key("ctrl+q")
        real.finish_background()
        assert window.isVisible() and window.project.has_unsaved_changes()
        assert len(window.current_annotation().boxes) == 1
    finally:
        blocker.rmdir()  # the fixture's close can save now
