"""Pascal VOC AP, as the official devkit computes it (reference: py-faster-rcnn ``voc_eval.py``).

Conventions kept on purpose, because each moves the number:
- box sizes are ``x2 - x1 + 1`` (pixel-inclusive corners), and a match needs IoU strictly > 0.5 (the rule of
  :mod:`engine.evaluation.matching`, which the confusion matrix uses too);
- each detection, in descending score order, goes to the ground truth of its image and class it
  overlaps most, taken or not: if that one is already taken the detection is a false positive
  (it does not fall back to the second best);
- a detection whose best match is "difficult" is neither a true nor a false positive, and
  difficult objects do not count in the number of positives;
- VOC2007 AP is the 11-point interpolation (recall 0, 0.1, ..., 1, thresholds from
  ``np.arange(0, 1.1, 0.1)`` exactly as the devkit); later years use the area under the
  monotone precision envelope ("all-point").
Score ties are broken by the detections' order in their results file (a stable sort over the file, as the
MATLAB devkit's ``sort``), and without a file by image order, then order within the image. A class with no non-difficult ground truth has no AP (NaN) and is left
out of the mAP.

Because a detection's target is its best-overlap ground truth whatever was taken before, the
greedy matching vectorises: the true positives are the first detection (in score order) aiming at
each non-difficult ground truth.
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from engine.annotations.records import ImageAnnotation, LabelSet
from engine.evaluation.matching import is_match, pixel_iou
from engine.evaluation.result import EvalResult, PRCurve, mean_defined, prepare_input


def voc_ap(recall: np.ndarray, precision: np.ndarray, use_07_metric: bool) -> float:
    """AP from the cumulative recall/precision arrays, the devkit's ``voc_ap``."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = np.max(precision[recall >= t]) if np.any(recall >= t) else 0.0
            ap += p / 11.0
        return float(ap)
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope, max is exact
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def evaluate_voc(
    gt: Sequence[ImageAnnotation],
    detections: Mapping[Hashable, Any],
    labels: LabelSet,
    use_07_metric: bool = True,
    image_ids: Sequence[Hashable] | None = None,
) -> EvalResult:
    """VOC AP per class and their mean.

    ``detections`` maps image id to ``ImageDetections`` (boxes xyxy pixels, scores, class ids);
    ``image_ids`` parallels ``gt`` and defaults to each annotation's ``image_id`` (file stem).
    Images without detections may be left out of ``detections``."""
    data = prepare_input(gt, detections, labels, image_ids)

    # Best-overlap ground truth (same image, same class) of every detection, image by image.
    best_iou, best_gt, scores, classes, orders = [], [], [], [], []
    gt_offset = 0
    for g_boxes, g_labels, d_boxes, d_scores, d_labels, d_order in zip(
        data.gt_boxes, data.gt_labels, data.det_boxes, data.det_scores, data.det_labels, data.det_order
    ):
        overlaps = pixel_iou(d_boxes, g_boxes)
        overlaps[d_labels[:, None] != g_labels[None, :]] = -np.inf
        if overlaps.shape[1]:
            best_iou.append(overlaps.max(axis=1))
            best_gt.append(overlaps.argmax(axis=1) + gt_offset)
        else:
            best_iou.append(np.full(len(d_boxes), -np.inf))
            best_gt.append(np.zeros(len(d_boxes), dtype=np.int64))
        scores.append(d_scores)
        classes.append(d_labels)
        orders.append(d_order)
        gt_offset += len(g_boxes)
    best_iou, best_gt = np.concatenate(best_iou), np.concatenate(best_gt).astype(np.int64)
    scores, classes, orders = np.concatenate(scores), np.concatenate(classes), np.concatenate(orders)
    all_gt_labels = np.concatenate(data.gt_labels)
    all_gt_difficult = np.concatenate(data.gt_difficult)

    per_class, num_gt, num_det, curves = {}, {}, {}, {}
    for class_id, name in enumerate(labels.names):
        npos = int(np.sum((all_gt_labels == class_id) & ~all_gt_difficult))
        mine = np.flatnonzero(classes == class_id)
        order = mine[np.lexsort((orders[mine], -scores[mine]))]  # by score, ties by order
        tp, fp = _true_false_positives(best_iou[order], best_gt[order], all_gt_difficult)
        tp, fp = np.cumsum(tp), np.cumsum(fp)
        precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        if npos:
            recall = tp / float(npos)
            ap = voc_ap(recall, precision, use_07_metric)
        else:
            recall, ap = np.full(len(tp), math.nan), math.nan
        per_class[name], num_gt[name], num_det[name] = ap, npos, len(order)
        curves[name] = PRCurve(precision=precision, recall=recall, scores=scores[order])
    return EvalResult(
        metric="voc07" if use_07_metric else "voc",
        mAP=mean_defined(per_class.values()),
        per_class=per_class, num_gt=num_gt, num_det=num_det, curves=curves,
    )


def _true_false_positives(best_iou: np.ndarray, best_gt: np.ndarray, gt_difficult: np.ndarray):
    """Per detection (already in score order): is it a TP, is it an FP (both False: ignored)."""
    hit = is_match(best_iou)
    # best_gt is meaningless where there is no hit (no ground truth of that class in the image).
    aims_at_counted = hit & ~gt_difficult[np.where(hit, best_gt, 0)] if len(gt_difficult) else hit
    candidates = np.flatnonzero(aims_at_counted)
    _, first = np.unique(best_gt[candidates], return_index=True)
    tp = np.zeros(len(best_iou), dtype=bool)
    tp[candidates[first]] = True
    fp = ~hit | (aims_at_counted & ~tp)
    return tp.astype(np.float64), fp.astype(np.float64)
