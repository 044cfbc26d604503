"""The live view on a generated video, opened from the Live menu with real keys; the model chosen in the real
file dialog by typing its path; Start, frames with boxes and FPS on screen, a snapshot into the project, Stop."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.model.checkpoint import save_checkpoint
from engine.model.config import ModelConfig
from engine.model.weights import build_model


@pytest.fixture
def checkpoint(tmp_path):
    model, _ = build_model(ModelConfig(num_classes=4, backbone="resnet18", image_size=64), "none")
    return save_checkpoint(tmp_path / "tiny.pt", model, ["circle", "square", "triangle", "cross"])


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15.0, (160, 120))
    rng = np.random.default_rng(0)
    for i in range(150):  # 10 s: it plays until stopped
        frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
        cv2.circle(frame, (40 + i % 80, 60), 20, (0, 0, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def test_live_view_on_a_video_with_a_snapshot(real, open_app, sample_copy, checkpoint, video, shots_dir):
    window = open_app(sample_copy)
    images_before = len(window.project.annotations)
    real.key("alt+l")
    real.key("Return")  # the menu's first entry: Live View (Camera/Video/URL)…
    feature = next(f for f in window.features if type(f).__name__ == "LiveFeature")
    real.qtbot.waitUntil(lambda: feature.live_view is not None and feature.live_view.isVisible(), timeout=5000)
    view = feature.live_view
    real.qtbot.waitExposed(view)
    real.xdotool("windowactivate", "--sync", int(view.winId()))

    browse = next(b for b in view.checkpoint.findChildren(type(view.start_button)) if b.text() == "Browse…")
    real.answer_dialog("Choose a ResYOLO checkpoint", ("type", str(checkpoint)), ("key", "Return"))
    real.click(browse)
    real.finish_background()
    assert view.checkpoint.checkpoint() == checkpoint

    real.click(view.source_edit)
    real.key("ctrl+a")
    real.type(str(video))
    real.click(view.start_button)
    real.qtbot.waitUntil(lambda: view.last_stats.frames >= 5, timeout=30_000)
    assert view.is_running() and view.start_button.text() == "Stop"
    real.screenshot(shots_dir / "live-view.png")

    real.click(view.snapshot_button)
    real.qtbot.waitUntil(lambda: len(window.project.annotations) == images_before + 1, timeout=10_000)
    real.click(view.start_button)  # Stop
    real.qtbot.waitUntil(lambda: not view.is_running(), timeout=10_000)
    assert view.start_button.text() == "Start"
