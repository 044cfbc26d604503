"""Error analysis of a detector against ground truth: what went wrong in which image.

At a score threshold (default 0.25), each image's detections are matched to its boxes by the AP's own rule for an
overlap (:mod:`engine.evaluation.matching`: +1-pixel sizes, IoU > 0.5), so the matrix and the AP table agree:

1. class-aware, greedy by descending score, as the Pascal VOC devkit does: a detection takes the box of its
   own class it overlaps most; an unmatched box makes it a true positive, a *difficult* box makes it
   ignored (neither counted nor penalised), an already matched box makes it a duplicate;
2. the detections left over (duplicates included) are offered, again by descending score, to the boxes of
   other classes still unmatched: an overlap that matches is a *wrong class* (the right place, the wrong
   name). A detection landing on a difficult box of another class is ignored too;
3. what remains are false positives (background) and misses (boxes no detection found).

The confusion matrix has one row per ground-truth class plus a background row (last), and one column per
predicted class plus a background column (last): true positives on the diagonal, wrong classes off it, false
positives in the background row, misses in the background column. Every cell knows the images behind it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.annotations.records import ImageAnnotation, LabelSet
from engine.evaluation.matching import IOU_THRESHOLD, is_match, pixel_iou
from engine.evaluation.result import prepare_input

DEFAULT_SCORE_THRESHOLD = 0.25
DEFAULT_IOU_THRESHOLD = IOU_THRESHOLD


@dataclass
class ImageMatches:
    """Outcome of one image. Indices: ``gt`` into the annotation's ``boxes``, ``det`` into its detections."""

    true_positives: list[tuple[int, int]] = field(default_factory=list)  # (gt, det)
    wrong_class: list[tuple[int, int]] = field(default_factory=list)  # (gt, det): overlap, other class
    false_positives: list[int] = field(default_factory=list)  # det
    misses: list[int] = field(default_factory=list)  # gt
    ignored: list[int] = field(default_factory=list)  # det on a difficult box
    below_threshold: list[int] = field(default_factory=list)  # det under the score threshold (not judged)
    # Sum of the scores of the confident mistakes (false positives and wrong classes): breaks ties in
    # ``disagreement``, so an image whose mistakes the model is sure of comes first.
    error_confidence: float = 0.0

    @property
    def disagreement(self) -> int:
        """How many things the model and the labels disagree about in this image."""
        return len(self.false_positives) + len(self.misses) + len(self.wrong_class)


@dataclass
class ErrorAnalysis:
    class_names: list[str]
    matrix: np.ndarray  # (C+1) x (C+1) int64; rows ground truth (+ background), columns predictions (+ background)
    cell_images: dict[tuple[int, int], list[int]]  # (row, column) -> sorted image indices with a count there
    images: list[ImageMatches]
    score_threshold: float
    iou_threshold: float
    # per predicted class: its detections scored at least ``score_threshold`` (judged: TP, FP or ignored)
    judged_detections: np.ndarray | None = None

    @property
    def background(self) -> int:
        """Index of the background row and column."""
        return len(self.class_names)

    def images_for_cell(self, row: int, column: int) -> list[int]:
        return list(self.cell_images.get((row, column), []))

    def images_for_class(self, class_id: int) -> list[int]:
        """Images where the class is in the labels or the predictions (its row and its column)."""
        found: set[int] = set()
        for (row, column), indices in self.cell_images.items():
            if class_id in (row, column):
                found.update(indices)
        return sorted(found)

    def ranked(self, indices: Sequence[int] | None = None) -> list[int]:
        """``indices`` (default: every image), worst disagreement first; ties: most confident mistakes first,
        then the original order."""
        indices = range(len(self.images)) if indices is None else indices
        return sorted(indices, key=lambda i: (-self.images[i].disagreement, -self.images[i].error_confidence, i))

    def class_counts(self, class_id: int) -> dict[str, int]:
        """True positives, false positives (background and wrong-class predictions of this class), misses
        (boxes of this class not found, or found under another name) and ``detections``: this class's
        predictions at the score threshold, those judged (TP + FP, plus any on difficult boxes, ignored)."""
        row, column = self.matrix[class_id], self.matrix[:, class_id]
        judged = self.judged_detections
        return {"tp": int(row[class_id]), "fp": int(column.sum() - column[class_id]),
                "fn": int(row.sum() - row[class_id]),
                "detections": int(judged[class_id]) if judged is not None else int(column.sum())}


def analyse_detections(gt: Sequence[ImageAnnotation], detections: Mapping[int, Any] | Sequence[Any], labels: LabelSet,
                       score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                       iou_threshold: float = DEFAULT_IOU_THRESHOLD) -> ErrorAnalysis:
    """``detections``: per image index (position in ``gt``) ``(boxes (K,4) xyxy pixels, scores (K,), labels (K,))``
    arrays or a ``Detections``; images without an entry have none. Raises ``ValueError`` naming the image for
    unknown classes, bad arrays or ids out of range (the checks of :func:`engine.evaluation.evaluate`)."""
    if not isinstance(detections, Mapping):
        detections = dict(enumerate(detections))
    prepared = prepare_input(gt, detections, labels, image_ids=list(range(len(gt))))
    num_classes = len(labels)
    bg = num_classes
    matrix = np.zeros((num_classes + 1, num_classes + 1), dtype=np.int64)
    cells: dict[tuple[int, int], set[int]] = {}
    judged = np.zeros(num_classes, dtype=np.int64)
    images = []
    for i in range(len(gt)):
        result = match_image(prepared.gt_boxes[i], prepared.gt_labels[i], prepared.gt_difficult[i],
                             prepared.det_boxes[i], prepared.det_scores[i], prepared.det_labels[i],
                             score_threshold, iou_threshold)
        gt_labels, det_labels = prepared.gt_labels[i], prepared.det_labels[i]
        judged += np.bincount(det_labels[prepared.det_scores[i] >= score_threshold].astype(np.int64),
                              minlength=num_classes)[:num_classes]
        entries = [(gt_labels[g], det_labels[d]) for g, d in result.true_positives + result.wrong_class]
        entries += [(bg, det_labels[d]) for d in result.false_positives]
        entries += [(gt_labels[g], bg) for g in result.misses]
        for row, column in entries:
            matrix[row, column] += 1
            cells.setdefault((int(row), int(column)), set()).add(i)
        images.append(result)
    return ErrorAnalysis(list(labels.names), matrix, {k: sorted(v) for k, v in cells.items()}, images,
                         score_threshold, iou_threshold, judged)


def match_image(gt_boxes: np.ndarray, gt_labels: np.ndarray, gt_difficult: np.ndarray, det_boxes: np.ndarray,
                det_scores: np.ndarray, det_labels: np.ndarray, score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                iou_threshold: float = DEFAULT_IOU_THRESHOLD) -> ImageMatches:
    """Match one image's detections to its boxes (the rules in the module docstring)."""
    result = ImageMatches()
    kept = det_scores >= score_threshold
    result.below_threshold = [int(d) for d in np.flatnonzero(~kept)]
    order = [int(d) for d in np.flatnonzero(kept)[np.argsort(-det_scores[kept], kind="stable")]]
    if len(gt_boxes) and len(det_boxes):
        iou = pixel_iou(np.asarray(det_boxes, dtype=np.float64), np.asarray(gt_boxes, dtype=np.float64))
    else:
        iou = np.zeros((len(det_boxes), len(gt_boxes)))
    matched = np.zeros(len(gt_boxes), dtype=bool)

    leftover = []
    for d in order:  # 1. own class, the devkit's rule
        same_class = gt_labels == det_labels[d]
        if not same_class.any():
            leftover.append(d)
            continue
        overlaps = np.where(same_class, iou[d], -1.0)
        g = int(np.argmax(overlaps))
        if not is_match(overlaps[g], iou_threshold):
            leftover.append(d)
        elif gt_difficult[g]:
            result.ignored.append(d)
        elif not matched[g]:
            matched[g] = True
            result.true_positives.append((g, d))
        else:
            leftover.append(d)  # a duplicate of a found box

    for d in leftover:  # 2. another class at the right place
        candidates = (gt_labels != det_labels[d]) & ~matched
        overlaps = np.where(candidates, iou[d], -1.0)
        g = int(np.argmax(overlaps)) if len(overlaps) else -1
        if g >= 0 and is_match(overlaps[g], iou_threshold):
            if gt_difficult[g]:
                result.ignored.append(d)
            else:
                matched[g] = True
                result.wrong_class.append((g, d))
                result.error_confidence += float(det_scores[d])
        else:
            result.false_positives.append(d)
            result.error_confidence += float(det_scores[d])

    result.misses = [int(g) for g in np.flatnonzero(~matched & ~gt_difficult.astype(bool))]
    return result
