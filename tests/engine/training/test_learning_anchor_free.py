"""The anchor-free head learns, and its learning test is a real test: the same short run with the assignment or
the loss broken stays below the bars.

A resnet18 at 128 px from random weights, 80 generated training images, batch 8, the modern preset (AdamW, warm-up,
cosine, mosaic closed for the last epochs, EMA) for a few epochs. Figures measured on this 2-core CPU are in the
README ("Learning test"); the bars sit between the working run and the broken ones.
"""
from __future__ import annotations

import pytest
import torch

from engine.annotations.folder import load_folder
from engine.model.assigner import TaskAlignedAssigner
from engine.model.config import ModelConfig
from engine.data.dataset import DetectionDataset
from engine.data.split import split_train_val
from engine.data.synth import generate_dataset
from engine.training.trainer import Trainer
from engine.training.config import TrainConfig
from engine.model.weights import build_model

MAP50_BAR = 0.20  # VOC07 mAP@0.5, best of plain and EMA weights
COCO_MAP_BAR = 0.06  # mAP@[.5:.95]
SIZE, EPOCHS, IMAGES, BATCH = 128, 5, 100, 8


class SwappedPointsAssigner(TaskAlignedAssigner):
    """Broken assignment: the points' x and y swapped (a meshgrid in the wrong order), so objects are given
    points elsewhere in the picture."""

    def __call__(self, pred_scores, pred_boxes, points, *args):
        return super().__call__(pred_scores, pred_boxes, points[:, [1, 0]], *args)


def transposed_per_level(tensor: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """``N x A x ...`` with each level's ``h x w`` points transposed (the study's layout defect, for this head)."""
    parts, start = [], 0
    for stride in config.strides:
        side = config.image_size // stride
        level = tensor[:, start:start + side * side]
        parts.append(level.reshape(level.shape[0], side, side, *level.shape[2:]).transpose(1, 2).reshape(level.shape))
        start += side * side
    return torch.cat(parts, 1)


def break_loss(loss, how: str):
    if how == "assignment":
        loss.assigner = SwappedPointsAssigner()
    elif how == "loss":  # the class targets laid out transposed against the predictions
        assign = loss.assigner

        def transposed(*args):
            result = assign(*args)
            result.target_scores = transposed_per_level(result.target_scores, loss.config)
            return result

        loss.assigner = transposed
    return loss


def train_small_detector(folder, broken: str | None = None, monkeypatch=None):
    generate_dataset(folder, num_images=IMAGES, num_classes=3, seed=0, fmt="voc", image_size=(160, 160))
    loaded = load_folder(folder)
    train, val = split_train_val(loaded.annotations, 0.2, seed=0)
    torch.manual_seed(0)
    config = ModelConfig(num_classes=3, backbone="resnet18", image_size=SIZE, head="anchor_free", fpn_width=64)
    model, _ = build_model(config, "none")
    train_config = TrainConfig.modern(epochs=EPOCHS, batch_size=BATCH, warmup_epochs=1, workers=0, eval_every=EPOCHS,
                                      lr=2e-3)
    if broken:
        import engine.training.trainer

        original = engine.training.trainer.build_loss
        monkeypatch.setattr(engine.training.trainer, "build_loss", lambda *a, **k: break_loss(original(*a, **k), broken))
    trainer = Trainer(model, loaded.labels.names,
                      DetectionDataset(train, loaded.labels, SIZE, train=True, augment=train_config.augmentation()),
                      DetectionDataset(val, loaded.labels, SIZE, train=False), train_config, folder / "run")
    return trainer.fit()


def scores(result) -> tuple[float, float]:
    final = result.history[-1]
    return max(final["map50"], final.get("ema_map50", 0.0)), max(final["map"], final.get("ema_map", 0.0))


@pytest.mark.slow
def test_anchor_free_detector_learns_generated_shapes(tmp_path):
    result = train_small_detector(tmp_path)
    assert result.status == "finished"
    map50, coco = scores(result)
    print(f"anchor-free learning test: map50 {map50:.3f}, map {coco:.3f}, "
          f"loss {result.history[0]['loss']:.2f} -> {result.history[-1]['loss']:.2f}")
    assert result.history[-1]["loss"] < 0.75 * result.history[0]["loss"]
    assert map50 >= MAP50_BAR and coco >= COCO_MAP_BAR


@pytest.mark.slow
@pytest.mark.parametrize("broken", ["assignment", "loss"])
def test_the_learning_bars_catch_a_broken_assignment_or_loss(tmp_path, monkeypatch, broken):
    result = train_small_detector(tmp_path, broken, monkeypatch)
    map50, coco = scores(result)
    print(f"broken {broken}: map50 {map50:.3f}, map {coco:.3f}")
    assert map50 < MAP50_BAR or coco < COCO_MAP_BAR
