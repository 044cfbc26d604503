"""Live menu: the live view on a generated video (frames, FPS, recording, snapshot, missing camera), with a tiny
random model (Detect on a Folder is tests/gui/folder_detection)."""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from engine.model.checkpoint import save_checkpoint
from engine.model.config import ModelConfig
from engine.model.weights import build_model

CLASSES = ["cat", "dog"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64), "none")
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", model, CLASSES)


def write_video(path: Path, frames: int) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (96, 64))
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "clip.mp4", 90)  # 3 s: long enough to record in


def live_feature(window):
    from resyolo_gui.live.feature import LiveFeature

    return next(f for f in window.features if isinstance(f, LiveFeature))


def start_view(feature, checkpoint, source, qtbot):
    view = feature.show_live_view()
    qtbot.waitExposed(view)
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(source))
    assert view.start(), view.status.text()
    qtbot.waitUntil(lambda: view.last_stats.frames >= 3, timeout=10000)
    return view


def test_live_menu_has_both_actions(open_window, image_folder):
    window = open_window(image_folder)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Live")
    assert [a.text() for a in menu.actions()] == ["Live View (Camera/Video/URL)…", "Detect on a Folder…"]
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Live") < titles.index("&Help")


def test_live_view_shows_frames_with_fps_and_records(open_window, image_folder, checkpoint, video, tmp_path, qtbot):
    window = open_window(image_folder)
    view = start_view(live_feature(window), checkpoint, video, qtbot)
    assert view.picture.image() is not None and not view.picture.image().isNull()
    assert "FPS" in view.status.text() and "latency" in view.status.text()
    record = tmp_path / "rec.mp4"
    view.start_recording(record)
    qtbot.waitUntil(lambda: view.last_stats.recorded_frames >= 5, timeout=10000)
    view.stop()
    assert not view.is_running() and view.start_button.text() == "Start"
    capture = cv2.VideoCapture(str(record))
    frames = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames += 1
        assert frame.shape == (64, 96, 3)
    assert frames >= 5


def test_snapshot_adds_an_image_to_the_project(open_window, image_folder, checkpoint, video, qtbot):
    window = open_window(image_folder)
    feature = live_feature(window)
    view = start_view(feature, checkpoint, video, qtbot)
    before = len(window.project.annotations)
    ann = view.snapshot()
    view.stop()
    assert ann is not None and Path(ann.image_path).parent == window.project.folder
    assert Path(ann.image_path).is_file() and (ann.width, ann.height) == (96, 64)
    assert len(window.project.annotations) == before + 1 and ann.boxes == []  # proposals are not labels
    assert window.browser.model.rowCount() == before + 1
    assert Path(ann.image_path) in feature.snapshot_detections
    detect = next(f for f in window.features if hasattr(f, "store"))  # the Detect feature's proposal store
    entry = detect.store.entry(ann.image_path)
    assert entry is not None and entry.size == (96, 64) and entry.mapping.model_names == CLASSES
    found = len(feature.snapshot_detections[Path(ann.image_path)].scores)
    assert len(entry.decoded(0.25, 0.5)) == found  # project classes cat, dog: nothing dropped
    # Re-decoded from the kept raw output, but never below the live view's threshold (0.25): the snapshot
    # proposes what the live view showed.
    assert len(entry.decoded(0.01, 0.5)) == found
    second = view.snapshot()  # not running any more: nothing saved, a message instead
    assert second is None and "running" in view.status.text()


def test_live_view_and_snapshot_with_an_anchor_free_model(open_window, image_folder, video, tmp_path, qtbot):
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64, head="anchor_free"), "none")
    checkpoint = save_checkpoint(tmp_path / "anchor_free.pt", model, CLASSES)
    window = open_window(image_folder)
    feature = live_feature(window)
    view = start_view(feature, checkpoint, video, qtbot)
    assert "FPS" in view.status.text()
    ann = view.snapshot()
    view.stop()
    detect = next(f for f in window.features if hasattr(f, "store"))
    entry = detect.store.entry(ann.image_path)
    assert entry is not None and entry.output.shape == (1, 84, 6)  # the head's own output, kept for re-decoding
    assert len(entry.decoded(0.0, 0.5)) > 0


def test_video_played_to_the_end_stops_by_itself(qtbot, checkpoint, tmp_path):
    from resyolo_gui.live.live_view import LiveView

    view = LiveView()
    qtbot.addWidget(view)
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(write_video(tmp_path / "short.mp4", 20)))
    view.every_frame.setChecked(True)  # every one of the frames, as fast as the model goes
    with qtbot.waitSignal(view.stopped, timeout=20000) as stopped:
        assert view.start()
    assert stopped.args == ["end of video"]
    assert view.last_stats.frames == 20 and view.last_stats.dropped == 0
    assert "end of video" in view.status.text()


def test_two_frames_in_flight_never_show_or_record_an_older_frame_after_a_newer_one(qtbot, checkpoint, tmp_path,
                                                                                    monkeypatch):
    from engine.inference.detector import Detector
    from resyolo_gui.live.live_view import LiveView

    forward, calls = Detector.forward, []

    def first_call_slow(self, batch):  # the stream that took the first frame falls behind the other one
        calls.append(None)
        if len(calls) == 1:
            time.sleep(0.5)
        return forward(self, batch)

    monkeypatch.setattr(Detector, "forward", first_call_slow)

    source = tmp_path / "ramp.mp4"  # frame i is a flat grey of 20 + 2 i: its brightness tells its place in time
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"mp4v"), 60.0, (96, 64))
    for i in range(90):
        writer.write(np.full((64, 96, 3), 20 + 2 * i, np.uint8))
    writer.release()
    view = LiveView()
    qtbot.addWidget(view)
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(source))
    with qtbot.waitSignal(view.stopped, timeout=20000):
        assert view.start()
        qtbot.waitUntil(lambda: view.thread.plan is not None)  # the worker loads the model first
        streams = view.thread.plan.streams
        assert streams == (2 if torch.get_num_threads() >= 2 else 1)
        view.start_recording(tmp_path / "rec.avi")
    assert (view.last_stats.late >= 1) == (streams == 2)  # the slow first frame came too late: not shown
    capture = cv2.VideoCapture(str(tmp_path / "rec.avi"))
    levels = []
    while (frame := capture.read()[1]) is not None:
        levels.append(float(np.median(frame[32:])))  # below the status text; boxes are thin lines
    assert len(levels) >= 3
    assert all(b >= a - 3 for a, b in zip(levels, levels[1:])), levels


def test_a_failing_model_stops_every_stream_with_its_error_shown(qtbot, checkpoint, video, monkeypatch):
    from engine.inference.detector import Detector
    from resyolo_gui.live.live_view import LiveView

    def broken(self, batch):
        raise RuntimeError("out of memory while running the model")

    monkeypatch.setattr(Detector, "forward", broken)
    view = LiveView()
    qtbot.addWidget(view)
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(video))
    with qtbot.waitSignal(view.stopped, timeout=10000) as stopped:
        assert view.start()
        thread = view.thread
    assert stopped.args == ["stopped by an error: RuntimeError: out of memory while running the model"]
    assert "out of memory while running the model" in view.status.text()
    assert thread.wait(5000) and not view.is_running() and view.start_button.text() == "Start"


def test_the_model_loads_on_the_worker_and_is_kept_for_the_next_start(qtbot, checkpoint, video, tmp_path):
    from resyolo_gui.live.live_view import LiveView

    view = LiveView()
    qtbot.addWidget(view)
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(video))
    assert view.start()
    assert "Loading tiny.pt" in view.status.text()  # Start returned before the model was loaded
    qtbot.waitUntil(lambda: view._detector is not None, timeout=10000)  # model_ready reached the view
    loaded = view._detector
    assert loaded is view.thread.detector
    assert "at a time" in view.status.text() or "FPS" in view.status.text()  # frames may have followed at once
    qtbot.waitUntil(lambda: view.last_stats.frames >= 1, timeout=10000)
    view.stop()
    assert view.start()
    assert view.thread.detector is loaded and view.thread.plan is not None  # no second load
    view.stop()
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint at all")
    view.checkpoint.set_checkpoint(broken)
    with qtbot.waitSignal(view.stopped, timeout=10000) as stopped:
        assert view.start()
    assert stopped.args[0].startswith("cannot load the checkpoint: ") and "broken.pt" in stopped.args[0]
    assert "cannot load the checkpoint" in view.status.text() and not view.is_running()
    assert view.picture.image() is None and "broken.pt" in view.picture.message()


def test_low_latency_and_every_frame_process_one_frame_at_a_time(qtbot, checkpoint, video):
    from resyolo_gui.live.live_view import LiveView

    view = LiveView()
    qtbot.addWidget(view)
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(video))
    for box in (view.low_latency, view.every_frame):
        box.setChecked(True)
        assert view.start()
        qtbot.waitUntil(lambda: view.thread.plan is not None)
        assert view.thread.plan.streams == 1 and not box.isEnabled()
        view.stop()
        box.setChecked(False)
        assert box.isEnabled()


def test_missing_camera_and_missing_checkpoint_are_explained(qtbot, checkpoint, tmp_path):
    from resyolo_gui.live.live_view import LiveView

    view = LiveView()
    qtbot.addWidget(view)
    view.source_edit.setText("97")
    assert not view.start()
    assert "Choose a checkpoint" in view.status.text()
    view.checkpoint.set_checkpoint(checkpoint)
    assert not view.start()
    assert "camera 97 could not be opened: missing or busy" in view.status.text()
    assert not view.is_running()
    view.checkpoint.set_checkpoint(tmp_path / "gone.pt")
    assert not view.start() and "gone.pt" in view.status.text()


def test_frame_view_paints_the_frame_fitted_in_its_own_colours(qtbot):
    from PySide6.QtCore import QRect

    from resyolo_gui.live.frame_view import FrameView, frame_for_display

    frame = np.zeros((60, 120, 3), np.uint8)  # RGB: red left half, blue right half
    frame[:, :60] = (255, 0, 0)
    frame[:, 60:] = (0, 0, 255)
    view = FrameView("waiting")
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    qtbot.waitExposed(view)
    for size in (None, view.pixel_size()):  # scaled when painted; made to measure by the worker
        view.set_image(frame_for_display(frame, size))
        assert view.image_rect() == QRect(0, 100, 400, 200)  # aspect 2:1 kept, centred
        shot = view.grab().toImage()
        assert shot.pixelColor(100, 200).getRgb()[:3] == (255, 0, 0)
        assert shot.pixelColor(300, 200).getRgb()[:3] == (0, 0, 255)
        assert shot.pixelColor(200, 20).getRgb()[:3] == (0x20, 0x20, 0x20)  # the band above the frame
    assert (view.image().width(), view.image().height()) == (400, 200)
    view.resize(700, 240)  # now bands left and right; the frame is scaled by Qt until the next one fits
    qtbot.waitUntil(lambda: view.width() == 700)
    shot = view.grab().toImage()
    assert view.image_rect() == QRect(110, 0, 480, 240)
    assert shot.pixelColor(50, 120).getRgb()[:3] == shot.pixelColor(650, 120).getRgb()[:3] == (0x20, 0x20, 0x20)
    assert shot.pixelColor(150, 120).getRgb()[:3] == (255, 0, 0)
    assert (frame_for_display(frame, (60, 1000)).width(), frame_for_display(frame, (60, 1000)).height()) == (60, 30)
    view.set_message("Cannot open camera 0")
    assert view.image() is None and view.message() == "Cannot open camera 0"


def fixed_live_output(detections):
    """Raw output of the 64-pixel, 2-class model (2 x 2 grid, 2 boxes a cell) with ``detections`` =
    (cx, cy, w, h, confidence, class) in fractions of the frame, one per cell."""
    def forward(self, batch):
        out = torch.zeros(len(batch), 2, 2, 12)
        for cx, cy, w, h, conf, label in detections:
            col, row = int(cx * 2), int(cy * 2)
            out[:, row, col, :5] = torch.tensor([cx * 2 - col, cy * 2 - row, w, h, conf])
            out[:, row, col, 10 + label] = 1.0
        return out
    return forward


def test_live_confidence_slider_filters_the_detections_and_is_remembered(qtbot, checkpoint, video, tmp_path,
                                                                         monkeypatch):
    from engine.inference.detector import Detector
    from resyolo_gui.live.live_view import LiveView
    from resyolo_gui.settings import AppSettings

    monkeypatch.setattr(Detector, "forward", fixed_live_output([(0.25, 0.25, 0.3, 0.3, 0.9, 0),
                                                                (0.75, 0.75, 0.3, 0.3, 0.4, 1)]))
    settings_file = tmp_path / "settings.ini"
    view = LiveView(settings=AppSettings(settings_file))
    qtbot.addWidget(view)
    view.show()
    assert view.conf_slider.value() == 25 and view.conf_value.text() == "0.25"
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(video))
    assert view.start(), view.status.text()
    qtbot.waitUntil(lambda: view.thread.last_frame() is not None, timeout=10000)
    scores = view.thread.last_frame()[1].scores.tolist()
    assert sorted(round(s, 2) for s in scores) == [0.4, 0.9]

    view.conf_slider.setValue(50)  # while running: from the next frame on
    assert view.conf_value.text() == "0.50"
    qtbot.waitUntil(lambda: [round(s, 2) for s in view.thread.last_frame()[1].scores.tolist()] == [0.9],
                    timeout=10000)
    view.stop()
    view.close()

    again = LiveView(settings=AppSettings(settings_file))  # a later session
    qtbot.addWidget(again)
    assert again.conf_slider.value() == 50 and again.conf_value.text() == "0.50"


def test_a_snapshot_keeps_only_what_the_live_view_showed(open_window, image_folder, checkpoint, video, qtbot,
                                                         monkeypatch):
    from engine.inference.detector import Detector

    monkeypatch.setattr(Detector, "forward", fixed_live_output([(0.25, 0.25, 0.3, 0.3, 0.9, 0),
                                                                (0.75, 0.75, 0.3, 0.3, 0.4, 1)]))
    window = open_window(image_folder)
    feature = live_feature(window)
    view = feature.show_live_view()
    view.settings = None  # this test's threshold is not for the other tests' sessions
    view.conf_slider.setValue(60)
    view = start_view(feature, checkpoint, video, qtbot)
    ann = view.snapshot()
    assert ann is not None and "(1 cat as proposals)" in view.status.text()
    view.stop()
    assert feature.snapshot_detections[Path(ann.image_path)].scores.tolist() == pytest.approx([0.9])
    detect = next(f for f in window.features if hasattr(f, "store"))
    entry = detect.store.entry(ann.image_path)
    assert [p.box.label for p in entry.decoded(0.25, 0.5)] == ["cat"]  # the Detect panel's 0.25 adds no dog
    view.close()


def tag_rows(image, color: tuple[int, int, int], above_y: int) -> int:
    """The height of the tag (filled in ``color``) above row ``above_y`` of a Format_RGB32 QImage: from the first
    to the last row holding a dozen pixels of about that colour."""
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())[:, :width * 4]
    rgb = pixels.reshape(height, width, 4)[:, :, 2::-1].astype(int)
    near = (np.abs(rgb - np.array(color)) <= 40).all(axis=2).sum(axis=1)[:above_y]
    rows = np.flatnonzero(near >= 12)
    return int(rows[-1] - rows[0] + 1) if len(rows) else 0


@pytest.mark.parametrize("frame_size", [(160, 120), (320, 240), (1920, 1080)])
def test_live_labels_are_sized_for_the_screen_whatever_the_frame_size(qtbot, checkpoint, tmp_path, monkeypatch,
                                                                      frame_size):
    from engine.inference.draw import class_color
    from engine.inference.detector import Detector
    from resyolo_gui.live.live_view import LiveView

    width, height = frame_size
    path = tmp_path / "frames.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (width, height))
    for _ in range(8):
        writer.write(np.full((height, width, 3), 40, np.uint8))
    writer.release()
    monkeypatch.setattr(Detector, "forward", fixed_live_output([(0.75, 0.75, 0.3, 0.3, 0.9, 0)]))
    view = LiveView()
    qtbot.addWidget(view)
    view.resize(900, 680)
    view.show()
    qtbot.waitExposed(view)
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(path))
    view.every_frame.setChecked(True)
    with qtbot.waitSignal(view.stopped, timeout=30000):
        assert view.start()
    image = view.picture.image()
    assert image is not None and view.picture.image_rect().width() >= 600  # shown large: a 320 x 240 one scaled up
    box_top = round(0.6 * image.height())
    rows = tag_rows(image, class_color(0), box_top - 3)
    # Text of 11 to 17 screen pixels (was: drawn on the frame, then scaled with it: 24 pixels high for a 320 x 240
    # camera, 48 for 160 x 120, covering small boxes).
    assert 11 <= rows <= 20, f"a {width} x {height} frame's tag is {rows} screen pixels high"
