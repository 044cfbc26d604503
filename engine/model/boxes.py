"""Box geometry of the YOLO grid: target encoding, predicted-box decoding, detection decoding + NMS.

All batched and vectorised: no Python loops over cells, predictors or objects.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.ops import batched_nms


def grid_offsets(grid_size: int, device=None, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(col, row) index of each cell, shaped ``S x S`` (row-major: ``[row, col]``)."""
    idx = torch.arange(grid_size, device=device, dtype=dtype)
    rows, cols = torch.meshgrid(idx, idx, indexing="ij")
    return cols, rows


def cell_boxes_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """``N x S x S x B x 4`` boxes as (x, y offset in the cell, w, h fraction of the image) -> corners in image
    fractions, same shape. Grid order is ``[row, col]``."""
    grid_size = boxes.shape[1]
    cols, rows = grid_offsets(grid_size, boxes.device, boxes.dtype)
    cx = (boxes[..., 0] + cols[..., None]) / grid_size
    cy = (boxes[..., 1] + rows[..., None]) / grid_size
    half_w, half_h = boxes[..., 2] / 2, boxes[..., 3] / 2
    return torch.stack((cx - half_w, cy - half_h, cx + half_w, cy + half_h), dim=-1)


def elementwise_iou(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """IoU of corresponding corner boxes (broadcasting), unlike ``torchvision.ops.box_iou`` which is pairwise."""
    lt = torch.maximum(a[..., :2], b[..., :2])
    rb = torch.minimum(a[..., 2:], b[..., 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[..., 2:] - a[..., :2]).clamp(min=0).prod(-1)
    area_b = (b[..., 2:] - b[..., :2]).clamp(min=0).prod(-1)
    return inter / (area_a + area_b - inter + eps)


def encode_targets(targets: list[dict], grid_size: int, num_classes: int, image_size: int | tuple[int, int]) -> torch.Tensor:
    """Ground-truth boxes -> the ``N x S x S x (5 + C)`` target grid ``[x, y, w, h, obj, one-hot C]``.

    ``targets[i]["boxes"]``: ``K x 4`` xyxy pixels of the network input; ``targets[i]["labels"]``: ``K`` class ids.
    The cell of an object is the one holding its centre; x, y are the centre's offsets inside it, w, h fractions
    of the image.

    Rule when several objects fall in one cell: the cell keeps the LARGEST of them (by area; on equal areas, the
    one listed last). The result does not depend on the order of equal-sized objects' neighbours, and a large
    object, which no neighbouring cell can represent, is never lost to a small one.
    """
    width, height = (image_size, image_size) if isinstance(image_size, int) else image_size
    n = len(targets)
    device = targets[0]["boxes"].device if n else None
    grid = torch.zeros(n, grid_size, grid_size, 5 + num_classes, device=device)
    counts = [len(t["labels"]) for t in targets]
    if sum(counts) == 0:
        return grid
    boxes = torch.cat([t["boxes"] for t in targets]).to(grid.dtype)
    labels = torch.cat([t["labels"] for t in targets]).long()
    image_index = torch.repeat_interleave(torch.arange(n, device=device), torch.tensor(counts, device=device))
    scale = boxes.new_tensor([width, height, width, height])
    boxes = (boxes / scale).clamp(0, 1)
    wh = boxes[:, 2:] - boxes[:, :2]
    keep = (wh > 0).all(1)
    boxes, wh, labels, image_index = boxes[keep], wh[keep], labels[keep], image_index[keep]
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    cell = (centre * grid_size).floor().clamp(0, grid_size - 1)
    offset = centre * grid_size - cell
    col, row = cell[:, 0].long(), cell[:, 1].long()
    flat_cell = (image_index * grid_size + row) * grid_size + col

    # The largest object of each cell wins: order by area, then a write where later entries win.
    # index_put_ with duplicate indices has no defined winner, so resolve duplicates explicitly.
    area = wh.prod(1)
    order = torch.argsort(area, stable=True)
    winner = torch.full((n * grid_size * grid_size,), -1, dtype=torch.long, device=device)
    winner.scatter_reduce_(0, flat_cell[order], torch.arange(len(order), device=device), reduce="amax")
    chosen = order[winner[winner >= 0]]

    values = torch.zeros(len(chosen), 5 + num_classes, device=device)
    values[:, 0:2] = offset[chosen]
    values[:, 2:4] = wh[chosen]
    values[:, 4] = 1.0
    values[torch.arange(len(chosen), device=device), 5 + labels[chosen]] = 1.0
    grid.view(-1, 5 + num_classes)[flat_cell[chosen]] = values
    return grid


@dataclass
class Detections:
    """Detections of one image: ``boxes`` K x 4 xyxy in original image pixels, ``scores`` K, ``labels`` K."""

    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.scores)

    def to(self, device) -> "Detections":
        return Detections(self.boxes.to(device), self.scores.to(device), self.labels.to(device))

    def numpy(self) -> dict:
        return {"boxes": self.boxes.cpu().numpy(), "scores": self.scores.cpu().numpy(), "labels": self.labels.cpu().numpy()}


def decode_predictions(
    output: torch.Tensor,
    image_sizes: list[tuple[int, int]] | None = None,
    conf_threshold: float = 0.1,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
    agnostic: bool = False,
    num_boxes: int = 2,
) -> list[Detections]:
    """Network output ``N x S x S x (B*5 + C)`` -> detections per image, in ``(width, height)`` pixels of each
    original image (``image_sizes``; default: fractions of the image, i.e. size 1 x 1), clipped to the image.

    A predictor is a candidate when conf x best class score > ``conf_threshold``; then non-maximum suppression
    at ``iou_threshold``, per class unless ``agnostic``; then the ``max_detections`` best per image.
    """
    n, s, _, channels = output.shape
    num_classes = channels - 5 * num_boxes
    output = output.float()
    boxes = output[..., : 5 * num_boxes].reshape(n, s, s, num_boxes, 5)
    corners = cell_boxes_to_xyxy(boxes[..., :4]).reshape(n, -1, 4)  # N x (S*S*B) x 4
    class_scores, classes = output[..., 5 * num_boxes :].max(-1)  # N x S x S
    scores = (boxes[..., 4] * class_scores[..., None]).reshape(n, -1)
    classes = classes[..., None].expand(n, s, s, num_boxes).reshape(n, -1)

    return _select_detections(_to_pixels(corners, image_sizes), scores, classes, n, num_classes, conf_threshold,
                              iou_threshold, max_detections, agnostic)


def decode_anchor_free(
    output: torch.Tensor,
    image_sizes: list[tuple[int, int]] | None = None,
    conf_threshold: float = 0.1,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
    agnostic: bool = False,
) -> list[Detections]:
    """The anchor-free head's eval output ``N x A x (4 + C)`` (xyxy fractions of the input, class probabilities;
    see :mod:`engine.model.head_modern`) -> detections per image, as :func:`decode_predictions` gives them.

    Score of a point: its best class probability; then the same threshold, NMS and ``max_detections``."""
    n, _, channels = output.shape
    num_classes = channels - 4
    output = output.float()
    scores, classes = output[..., 4:].max(-1)
    return _select_detections(_to_pixels(output[..., :4], image_sizes), scores, classes, n, num_classes,
                              conf_threshold, iou_threshold, max_detections, agnostic)


def _to_pixels(corners: torch.Tensor, image_sizes: list[tuple[int, int]] | None) -> torch.Tensor:
    """``N x P x 4`` xyxy fractions of the input -> pixels of each image's ``(width, height)``, clipped to the
    image (default: fractions, i.e. size 1 x 1)."""
    if image_sizes is None:
        return corners.clamp(0, 1)
    sizes = torch.tensor([[w, h, w, h] for w, h in image_sizes], dtype=corners.dtype, device=corners.device)
    return corners.clamp(0, 1) * sizes[:, None, :]


def _select_detections(corners, scores, classes, n, num_classes, conf_threshold, iou_threshold, max_detections,
                       agnostic) -> list[Detections]:
    """Candidates ``N x P`` (boxes in pixels, scores, classes) -> thresholded, NMS-ed, top detections per image."""
    image_index, anchor = torch.nonzero(scores > conf_threshold, as_tuple=True)
    cand_boxes, cand_scores = corners[image_index, anchor], scores[image_index, anchor]
    cand_labels = classes[image_index, anchor]
    valid = (cand_boxes[:, 2:] > cand_boxes[:, :2]).all(1)
    image_index, cand_boxes, cand_scores, cand_labels = image_index[valid], cand_boxes[valid], cand_scores[valid], cand_labels[valid]
    # One NMS call for the whole batch: groups are (image, class), or images alone when class-agnostic.
    groups = image_index * (1 if agnostic else num_classes) + (0 if agnostic else cand_labels)
    keep = batched_nms(cand_boxes, cand_scores, groups, iou_threshold)  # sorted by decreasing score
    image_index = image_index[keep]
    # Stable sort by image keeps the score order inside each image; then take the first max_detections.
    order = torch.argsort(image_index, stable=True)
    keep, image_index = keep[order], image_index[order]
    counts = torch.bincount(image_index, minlength=n)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(len(keep), device=keep.device) - starts[image_index]
    top = rank < max_detections
    keep, image_index = keep[top], image_index[top]
    per_image = torch.bincount(image_index, minlength=n).tolist()
    return [
        Detections(b, sc, lb)
        for b, sc, lb in zip(cand_boxes[keep].split(per_image), cand_scores[keep].split(per_image), cand_labels[keep].split(per_image))
    ]
