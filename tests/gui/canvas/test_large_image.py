"""Big photos: a 20000 x 15000 JPEG opens while the event loop keeps running, and a quick preview comes
first and is then swapped for the full-resolution image without disturbing what is on the canvas."""
from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRectF, QTimer

from engine.annotations.records import Box
from engine.project.project import Project
from resyolo_gui.labelling.loader import MAX_DISPLAY_SIDE, ImageLoader
from resyolo_gui.main_window import MainWindow
from resyolo_gui.settings import AppSettings


@pytest.fixture(scope="module")
def huge_photo_folder(tmp_path_factory):
    """One 20000 x 15000 JPEG, made once (about 1.5 s): mostly zeros, so the array costs little to build."""
    folder = tmp_path_factory.mktemp("huge")
    pixels = np.zeros((15000, 20000, 3), np.uint8)
    for x in range(0, 20000, 1000):
        cv2.rectangle(pixels, (x, x * 3 // 4), (x + 400, x * 3 // 4 + 300), (0, 128, 255), -1)
    assert cv2.imwrite(str(folder / "huge.jpg"), pixels, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return folder


def test_huge_photo_opens_without_blocking_the_event_loop(huge_photo_folder, qtbot):
    window = MainWindow(None, AppSettings())
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    ticks: list[float] = []
    timer = QTimer(interval=10, timeout=lambda: ticks.append(time.perf_counter()))
    timer.start()
    window.set_project(Project.open(huge_photo_folder))
    qtbot.waitUntil(lambda: window.canvas.shown_size() == (MAX_DISPLAY_SIDE, 6144), timeout=20000)
    timer.stop()
    window.loader.wait_for_done()

    longest_gap = max(np.diff(ticks))
    assert len(ticks) > 20 and longest_gap < 0.2, f"the event loop stalled for {longest_gap * 1000:.0f} ms"
    ann = window.current_annotation()
    assert (ann.width, ann.height) == (20000, 15000)
    assert window.canvas.image_rect() == QRectF(0, 0, 20000, 15000)  # boxes stay in full-resolution pixels


def test_preview_then_full_image_keeps_boxes_zoom_and_undo(tmp_path, qtbot):
    photo = tmp_path / "photo.jpg"
    pixels = np.zeros((1200, 1600, 3), np.uint8)
    cv2.rectangle(pixels, (100, 100), (700, 500), (255, 255, 255), -1)
    assert cv2.imwrite(str(photo), pixels)
    loader = ImageLoader()
    emitted = []
    loader.preview_loaded.connect(lambda *args: emitted.append(("preview", *args)))
    loader.loaded.connect(lambda *args: emitted.append(("full", *args)))
    with qtbot.waitSignal(loader.loaded, timeout=5000):
        loader.request(photo, preview_size=(400, 300))
    assert [kind for kind, *_ in emitted] == ["preview", "full"]
    (_, preview_path, preview, preview_full_size), (_, path, image, full_size, message) = emitted
    assert preview_path == path == str(photo) and message == ""
    assert (preview.width(), preview.height()) == (400, 300)  # a 1/4-scale decode: still fills 400 x 300
    assert (image.width(), image.height()) == preview_full_size == full_size == (1600, 1200)
    assert loader.cached(photo)[0] is image  # only the full image is kept
    loader.wait_for_done()

    from resyolo_gui.canvas import AnnotationCanvas

    project = Project.open(tmp_path)
    project.classes.add("cat")
    ann = project.annotations[0]
    canvas = AnnotationCanvas()
    qtbot.addWidget(canvas)
    canvas.set_image(preview, ann, project, display_scale=0.25)
    canvas.add_box(QRectF(100, 100, 600, 400))
    canvas.set_zoom(0.5)
    canvas.replace_image(image)
    assert canvas.shown_size() == (1600, 1200) and canvas.image_rect() == QRectF(0, 0, 1600, 1200)
    assert canvas.zoom() == 0.5 and ann.boxes == [Box("cat", 100, 100, 700, 500)]
    canvas.undo_stack().undo()  # the edit made on the preview is still undoable
    assert ann.boxes == []


def test_small_images_and_non_jpegs_get_no_preview(tmp_path, qtbot):
    from PIL import Image

    Image.new("RGB", (1600, 1200), "red").save(tmp_path / "big.png")
    Image.new("RGB", (500, 400), "red").save(tmp_path / "small.jpg")
    loader = ImageLoader()
    previews = []
    loader.preview_loaded.connect(lambda *args: previews.append(args))
    for name in ("big.png", "small.jpg"):
        with qtbot.waitSignal(loader.loaded, timeout=5000):
            loader.request(tmp_path / name, preview_size=(400, 300))
    loader.wait_for_done()
    assert previews == []
