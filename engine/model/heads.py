"""The two heads behind one seam: which network a configuration builds, how its output is decoded, which loss
trains it. Everything that consumes a detector (prediction, validation, export, auto-labelling, the app) goes
through these three functions, so it works with either head without knowing which.

- ``recipe``: the reference study's YOLO v1 head (:mod:`engine.model.network`, :mod:`engine.model.loss`);
- ``anchor_free``: FPN/PAN neck, decoupled anchor-free head, task-aligned assigner, CIoU + DFL + BCE
  (:mod:`engine.model.head_modern`, :mod:`engine.model.assigner`, :mod:`engine.model.loss_modern`).
"""
from __future__ import annotations

import torch
from torch import nn

from engine.model.config import ModelConfig
from engine.model.components import ALL_COMPONENTS, ANCHOR_FREE_COMPONENTS, RECIPE_COMPONENTS  # noqa: F401


def build_network(config: ModelConfig) -> nn.Module:
    """The untrained network of ``config`` (random weights)."""
    if config.head == "anchor_free":
        from engine.model.head_modern import AnchorFreeYOLO

        return AnchorFreeYOLO(config)
    from engine.model.network import ResYOLO

    return ResYOLO(config)


def decode_output(config: ModelConfig, output: torch.Tensor, image_sizes=None, conf_threshold: float = 0.1,
                  iou_threshold: float = 0.5, max_detections: int = 100, agnostic: bool = False):
    """The eval-mode output of a ``config`` network (torch or ONNX) -> a list of :class:`engine.model.boxes.Detections`."""
    from engine.model.boxes import decode_anchor_free, decode_predictions

    options = dict(conf_threshold=conf_threshold, iou_threshold=iou_threshold, max_detections=max_detections,
                   agnostic=agnostic)
    if config.head == "anchor_free":
        return decode_anchor_free(output, image_sizes, **options)
    return decode_predictions(output, image_sizes, num_boxes=config.boxes_per_cell, **options)


def output_shape(config: ModelConfig) -> tuple[int, ...]:
    """The eval-mode output shape per image (without the batch dimension)."""
    if config.head == "anchor_free":
        return (config.num_anchors, 4 + config.num_classes)
    return (config.grid_size, config.grid_size, config.channels_per_cell)


class RecipeLoss(nn.Module):
    """The study's loss behind the common ``loss(output, targets)`` call: targets are encoded on its grid first."""

    components = RECIPE_COMPONENTS

    def __init__(self, config: ModelConfig, conf_target: str = "iou"):
        super().__init__()
        from engine.model.loss import YoloLoss

        self.config = config
        self.loss = YoloLoss(config.boxes_per_cell, conf_target=conf_target)

    def forward(self, output: torch.Tensor, targets: list[dict]) -> dict[str, torch.Tensor]:
        from engine.model.boxes import encode_targets

        grid = encode_targets(targets, self.config.grid_size, self.config.num_classes, self.config.image_size)
        return self.loss(output.float(), grid.to(output.device))


def build_loss(config: ModelConfig, conf_target: str = "iou") -> nn.Module:
    """``loss(train-mode output, targets) -> {component: scalar, "total": scalar}`` with ``.components``."""
    if config.head == "anchor_free":
        from engine.model.loss_modern import AnchorFreeLoss

        return AnchorFreeLoss(config)
    return RecipeLoss(config, conf_target)
