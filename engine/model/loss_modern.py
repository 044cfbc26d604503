"""The anchor-free head's loss: task-aligned assignment, then

    total = w_iou * CIoU loss + w_dfl * distribution focal loss + w_class * BCE

- iou: ``torchvision.ops.complete_box_iou_loss`` of each positive point's decoded box against its object,
- dfl: distribution focal loss (GFL) of each side's bin logits against the object's distance in strides,
- class: binary cross-entropy of every point's class logits against the assigner's soft targets (zeros for
  background), so the score of a positive is trained towards its alignment quality;

the box terms weighted by each positive's target score, all divided by the sum of the batch's target scores (at
least 1), as YOLOv8 does: the size of the loss does not grow with the batch or the number of objects.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.ops import complete_box_iou_loss

from engine.model.assigner import TaskAlignedAssigner, pad_targets
from engine.model.head_modern import distances_to_boxes, expected_distances

COMPONENTS = ("iou", "dfl", "class")


def distribution_focal_loss(bin_logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``K x 4 x R`` logits, ``K x 4`` target distances in [0, R-1): cross-entropy towards the two bins around the
    target, weighted by closeness (so the expected value of the distribution is pulled to the target)."""
    left = target.floor().long()
    right = left + 1
    weight_left = right.float() - target
    weight_right = 1.0 - weight_left
    r = bin_logits.shape[-1]
    flat = bin_logits.reshape(-1, r)
    loss = (F.cross_entropy(flat, left.reshape(-1), reduction="none") * weight_left.reshape(-1)
            + F.cross_entropy(flat, right.reshape(-1), reduction="none") * weight_right.reshape(-1))
    return loss.reshape(target.shape).mean(-1)


class AnchorFreeLoss(nn.Module):
    """``loss(raw_output, targets)`` with ``targets`` the list of ``{"boxes", "labels"}`` of the batch (input
    pixels), as the data loader gives them. ``components``: the names of the parts it returns besides total."""

    components = COMPONENTS

    def __init__(self, config, w_iou: float = 7.5, w_dfl: float = 1.5, w_class: float = 0.5,
                 assigner: TaskAlignedAssigner | None = None):
        super().__init__()
        from engine.model.head_modern import anchor_points

        self.config = config
        self.reg_max, self.num_classes = config.reg_max, config.num_classes
        self.w_iou, self.w_dfl, self.w_class = w_iou, w_dfl, w_class
        self.assigner = assigner or TaskAlignedAssigner()
        points, strides = anchor_points(config.image_size, config.strides)
        self.register_buffer("points", points, persistent=False)
        self.register_buffer("strides", strides, persistent=False)

    def forward(self, raw: torch.Tensor, targets: list[dict]) -> dict[str, torch.Tensor]:
        raw = raw.float()
        points, strides = self.points.to(raw.device), self.strides.to(raw.device)
        reg = 4 * self.reg_max
        box_logits, class_logits = raw[..., :reg], raw[..., reg:]
        pred_boxes = distances_to_boxes(expected_distances(box_logits, self.reg_max), points, strides)  # pixels
        gt_boxes, gt_labels, gt_valid = pad_targets(targets, raw.device)
        assigned = self.assigner(class_logits.detach().sigmoid(), pred_boxes.detach(), points, gt_boxes, gt_labels,
                                 gt_valid)
        score_sum = assigned.target_scores.sum().clamp(min=1.0)
        class_loss = F.binary_cross_entropy_with_logits(class_logits, assigned.target_scores, reduction="sum") / score_sum

        fg = assigned.foreground
        if fg.any():
            weight = assigned.target_scores.sum(-1)[fg]
            target_boxes = assigned.target_boxes[fg]
            iou_loss = (complete_box_iou_loss(pred_boxes[fg], target_boxes) * weight).sum() / score_sum
            point, stride = points[None].expand_as(pred_boxes[..., :2])[fg], strides[None].expand(fg.shape)[fg]
            target_distances = torch.cat((point - target_boxes[:, :2], target_boxes[:, 2:] - point), -1) / stride[:, None]
            target_distances = target_distances.clamp(0, self.reg_max - 1 - 0.01)
            bins = box_logits[fg].reshape(-1, 4, self.reg_max)
            dfl_loss = (distribution_focal_loss(bins, target_distances) * weight).sum() / score_sum
        else:  # no object in the batch: only the classification term teaches (everything is background)
            iou_loss = dfl_loss = raw.sum() * 0.0
        parts = {"iou": iou_loss, "dfl": dfl_loss, "class": class_loss}
        parts["total"] = self.w_iou * iou_loss + self.w_dfl * dfl_loss + self.w_class * class_loss
        return parts
