"""COCO figures against a direct pycocotools COCOeval run on the same files."""
from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from engine.annotations.records import Box, ImageAnnotation, LabelSet
from engine.evaluation import ImageDetections, evaluate_coco

CATEGORIES = [{"id": 3, "name": "cat"}, {"id": 7, "name": "dog"}, {"id": 9, "name": "bird"}, {"id": 11, "name": "cow"}]


def write_random_coco(tmp_path: Path, seed: int):
    """A COCO GT file (sparse category ids, crowd boxes, images without objects, a class with no
    objects) and a results file (jittered hits, duplicates, background boxes, tied scores).
    Coordinates are multiples of 0.5 so xywh <-> xyxy round trips are exact."""
    rng = np.random.default_rng(seed)
    images, annotations, results = [], [], []
    for image_id in rng.permutation(np.arange(100, 140)).tolist():
        images.append({"id": image_id, "file_name": f"im{image_id}.jpg", "width": 640, "height": 480})
        for _ in range(rng.integers(0, 5)):
            x, y = (rng.integers(0, 1000, size=2) / 2).tolist()
            w, h = (rng.integers(8, 400, size=2) / 2).tolist()
            cat = int(rng.choice([3, 7, 9]))
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": cat,
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": int(rng.random() < 0.1)})
            for _ in range(rng.integers(0, 3)):
                dx, dy, dw, dh = (rng.integers(-12, 13, size=4) / 2).tolist()
                label = cat if rng.random() < 0.85 else int(rng.choice([3, 7, 9, 11]))
                results.append({"image_id": image_id, "category_id": label,
                                "bbox": [x + dx, y + dy, max(w + dw, 1.0), max(h + dh, 1.0)],
                                "score": round(float(rng.random()), 1)})  # rounding makes ties
        for _ in range(rng.integers(0, 3)):
            x, y = (rng.integers(0, 1000, size=2) / 2).tolist()
            results.append({"image_id": image_id, "category_id": int(rng.choice([3, 7, 9, 11])),
                            "bbox": [x, y, 20.5, 30.0], "score": round(float(rng.random()), 2)})
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": CATEGORIES}))
    dt_path.write_text(json.dumps(results))
    return gt_path, dt_path


def pycocotools_run(gt_path: Path, dt_path: Path) -> COCOeval:
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(gt_path))
        coco_dt = coco_gt.loadRes(str(dt_path))
        coco_eval = COCOeval(coco_gt, coco_dt, "bbox")
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    return coco_eval


def plain_data_from(gt_path: Path, dt_path: Path):
    """The same input as records and arrays (crowd -> difficult), as the engine would hold it."""
    doc = json.loads(gt_path.read_text())
    labels = LabelSet([c["name"] for c in doc["categories"]])
    name_of = {c["id"]: c["name"] for c in doc["categories"]}
    class_of = {c["id"]: i for i, c in enumerate(doc["categories"])}
    gt = []
    for img in doc["images"]:
        boxes = [Box(name_of[a["category_id"]], a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                     a["bbox"][1] + a["bbox"][3], difficult=bool(a["iscrowd"]))
                 for a in doc["annotations"] if a["image_id"] == img["id"]]
        gt.append(ImageAnnotation(Path(img["file_name"]), img["width"], img["height"], boxes))
    detections = {}
    for img in doc["images"]:
        rows = [r for r in json.loads(dt_path.read_text()) if r["image_id"] == img["id"]]
        if rows:
            detections[img["id"]] = ImageDetections(
                np.array([[r["bbox"][0], r["bbox"][1], r["bbox"][0] + r["bbox"][2], r["bbox"][1] + r["bbox"][3]]
                          for r in rows]),
                np.array([r["score"] for r in rows]),
                np.array([class_of[r["category_id"]] for r in rows]))
    return gt, detections, labels, [img["id"] for img in doc["images"]], [c["id"] for c in doc["categories"]]


@pytest.mark.parametrize("seed", range(3))
def test_equals_pycocotools_on_the_same_files(tmp_path, seed):
    gt_path, dt_path = write_random_coco(tmp_path, seed)
    reference = pycocotools_run(gt_path, dt_path)
    gt, dets, labels, image_ids, category_ids = plain_data_from(gt_path, dt_path)

    result = evaluate_coco(gt, dets, labels, image_ids=image_ids, category_ids=category_ids)

    assert result.metric == "coco"
    assert result.mAP == pytest.approx(reference.stats[0], abs=1e-12)
    # All twelve of pycocotools' figures, each named (AP is the mAP).
    names = ["AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR1", "AR10", "AR100", "AR_small", "AR_medium",
             "AR_large"]
    assert list(result.extra) == names
    assert [result.extra[n] for n in names] == pytest.approx([s if s >= 0 else math.nan for s in reference.stats[1:]], abs=1e-12,
                                                             nan_ok=True)
    precision = reference.eval["precision"]
    for k, cat_id in enumerate(reference.params.catIds):
        name = next(c["name"] for c in CATEGORIES if c["id"] == cat_id)
        p = precision[:, :, k, 0, -1]
        if np.any(p > -1):
            assert result.per_class[name] == pytest.approx(np.mean(p[p > -1]), abs=1e-12)
        else:
            assert math.isnan(result.per_class[name])
    assert math.isnan(result.per_class["cow"]) and result.num_det["cow"] > 0  # no GT: listed, not in mAP
    assert 0 < result.mAP < 1
    assert np.mean([ap for ap in result.per_class.values() if not math.isnan(ap)]) == pytest.approx(result.mAP)


def test_perfect_detections_score_one_and_curves_are_kept():
    labels = LabelSet(["cat", "dog"])
    gt = [ImageAnnotation(Path("a.jpg"), 100, 100, [Box("cat", 10, 10, 50, 60), Box("dog", 0, 0, 20, 20)])]
    dets = {"a": ImageDetections(np.array([[10, 10, 50, 60], [0, 0, 20, 20.0]]), np.array([0.9, 0.8]), np.array([0, 1]))}
    result = evaluate_coco(gt, dets, labels)
    assert result.mAP == pytest.approx(1.0) and result.per_class == pytest.approx({"cat": 1.0, "dog": 1.0})
    assert result.num_gt == {"cat": 1, "dog": 1} and result.num_det == {"cat": 1, "dog": 1}
    curve = result.curves["cat"]
    assert len(curve.recall) == 101 and np.allclose(curve.precision, 1.0)
    doc = result.to_json()
    assert list(doc)[:5] == ["metric", "mAP", "per_class", "AP50", "AP75"] and doc["metric"] == "coco"
    assert len(doc) == 3 + 11 and doc["AR100"] == pytest.approx(1.0)
    assert doc["per_class"] == pytest.approx({"cat": 1.0, "dog": 1.0}) and doc["AP75"] == pytest.approx(1.0)


def test_no_detections_gives_zero_not_an_error():
    labels = LabelSet(["cat"])
    gt = [ImageAnnotation(Path("a.jpg"), 100, 100, [Box("cat", 10, 10, 50, 60)])]
    result = evaluate_coco(gt, {}, labels)
    assert result.mAP == 0.0 and result.per_class == {"cat": 0.0} and result.extra["AP50"] == 0.0


def test_difficult_box_neither_counts_nor_penalises():
    labels = LabelSet(["cat"])
    gt = [ImageAnnotation(Path("a.jpg"), 200, 200, [Box("cat", 10, 10, 50, 60),
                                                     Box("cat", 100, 100, 180, 180, difficult=True)])]
    boxes = np.array([[100, 100, 180, 180], [10, 10, 50, 60.0]])
    result = evaluate_coco(gt, {"a": ImageDetections(boxes, np.array([0.95, 0.9]), np.array([0, 0]))}, labels)
    assert result.num_gt == {"cat": 1}
    assert result.per_class["cat"] == pytest.approx(1.0)  # the detection on the difficult cat is not an FP


def test_category_ids_must_match_classes():
    gt = [ImageAnnotation(Path("a.jpg"), 100, 100, [])]
    with pytest.raises(ValueError, match="distinct category ids"):
        evaluate_coco(gt, {}, LabelSet(["cat", "dog"]), category_ids=[1, 1])
