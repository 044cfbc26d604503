"""Detection metrics: Pascal VOC AP (2007 11-point and all-point, devkit conventions) and COCO
AP through pycocotools, on plain data (annotation records + per-image numpy arrays)."""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from engine.annotations.records import ImageAnnotation, LabelSet
from engine.evaluation.coco import evaluate_coco
from engine.evaluation.result import METRIC_NAMES, EvalResult, ImageDetections, PRCurve
from engine.evaluation.voc import evaluate_voc, voc_ap

METRICS = tuple(METRIC_NAMES)


def evaluate(
    gt: Sequence[ImageAnnotation],
    detections: Mapping[Hashable, Any],
    labels: LabelSet,
    metric: str = "voc07",
    image_ids: Sequence[Hashable] | None = None,
    category_ids: Sequence[int] | None = None,
) -> EvalResult:
    """``metric``: "voc07" (11-point), "voc" (all-point) or "coco". ``category_ids`` only matters for COCO."""
    if metric == "coco":
        return evaluate_coco(gt, detections, labels, image_ids=image_ids, category_ids=category_ids)
    if metric in ("voc07", "voc"):
        return evaluate_voc(gt, detections, labels, use_07_metric=metric == "voc07", image_ids=image_ids)
    raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")


__all__ = ["METRICS", "EvalResult", "ImageDetections", "PRCurve", "evaluate", "evaluate_coco", "evaluate_voc", "voc_ap"]
