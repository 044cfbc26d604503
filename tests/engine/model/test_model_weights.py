"""Model shapes, weight loading (hub cache, local file, offline fallback) and checkpoints."""
import logging
import pickle

import pytest
import torch
from torchvision import models

from engine.model.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint, save_checkpoint
from engine.model.config import ModelConfig
from engine.model.weights import build_model, imagenet_cache_path

SMALL = ModelConfig(num_classes=3, backbone="resnet18", image_size=64)


@pytest.mark.parametrize("backbone,size,boxes", [("resnet18", 64, 2), ("resnet34", 96, 3), ("resnet50", 64, 2)])
def test_output_shape_follows_configuration(backbone, size, boxes):
    config = ModelConfig(num_classes=5, backbone=backbone, image_size=size, boxes_per_cell=boxes)
    model, _ = build_model(config, "none")
    model.eval()
    with torch.inference_mode():
        out = model(torch.rand(2, 3, size, size))
    s = size // 32
    assert out.shape == (2, s, s, boxes * 5 + 5)
    assert out.min() >= 0 and out.max() <= 1


def test_configuration_is_validated():
    with pytest.raises(ValueError, match="multiple of 32"):
        ModelConfig(image_size=450)
    with pytest.raises(ValueError, match="unknown backbone"):
        ModelConfig(backbone="vgg16")


def fake_resnet18_state(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    return models.resnet18(weights=None).state_dict()


def test_imagenet_weights_load_from_the_torch_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("RESYOLO_OFFLINE", "1")  # must not need the network when the file is cached
    state = fake_resnet18_state()
    path = imagenet_cache_path("resnet18")
    assert str(path).startswith(str(tmp_path))
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    model, report = build_model(SMALL, "imagenet")
    assert report.source == "imagenet" and report.loaded
    assert torch.equal(model.backbone[0].weight, state["conv1.weight"])
    assert torch.equal(model.backbone[7][1].bn2.running_var, state["layer4.1.bn2.running_var"])


def test_weights_from_a_local_resnet_file(tmp_path):
    state = fake_resnet18_state(seed=3)
    path = tmp_path / "my_resnet18.pth"
    torch.save(state, path)
    model, report = build_model(SMALL, path)
    assert report.source == "file"
    assert torch.equal(model.backbone[4][0].conv1.weight, state["layer1.0.conv1.weight"])


def test_a_resnet_file_of_another_depth_is_refused_clearly(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "r34.pth"
    torch.save(models.resnet34(weights=None).state_dict(), path)
    with pytest.raises(ValueError, match="does not"):
        build_model(SMALL, path)


def test_offline_without_cached_weights_warns_once_and_starts_random(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("RESYOLO_OFFLINE", "1")
    with caplog.at_level(logging.WARNING, logger="resyolo"):
        model, report = build_model(SMALL, "imagenet")
    assert not report.loaded and report.source == "random"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(imagenet_cache_path("resnet18")) in warnings[0].getMessage()


def test_checkpoint_round_trip_gives_the_same_outputs(tmp_path):
    model, _ = build_model(SMALL, "none")
    model.eval()
    ema = {k: v + 1 if v.is_floating_point() else v for k, v in model.state_dict().items()}
    path = save_checkpoint(tmp_path / "run" / "last.pt", model, ["a", "b", "c"], ema=ema, epoch=4, metrics={"map50": 0.5})
    state = load_checkpoint(path)
    assert state["model_config"] == SMALL and state["class_names"] == ["a", "b", "c"] and state["epoch"] == 4
    plain, names, _ = model_from_checkpoint(path, use_ema=False)
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        assert torch.equal(plain(x), model(x))
    averaged, _, _ = model_from_checkpoint(path)  # EMA weights by default
    assert torch.equal(averaged.head[0].weight, model.head[0].weight + 1)


def test_checkpoint_as_starting_weights_keeps_what_fits(tmp_path):
    model, _ = build_model(SMALL, "none")
    path = save_checkpoint(tmp_path / "c.pt", model, ["a", "b", "c"])
    other_classes = ModelConfig(num_classes=5, backbone="resnet18", image_size=64)
    fresh, report = build_model(other_classes, path)
    assert report.source == "checkpoint" and "kept random" in report.message
    assert torch.equal(fresh.neck[0].body[0].weight, model.neck[0].body[0].weight)


class Evil:
    def __reduce__(self):
        return (print, ("owned",))


@pytest.mark.parametrize(
    "content,match",
    [
        (b"not a checkpoint at all", "not a readable PyTorch file"),
        (pickle.dumps(Evil()), "not a readable PyTorch file"),
    ],
)
def test_files_that_are_not_checkpoints_give_clear_errors(tmp_path, content, match):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path)


def test_arbitrary_objects_are_never_unpickled(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "resyolo-checkpoint", "payload": Evil()}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert "owned" not in capsys.readouterr().out


def test_plain_state_dict_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "sd.pt"
    torch.save({"w": torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match="not a ResYOLO checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "missing.pt")
