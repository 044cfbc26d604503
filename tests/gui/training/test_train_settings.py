"""The Train form remembers its settings per project (in the project's project.json, through the engine) and
does not move under the mouse when a choice shows or hides something."""
from __future__ import annotations

import json

import pytest

from engine.data.synth import generate_dataset


@pytest.fixture
def training_window(open_window, monkeypatch):
    from resyolo_gui import features

    monkeypatch.setattr(features, "FEATURE_PACKAGES", ["resyolo_gui.training"])

    def open_(folder):
        from resyolo_gui.training.controller import TrainingFeature

        window = open_window(folder)
        return window, next(f for f in window.features if isinstance(f, TrainingFeature))

    return open_


@pytest.fixture
def two_projects(tmp_path):
    folders = []
    for name in ("shapes", "other"):
        generate_dataset(tmp_path / name, num_images=4, num_classes=2, seed=0, image_size=(64, 64))
        folders.append(tmp_path / name)
    return folders


def set_form(panel):
    panel.verified_only.setChecked(True)
    panel.val_mode.setCurrentIndex(panel.val_mode.findData("split"))
    panel.val_fraction.setValue(35)
    panel.split_seed.setValue(7)
    panel.backbone.setCurrentText("resnet18")
    panel.image_size.setValue(320)
    panel.weights.setCurrentIndex(panel.weights.findData("none"))
    panel.epochs.setValue(12)
    panel.batch_size.setValue(3)
    panel.lr.setValue(0.0005)
    panel.ema.setChecked(False)
    panel.eval_every.setValue(2)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    panel.workers.setValue(1)


def test_the_train_form_is_remembered_per_project_between_sessions(training_window, two_projects):
    shapes, other = two_projects
    window, feature = training_window(shapes)
    defaults = feature.panel.values()
    set_form(feature.panel)
    chosen = feature.panel.values()
    assert chosen != defaults
    window.close()  # quitting remembers the form in the project
    on_disk = json.loads((shapes / ".resyolo" / "project.json").read_text())
    assert on_disk["train"] == chosen

    window, feature = training_window(shapes)  # the next session
    assert feature.panel.values() == chosen
    window.open_folder(other)  # another project: its own (here: the defaults), not the last one's
    assert feature.panel.values() == defaults
    feature.panel.epochs.setValue(3)
    window.open_folder(shapes)
    assert feature.panel.values() == chosen
    window.open_folder(other)
    assert feature.panel.epochs.value() == 3


def _positions(panel):
    fields = (panel.verified_only, panel.val_mode, panel.val_fraction, panel.split_seed, panel.val_folder,
              panel.backbone, panel.image_size, panel.weights, panel.epochs, panel.batch_size, panel.lr, panel.ema,
              panel.eval_every, panel.device, panel.workers)
    return {f.objectName() or type(f).__name__ + str(i): (f.mapTo(panel, f.rect().topLeft()).toTuple(), f.size().toTuple())
            for i, f in enumerate(fields)}


def test_changing_the_backbone_or_the_validation_moves_no_field(training_window, two_projects, qtbot, monkeypatch,
                                                                tmp_path):
    """ImageNet weights present for one backbone and not another: the weights fall back to random and its
    warning appears; hiding and showing rows moved every field below it under the mouse."""
    from resyolo_gui.training import panel as panel_module

    cached = tmp_path / "resnet50-imagenet.pth"
    cached.write_bytes(b"x")
    monkeypatch.setattr(panel_module, "imagenet_cache_path",
                        lambda backbone: cached if backbone == "resnet50" else tmp_path / "missing.pth")
    window, feature = training_window(two_projects[0])
    feature.show_panel()
    panel = feature.panel
    panel.backbone.setCurrentText("resnet50")
    panel.weights.setCurrentIndex(panel.weights.findData("imagenet"))
    qtbot.waitUntil(lambda: panel.isVisible())
    qtbot.wait(20)
    before = _positions(panel)
    assert not panel.weights_warning.isVisible()

    panel.backbone.setCurrentText("resnet18")  # no ImageNet weights here: random, with its warning
    qtbot.wait(20)
    assert panel.weights.currentData() == "none" and panel.weights_warning.isVisible()
    assert _positions(panel) == before

    for mode in ("folder", "none", "split"):
        panel.val_mode.setCurrentIndex(panel.val_mode.findData(mode))
        qtbot.wait(20)
        assert _positions(panel) == before, mode
        assert panel.val_folder.isEnabled() == (mode == "folder") and panel.val_fraction.isEnabled() == (mode == "split")


@pytest.mark.parametrize("gpu", [True, False])
def test_the_device_list_waits_for_the_panel_and_keeps_a_remembered_device(qtbot, monkeypatch, gpu):
    """The devices are asked of torch when the panel is first shown (labelling loads no torch); a device the
    project remembers ("cuda") is kept meanwhile, and chosen once listed where there is one (else Auto stays)."""
    import torch

    from resyolo_gui.training.panel import TrainPanel

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Test GPU")
    panel = TrainPanel()
    qtbot.addWidget(panel)
    assert [panel.device.itemData(i) for i in range(panel.device.count())] == ["auto", "cpu"]  # not listed yet
    panel.apply_values({"device": "cuda"})
    assert panel.values()["device"] == "cuda"  # not lost to a list that has not been made
    panel.show()
    qtbot.waitExposed(panel)
    listed = [panel.device.itemData(i) for i in range(panel.device.count())]
    assert listed == (["auto", "cpu", "cuda"] if gpu else ["auto", "cpu"])
    assert panel.device.itemText(0) == ("Auto (Test GPU)" if gpu else "Auto (CPU)")
    assert panel.values()["device"] == ("cuda" if gpu else "auto")
    assert panel.train_settings()["device"] == panel.values()["device"]
