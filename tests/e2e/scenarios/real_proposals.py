"""Model-assisted labelling with real input: Detect > Choose model… from the keyboard, the model typed into the real
file dialog, a slider of the Detection panel touched with the mouse and the arrow keys, proposals with Ctrl+R, and
Enter accepting the chosen proposal while the slider still has the focus (it did nothing there before)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from engine.annotations.records import Box, ImageAnnotation
from engine.annotations.voc import write_voc_xml
from engine.model.checkpoint import save_checkpoint
from engine.model.config import ModelConfig
from engine.inference.detector import Detector
from engine.model.weights import build_model

W, H = 320, 240
# (cx, cy, w, h, confidence, class) as fractions of the image, one per cell of the 64-pixel recipe model (2 x 2).
DETECTIONS = [(0.75, 0.25, 0.3, 0.3, 0.9, 0), (0.75, 0.75, 0.2, 0.2, 0.4, 1)]


def fixed_output(batch_size: int) -> torch.Tensor:
    out = torch.zeros(batch_size, 2, 2, 12)
    for cx, cy, w, h, conf, label in DETECTIONS:
        col, row = int(cx * 2), int(cy * 2)
        out[:, row, col, :5] = torch.tensor([cx * 2 - col, cy * 2 - row, w, h, conf])
        out[:, row, col, 10 + label] = 1.0
    return out


@pytest.fixture
def checkpoint(tmp_path, monkeypatch):
    """A tiny real checkpoint of the recipe head whose network output is fixed, so the proposals are known."""
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64, head="recipe"), "none")
    monkeypatch.setattr(Detector, "forward", lambda self, batch: fixed_output(len(batch)))
    return save_checkpoint(tmp_path / "model" / "tiny.pt", model, ["cat", "dog"], epoch=3)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.full((H, W, 3), 80 + 60 * i, np.uint8)).save(folder / f"img{i}.jpg")
    write_voc_xml(ImageAnnotation(folder / "img0.jpg", W, H, [Box("cat", 10, 10, 80, 90)]))
    write_voc_xml(ImageAnnotation(folder / "img1.jpg", W, H, [Box("dog", 10, 10, 80, 90)]))  # the model's classes
    return folder


def test_enter_accepts_a_proposal_after_touching_a_slider(real, open_app, photos, checkpoint, shots_dir):
    window = open_app(photos)
    feature = next(f for f in window.features if type(f).__name__ == "DetectionFeature")
    ann, layer = window.current_annotation(), window.canvas.proposal_layer
    real.answer_dialog("Choose a ResYOLO checkpoint", ("type", str(checkpoint)), ("key", "Return"))
    real.key("alt+d")
    real.key("Return")  # the Detect menu's first entry: Choose model… (opens the Detect workspace)
    real.finish_background()
    real.qtbot.waitUntil(lambda: feature.picker.current_checkpoint() == checkpoint, timeout=10_000)
    assert window.workspaces.current == "Detect" and feature.dock.isVisible()

    real.key("ctrl+r")  # proposals for this image
    real.qtbot.waitUntil(lambda: len(layer.proposals()) == 2, timeout=30_000)
    cat = next(item for item in layer.items() if item.proposal.box.label == "cat")
    real.click_at(*real.image_point(window.canvas, cat.rect().center().x(), cat.rect().center().y()))
    real.qtbot.waitUntil(lambda: layer.active() is cat.proposal, timeout=5000)  # the person picks the cat...
    slider = feature.panel.conf_slider
    real.click(slider)  # ...touches the confidence slider...
    real.key("Home")  # ...and moves it down to its lowest value with the keyboard
    real.qtbot.waitUntil(lambda: slider.value() == slider.minimum(), timeout=5000)
    assert slider.hasFocus() and len(layer.proposals()) == 2
    real.screenshot(shots_dir / "proposals-slider.png")

    real.key("Return")  # accept the active proposal, focus still on the slider
    real.qtbot.waitUntil(lambda: len(ann.boxes) == 2, timeout=5000)
    assert {b.label for b in ann.boxes} == {"cat"} and len(layer.proposals()) == 1
    real.key("Escape")  # and reject the rest
    real.qtbot.waitUntil(lambda: layer.proposals() == [], timeout=5000)
    assert len(ann.boxes) == 2 and window.project.is_dirty(ann)
