"""The one rule for a true positive, used by the AP (:mod:`engine.evaluation.voc`) and by the error analysis
behind the confusion matrix (:mod:`engine.evaluation.analysis`), so the two never disagree on a borderline box.

The rule is the Pascal VOC devkit's (py-faster-rcnn ``voc_eval.py``): box sizes are pixel-inclusive
(``x2 - x1 + 1``), and a detection matches a ground-truth box when their IoU is strictly greater than 0.5.
COCO AP keeps pycocotools' own rule (plain sizes, IoU >= each threshold), as its figures must be pycocotools'.
"""
from __future__ import annotations

import numpy as np

IOU_THRESHOLD = 0.5
RULE = "VOC devkit: box sizes x2 - x1 + 1 (pixel-inclusive), IoU > 0.5"


def pixel_iou(det_boxes: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
    """(K, G) IoU with the devkit's +1 pixel sizes; same arithmetic order, so the same floats."""
    ixmin = np.maximum(gt_boxes[None, :, 0], det_boxes[:, None, 0])
    iymin = np.maximum(gt_boxes[None, :, 1], det_boxes[:, None, 1])
    ixmax = np.minimum(gt_boxes[None, :, 2], det_boxes[:, None, 2])
    iymax = np.minimum(gt_boxes[None, :, 3], det_boxes[:, None, 3])
    iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
    ih = np.maximum(iymax - iymin + 1.0, 0.0)
    inters = iw * ih
    det_area = (det_boxes[:, 2] - det_boxes[:, 0] + 1.0) * (det_boxes[:, 3] - det_boxes[:, 1] + 1.0)
    gt_area = (gt_boxes[:, 2] - gt_boxes[:, 0] + 1.0) * (gt_boxes[:, 3] - gt_boxes[:, 1] + 1.0)
    return inters / (det_area[:, None] + gt_area[None, :] - inters)


def is_match(iou, threshold: float = IOU_THRESHOLD):
    """Whether an overlap makes a match (strictly above the threshold, as the devkit)."""
    return iou > threshold
