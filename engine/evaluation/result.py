"""Shared data of the evaluators: detections per image in, :class:`EvalResult` out, and the
checks that turn the caller's ground truth and detections into plain, validated arrays."""
from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from engine.annotations.records import ImageAnnotation, LabelSet

METRIC_NAMES = {
    "voc07": "VOC2007 11-point AP, IoU > 0.5",
    "voc": "VOC all-point AP, IoU > 0.5",
    "coco": "COCO AP@[.5:.95]",
}


class ImageDetections(NamedTuple):
    """Detections of one image: ``boxes`` (K, 4) xyxy pixels, ``scores`` (K,), ``labels`` (K,) class ids, and
    optionally ``order`` (K,): each detection's position in its results file, which breaks score ties as the
    devkit does (without it: image order, then order within the image). The engine's ``Detections`` (torch
    tensors, same field names) is accepted wherever this is."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    order: np.ndarray | None = None


@dataclass
class PRCurve:
    """Precision and recall after each detection of one class, in descending score order.

    For VOC metrics these are the devkit's cumulative arrays (one point per detection); for COCO
    they are pycocotools' interpolated precision at its 101 recall thresholds at IoU 0.5 (points
    beyond the highest recall reached are left out), and ``scores`` is empty."""

    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray


@dataclass
class EvalResult:
    """``per_class`` lists every class; a class with no (non-difficult) ground truth has AP NaN
    and is left out of ``mAP``, as its AP is undefined (no recall can be measured)."""

    metric: str
    mAP: float
    per_class: dict[str, float]
    num_gt: dict[str, int]
    num_det: dict[str, int]
    curves: dict[str, PRCurve] = field(default_factory=dict)
    # COCO only: the other eleven of its figures ("AP50", "AP75", "AP_small", ..., "AR100", ..., "AR_large").
    extra: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document; NaN (undefined) becomes ``null`` so the file stays valid JSON."""
        doc: dict[str, Any] = {
            "metric": self.metric,
            "mAP": _json_number(self.mAP),
            "per_class": {name: _json_number(ap) for name, ap in self.per_class.items()},
        }
        for key, value in self.extra.items():
            doc[key] = _json_number(value)
        return doc


def _json_number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def mean_defined(values) -> float:
    """Mean over the values that are not NaN; NaN when there are none."""
    defined = [v for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else math.nan


@dataclass
class PreparedInput:
    """Ground truth and detections as flat arrays, image index = position in the GT list."""

    gt_boxes: list[np.ndarray]  # per image (G, 4) float64
    gt_labels: list[np.ndarray]  # per image (G,) int64
    gt_difficult: list[np.ndarray]  # per image (G,) bool
    det_boxes: list[np.ndarray]  # per image (K, 4) float64
    det_scores: list[np.ndarray]  # per image (K,) float64
    det_labels: list[np.ndarray]  # per image (K,) int64
    image_ids: list[Hashable]
    det_order: list[np.ndarray] = field(default_factory=list)  # per image (K,): ties go to the lower number


def prepare_input(
    gt: Sequence[ImageAnnotation],
    detections: Mapping[Hashable, Any],
    labels: LabelSet,
    image_ids: Sequence[Hashable] | None = None,
) -> PreparedInput:
    """Check and convert. Raises ``ValueError`` naming the image for: a GT box whose class is not
    in ``labels``, detections for an image not in ``gt``, a label id out of range, mismatched array
    lengths, or non-finite numbers."""
    ids = [ann.image_id for ann in gt] if image_ids is None else list(image_ids)
    if len(ids) != len(gt):
        raise ValueError(f"{len(ids)} image ids given for {len(gt)} ground-truth images")
    position: dict[Hashable, int] = {}
    for i, image_id in enumerate(ids):
        if image_id in position:
            raise ValueError(f"image id {image_id!r} is used by two ground-truth images: "
                             f"{gt[position[image_id]].image_path} and {gt[i].image_path}")
        position[image_id] = i

    class_of = {name: i for i, name in enumerate(labels.names)}
    prepared = PreparedInput([], [], [], [], [], [], ids)
    for ann in gt:
        unknown = sorted({b.label for b in ann.boxes} - class_of.keys())
        if unknown:
            raise ValueError(f"{ann.image_path}: class {unknown[0]!r} is not in the class list "
                             f"({', '.join(labels.names) or 'empty'})")
        prepared.gt_boxes.append(np.array([b.xyxy() for b in ann.boxes], dtype=np.float64).reshape(-1, 4))
        prepared.gt_labels.append(np.array([class_of[b.label] for b in ann.boxes], dtype=np.int64))
        prepared.gt_difficult.append(np.array([b.difficult for b in ann.boxes], dtype=bool))
        prepared.det_boxes.append(np.zeros((0, 4)))
        prepared.det_scores.append(np.zeros(0))
        prepared.det_labels.append(np.zeros(0, dtype=np.int64))

    orders: dict[int, np.ndarray] = {}
    for image_id, dets in detections.items():
        if image_id not in position:
            raise ValueError(f"detections for image {image_id!r}, which is not in the ground truth")
        i = position[image_id]
        boxes, scores, det_labels = _as_arrays(dets)
        order = getattr(dets, "order", None)
        where = f"detections of image {image_id!r}"
        if boxes.shape != (len(scores), 4) or det_labels.shape != scores.shape:
            raise ValueError(f"{where}: boxes {boxes.shape}, scores {scores.shape} and labels "
                             f"{det_labels.shape} do not describe the same K detections")
        if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
            raise ValueError(f"{where}: boxes and scores must be finite numbers")
        if len(det_labels) and (det_labels.min() < 0 or det_labels.max() >= len(labels)):
            raise ValueError(f"{where}: class ids must be in 0..{len(labels) - 1}")
        if order is not None and np.shape(order) != scores.shape:
            raise ValueError(f"{where}: {np.shape(order)} order numbers for {len(scores)} detections")
        prepared.det_boxes[i], prepared.det_scores[i], prepared.det_labels[i] = boxes, scores, det_labels
        if order is not None:
            orders[i] = np.asarray(order, dtype=np.float64)
    # Without file positions, ties go by image order, then by order within the image.
    offset = 0.0
    for i, scores in enumerate(prepared.det_scores):
        given = orders.get(i)
        prepared.det_order.append(given if given is not None else offset + np.arange(len(scores), dtype=np.float64))
        offset += len(scores)
    return prepared


def _as_arrays(dets: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if hasattr(dets, "boxes"):
        boxes, scores, det_labels = dets.boxes, dets.scores, dets.labels
    else:
        boxes, scores, det_labels = dets
    # np.asarray reads CPU torch tensors too; .detach().cpu() covers the rest without importing torch.
    boxes, scores, det_labels = (x.detach().cpu() if hasattr(x, "detach") else x for x in (boxes, scores, det_labels))
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        boxes = np.zeros((0, 4))
    det_labels = np.asarray(det_labels).reshape(-1)
    if det_labels.size and not np.all(det_labels == np.round(det_labels)):
        raise ValueError("detection labels must be integer class ids")
    return boxes, scores, det_labels.astype(np.int64)
