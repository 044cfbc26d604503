"""The four-part YOLO loss (sum-squared error, summed over the batch and divided by the batch size).

    total = l_coord * regression + containment + l_noobj * no_object + class

- regression: (x, y) and (sqrt w, sqrt h) of each object's responsible predictor;
- containment: conf of the responsible predictor against the IoU of its box with the object (YOLO v1), or 1
  (``conf_target="one"``, the reference study);
- no_object: conf of every predictor of every cell that holds no object, against 0;
- class: the C scores of each object cell against the one-hot class.

The responsible predictor of an object is the one of the B in its cell whose predicted box has the highest IoU
with the object's box, both turned into corners in the same (image-fraction) coordinates. The reference study
compared predicted corners with the target still in (dx, dy, w, h) form, and laid its no-object mask out
cell-major against box-major confidences; neither defect is here (tests/engine/model/test_loss.py pins both).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from engine.model.boxes import cell_boxes_to_xyxy, elementwise_iou
from engine.model.components import RECIPE_COMPONENTS

COMPONENTS = RECIPE_COMPONENTS


def split_prediction(output: torch.Tensor, num_boxes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``N x S x S x (B*5+C)`` -> boxes ``N x S x S x B x 5`` and class scores ``N x S x S x C``."""
    n, s, _, _ = output.shape
    return output[..., : 5 * num_boxes].reshape(n, s, s, num_boxes, 5), output[..., 5 * num_boxes :]


def responsible_predictors(pred_boxes: torch.Tensor, target_boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the responsible predictor per cell (``N x S x S``) and the IoUs (``N x S x S x B``).

    ``pred_boxes``: ``N x S x S x B x 4`` and ``target_boxes``: ``N x S x S x 4``, both in (x, y offset in the
    cell, w, h fraction of the image); both are turned into corners before the IoU.
    """
    pred_corners = cell_boxes_to_xyxy(pred_boxes)
    target_corners = cell_boxes_to_xyxy(target_boxes[..., None, :])
    ious = elementwise_iou(pred_corners, target_corners)
    return ious.argmax(-1), ious


class YoloLoss(nn.Module):
    def __init__(self, num_boxes: int = 2, l_coord: float = 5.0, l_noobj: float = 0.5, conf_target: str = "iou"):
        super().__init__()
        if conf_target not in ("iou", "one"):
            raise ValueError(f"conf_target must be 'iou' or 'one', got {conf_target!r}")
        self.num_boxes, self.l_coord, self.l_noobj, self.conf_target = num_boxes, l_coord, l_noobj, conf_target

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Loss components (unweighted) and ``total`` (weighted), each a scalar divided by the batch size."""
        n = output.shape[0]
        output, target = output.float(), target.float()
        pred_boxes, pred_classes = split_prediction(output, self.num_boxes)
        target_box, has_object, target_classes = target[..., :4], target[..., 4] > 0, target[..., 5:]

        with torch.no_grad():
            responsible, ious = responsible_predictors(pred_boxes[..., :4], target_box)
        # Mask of the responsible predictor in object cells, laid out N x S x S x B like pred_boxes.
        responsible_mask = F.one_hot(responsible, self.num_boxes).bool() & has_object[..., None]
        chosen = pred_boxes[responsible_mask]  # M x 5, M = number of object cells
        chosen_target = target_box[has_object]  # M x 4, same order (both follow the N, S, S order)

        xy_error = (chosen[:, :2] - chosen_target[:, :2]).square().sum()
        wh_error = (chosen[:, 2:4].clamp(min=0).sqrt() - chosen_target[:, 2:4].sqrt()).square().sum()
        regression = xy_error + wh_error

        conf_goal = ious[responsible_mask] if self.conf_target == "iou" else torch.ones_like(chosen[:, 4])
        containment = (chosen[:, 4] - conf_goal).square().sum()

        empty = ~has_object  # N x S x S: every predictor of these cells
        no_object = pred_boxes[..., 4][empty].square().sum()

        class_error = (pred_classes[has_object] - target_classes[has_object]).square().sum()

        parts = {
            "regression": regression / n,
            "containment": containment / n,
            "no_object": no_object / n,
            "class": class_error / n,
        }
        parts["total"] = (
            self.l_coord * parts["regression"] + parts["containment"] + self.l_noobj * parts["no_object"] + parts["class"]
        )
        return parts
