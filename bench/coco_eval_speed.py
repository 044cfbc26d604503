"""COCO evaluation speed: ResYOLO's ``evaluate(metric="coco")`` against a plain pycocotools run on the same data.

5,000 images with 5 boxes each and 50,000 detections (10 per image, 20 classes), generated; both score the same
ground truth and detections and must agree. Prints the median seconds of each over a few repeats and the ratio.

    ./dev bench coco_eval_speed [--images 5000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from engine.annotations.records import Box, ImageAnnotation, LabelSet
from engine.evaluation import ImageDetections, evaluate

CLASSES = [f"class{i}" for i in range(20)]


def generate(images: int, boxes_per_image: int = 5, dets_per_image: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    gt, detections = [], {}
    for i in range(images):
        xy = rng.uniform(0, 500, (boxes_per_image, 2))
        wh = rng.uniform(10, 120, (boxes_per_image, 2))
        labels = rng.integers(0, len(CLASSES), boxes_per_image)
        gt.append(ImageAnnotation(Path(f"{i}.jpg"), 640, 640,
                                  [Box(CLASSES[c], *p, *(p + s)) for p, s, c in zip(xy, wh, labels)]))
        jitter = rng.normal(0, 6, (dets_per_image, 4))
        source = rng.integers(0, boxes_per_image, dets_per_image)
        boxes = np.concatenate([xy[source], xy[source] + wh[source]], axis=1) + jitter
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        det_labels = np.where(rng.random(dets_per_image) < 0.8, labels[source], rng.integers(0, len(CLASSES), dets_per_image))
        detections[i] = ImageDetections(boxes, rng.random(dets_per_image), det_labels)
    return gt, detections


def plain_pycocotools(gt, detections) -> float:
    images = [{"id": i, "width": a.width, "height": a.height} for i, a in enumerate(gt)]
    anns = [{"id": k, "image_id": i, "category_id": CLASSES.index(b.label) + 1, "bbox": [b.x1, b.y1, b.width, b.height],
             "area": b.width * b.height, "iscrowd": 0}
            for i, a in enumerate(gt) for k, b in enumerate(a.boxes, start=len(a.boxes) * i + 1)]
    results = [{"image_id": i, "category_id": int(c) + 1, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(s)}
               for i, d in detections.items() for (x1, y1, x2, y2), s, c in zip(d.boxes.tolist(), d.scores, d.labels)]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = {"images": images, "categories": [{"id": k + 1, "name": n} for k, n in enumerate(CLASSES)],
                           "annotations": anns}
        coco_gt.createIndex()
        coco_eval = COCOeval(coco_gt, coco_gt.loadRes(results), iouType="bbox")
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    return float(coco_eval.stats[0])


def timed(function, repeats: int):
    seconds, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    gt, detections = generate(args.images)
    labels = LabelSet(CLASSES)
    ours_s, ours = timed(lambda: evaluate(gt, detections, labels, metric="coco",
                                          image_ids=list(range(len(gt)))).mAP, args.repeats)
    plain_s, plain = timed(lambda: plain_pycocotools(gt, detections), args.repeats)
    dets = sum(len(d.scores) for d in detections.values())
    print(f"{len(gt):,} images, {dets:,} detections, {len(CLASSES)} classes; median of {args.repeats}")
    print(f"plain pycocotools      {plain_s:7.2f} s   AP {plain:.6f}")
    print(f"resyolo evaluate coco  {ours_s:7.2f} s   AP {ours:.6f}   ({ours_s / plain_s:.2f}x the plain run)")
    if abs(ours - plain) > 1e-6:
        raise SystemExit(f"the two disagree: {ours} vs {plain}")


if __name__ == "__main__":
    main()
