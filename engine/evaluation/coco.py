"""COCO's twelve figures (AP@[.5:.95], AP50, AP75, AP small/medium/large, AR@1/10/100, AR small/medium/large)
through faster-coco-eval (in-memory COCO objects): pycocotools' algorithm in C++, the same figures (to 1e-12, tested
against pycocotools itself) about 7x faster on 5,000 images (``./dev bench coco_eval_speed``).

Ground truth becomes a COCO dataset with bbox ``[x1, y1, x2 - x1, y2 - y1]`` and area w * h;
a "difficult" box becomes ``iscrowd: 1``, pycocotools' way to mark a region whose detections
neither count nor are penalised. Image ids are the caller's ids (the GT file's own ids for a COCO
file) and category ids default to class index + 1, so that ties and sort orders are the ones a
direct pycocotools run on the same file sees.
"""
from __future__ import annotations

import contextlib
import io
import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from faster_coco_eval import COCO
from faster_coco_eval import COCOeval_faster as COCOeval

from engine.annotations.records import ImageAnnotation, LabelSet
from engine.evaluation.result import EvalResult, PRCurve, prepare_input

AREA_ALL = 0  # index of areaRng "all" in COCOeval's precision array
MAX_DETS_100 = -1  # index of maxDets 100
IOU_50 = 0  # index of IoU 0.5 in iouThrs
# COCOeval.stats, in its order (the first is the mAP); names as the COCO leaderboard writes them.
STAT_NAMES = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
              "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large")


def evaluate_coco(
    gt: Sequence[ImageAnnotation],
    detections: Mapping[Hashable, Any],
    labels: LabelSet,
    image_ids: Sequence[Hashable] | None = None,
    category_ids: Sequence[int] | None = None,
) -> EvalResult:
    """COCO AP per class (mean over IoU 0.5:0.95 and 101 recall points, maxDets 100) and the summary
    figures. ``category_ids`` parallels ``labels.names`` (default: index + 1)."""
    data = prepare_input(gt, detections, labels, image_ids)
    coco_ids = _integer_ids(data.image_ids)
    cat_ids = list(range(1, len(labels) + 1)) if category_ids is None else [int(c) for c in category_ids]
    if len(cat_ids) != len(labels) or len(set(cat_ids)) != len(cat_ids):
        raise ValueError(f"need {len(labels)} distinct category ids, one per class; got {cat_ids}")

    images = [{"id": image_id, "width": ann.width, "height": ann.height, "file_name": str(ann.image_path)}
              for image_id, ann in zip(coco_ids, gt)]
    categories = [{"id": cid, "name": name} for cid, name in zip(cat_ids, labels.names)]
    gt_anns = []
    for image_id, boxes, classes, difficult in zip(coco_ids, data.gt_boxes, data.gt_labels, data.gt_difficult):
        for (x1, y1, x2, y2), c, hard in zip(boxes.tolist(), classes.tolist(), difficult.tolist()):
            w, h = x2 - x1, y2 - y1
            gt_anns.append({"id": len(gt_anns) + 1, "image_id": image_id, "category_id": cat_ids[c],
                            "bbox": [x1, y1, w, h], "area": w * h, "iscrowd": int(hard)})
    results = []
    for image_id, boxes, scores, classes in zip(coco_ids, data.det_boxes, data.det_scores, data.det_labels):
        for (x1, y1, x2, y2), s, c in zip(boxes.tolist(), scores.tolist(), classes.tolist()):
            results.append({"image_id": image_id, "category_id": cat_ids[c], "bbox": [x1, y1, x2 - x1, y2 - y1],
                            "score": s})

    with contextlib.redirect_stdout(io.StringIO()):  # the COCO index prints its progress
        coco_gt = COCO()
        coco_gt.dataset = {"images": images, "categories": categories, "annotations": gt_anns}
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results) if results else _empty_results(coco_gt)
        coco_eval = COCOeval(coco_gt, coco_dt, iouType="bbox", print_function=_quiet)
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()

    precision = coco_eval.eval["precision"]  # [IoU, recall, class, area, maxDets], -1 = no GT
    rec_thresholds = coco_eval.params.recThrs
    gt_count = Counter(a["category_id"] for a in gt_anns if not a["iscrowd"])
    det_count = Counter(r["category_id"] for r in results)
    per_class, num_gt, num_det, curves = {}, {}, {}, {}
    for name, cid in zip(labels.names, cat_ids):
        k = coco_eval.params.catIds.index(cid)
        p = precision[:, :, k, AREA_ALL, MAX_DETS_100]
        per_class[name] = float(np.mean(p[p > -1])) if np.any(p > -1) else math.nan
        num_gt[name], num_det[name] = gt_count[cid], det_count[cid]
        p50 = p[IOU_50]
        reached = p50 > 0 if np.any(p50 > -1) else np.zeros(len(p50), dtype=bool)
        curves[name] = PRCurve(precision=p50[reached], recall=rec_thresholds[reached], scores=np.zeros(0))
    stats = dict(zip(STAT_NAMES, (math.nan if s < 0 else float(s) for s in coco_eval.stats)))
    return EvalResult(metric="coco", mAP=stats.pop("AP"), per_class=per_class, num_gt=num_gt, num_det=num_det,
                      curves=curves, extra=stats)


def _integer_ids(image_ids: list[Hashable]) -> list[int]:
    """Integer image ids in the same order as ``image_ids`` sort (faster-coco-eval takes integers only; COCOeval
    walks images in sorted id order, which decides its score ties, so the order is kept)."""
    if all(isinstance(i, int) and not isinstance(i, bool) for i in image_ids):
        return list(image_ids)
    try:
        ranked = sorted(image_ids)
    except TypeError:  # mixed kinds of ids: any fixed order
        ranked = sorted(image_ids, key=lambda i: (type(i).__name__, str(i)))
    rank = {image_id: n for n, image_id in enumerate(ranked, start=1)}
    return [rank[i] for i in image_ids]


def _quiet(*_args, **_kwargs) -> None:
    """faster-coco-eval's summary goes to a logger, not stdout: dropped, the caller prints its own report."""


def _empty_results(coco_gt: COCO) -> COCO:
    # loadRes cannot take an empty list (it looks at the first entry); no detections is a valid run.
    res = COCO()
    res.dataset = {"images": list(coco_gt.dataset["images"]), "categories": list(coco_gt.dataset["categories"]),
                   "annotations": []}
    res.createIndex()
    return res
