"""Task-aligned assignment (TOOD, as in YOLOv8): which points learn which object, decided from the predictions.

For each object, the candidate points are those whose centre lies inside its box. Each candidate gets the
alignment ``score ** alpha * iou ** beta`` (score: the predicted probability of the object's class at the
point; iou: of the predicted box with the object's). The ``top_k`` best candidates of each object become its
positives; a point claimed by several objects goes to the one its predicted box overlaps most. So several
objects can share a region, and a point learns the object it already describes best.

Targets: the class target of a positive is its object's one-hot class scaled by the normalised alignment
(``align / max align of the object * max IoU of the object``), so the classification score learns to rank by
localisation quality; negatives have all zeros. All batched: objects are padded to the batch's maximum count.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.model.boxes import elementwise_iou


@dataclass
class Assignment:
    target_boxes: torch.Tensor  # N x A x 4, xyxy input pixels (meaningful where foreground)
    target_scores: torch.Tensor  # N x A x C, soft one-hot (zeros for background)
    foreground: torch.Tensor  # N x A bool
    target_labels: torch.Tensor  # N x A long (meaningful where foreground)


def pad_targets(targets: list[dict], device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """List of ``{"boxes": K x 4 xyxy, "labels": K}`` -> boxes ``N x M x 4``, labels ``N x M``, valid ``N x M``."""
    n = len(targets)
    m = max([len(t["labels"]) for t in targets] + [1])
    boxes = torch.zeros(n, m, 4, device=device)
    labels = torch.zeros(n, m, dtype=torch.long, device=device)
    valid = torch.zeros(n, m, dtype=torch.bool, device=device)
    for i, t in enumerate(targets):
        k = len(t["labels"])
        if k:
            boxes[i, :k] = t["boxes"].to(device, torch.float32)
            labels[i, :k] = t["labels"].to(device).long()
            valid[i, :k] = True
    valid &= (boxes[..., 2:] > boxes[..., :2]).all(-1)
    return boxes, labels, valid


class TaskAlignedAssigner:
    def __init__(self, top_k: int = 10, alpha: float = 0.5, beta: float = 6.0, eps: float = 1e-9):
        self.top_k, self.alpha, self.beta, self.eps = top_k, alpha, beta, eps

    @torch.no_grad()
    def __call__(self, pred_scores: torch.Tensor, pred_boxes: torch.Tensor, points: torch.Tensor,
                 gt_boxes: torch.Tensor, gt_labels: torch.Tensor, gt_valid: torch.Tensor) -> Assignment:
        """``pred_scores`` N x A x C probabilities, ``pred_boxes`` N x A x 4 and ``points`` A x 2 input pixels,
        ``gt_*`` as from :func:`pad_targets`."""
        n, a, c = pred_scores.shape
        m = gt_boxes.shape[1]
        # Points inside each object's box: N x M x A.
        inside = ((points[None, None] > gt_boxes[..., None, :2]) & (points[None, None] < gt_boxes[..., None, 2:])).all(-1)
        candidate = inside & gt_valid[..., None]
        ious = elementwise_iou(pred_boxes[:, None], gt_boxes[:, :, None]).clamp(min=0)  # N x M x A
        class_scores = pred_scores.gather(2, gt_labels[:, None, :].expand(n, a, m)).transpose(1, 2)  # N x M x A
        align = class_scores.pow(self.alpha) * ious.pow(self.beta) * candidate
        # The top_k candidates of each object (ties and non-candidates fall out through the candidate mask).
        k = min(self.top_k, a)
        top = align.topk(k, dim=-1).indices  # N x M x k
        chosen = torch.zeros_like(candidate).scatter_(-1, top, True) & candidate
        # A point chosen by several objects keeps the one its predicted box overlaps most.
        overlap = torch.where(chosen, ious, torch.full_like(ious, -1.0))
        owner = overlap.argmax(1)  # N x A
        foreground = chosen.any(1)
        positive = torch.zeros_like(chosen).scatter_(1, owner[:, None], True) & chosen  # N x M x A, one per point

        batch = torch.arange(n, device=gt_boxes.device)[:, None]
        target_boxes = gt_boxes[batch, owner]  # N x A x 4
        target_labels = gt_labels[batch, owner]  # N x A
        align = align * positive
        ious_pos = ious * positive
        norm = align.amax(-1, keepdim=True)  # N x M x 1
        best_iou = ious_pos.amax(-1, keepdim=True)
        quality = (align * best_iou / (norm + self.eps)).amax(1)  # N x A
        target_scores = torch.zeros(n, a, c, device=pred_scores.device)
        target_scores.scatter_(2, target_labels[..., None], quality[..., None])
        target_scores *= foreground[..., None]
        return Assignment(target_boxes, target_scores, foreground, target_labels)


class CentreAssigner:
    """A static assignment, for comparison (the ablation in the README): each object's ``top_k`` points nearest
    its centre among those inside it, whatever the network predicts; a point claimed twice goes to the nearer
    centre; class targets are hard ones (1 for the object's class)."""

    def __init__(self, top_k: int = 10):
        self.top_k = top_k

    @torch.no_grad()
    def __call__(self, pred_scores, pred_boxes, points, gt_boxes, gt_labels, gt_valid) -> Assignment:
        n, a, c = pred_scores.shape
        inside = ((points[None, None] > gt_boxes[..., None, :2]) & (points[None, None] < gt_boxes[..., None, 2:])).all(-1)
        candidate = inside & gt_valid[..., None]
        centres = (gt_boxes[..., :2] + gt_boxes[..., 2:]) / 2
        distance = (points[None, None] - centres[..., None, :]).norm(dim=-1)  # N x M x A
        closeness = torch.where(candidate, -distance, torch.full_like(distance, -float("inf")))
        top = closeness.topk(min(self.top_k, a), dim=-1).indices
        chosen = torch.zeros_like(candidate).scatter_(-1, top, True) & candidate
        owner = torch.where(chosen, closeness, torch.full_like(closeness, -float("inf"))).argmax(1)
        foreground = chosen.any(1)
        batch = torch.arange(n, device=gt_boxes.device)[:, None]
        target_labels = gt_labels[batch, owner]
        target_scores = torch.zeros(n, a, c, device=pred_scores.device)
        target_scores.scatter_(2, target_labels[..., None], 1.0)
        target_scores *= foreground[..., None]
        return Assignment(gt_boxes[batch, owner], target_scores, foreground, target_labels)
