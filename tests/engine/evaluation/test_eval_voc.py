"""VOC AP against a literal, loop-style copy of the devkit's voc_eval (py-faster-rcnn) and hand cases."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from engine.annotations.records import Box, ImageAnnotation, LabelSet
from engine.evaluation import ImageDetections, evaluate, evaluate_voc, voc_ap

# ---------------------------------------------------------------- reference (devkit, loop style)


def devkit_voc_ap(rec, prec, use_07_metric=False):
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            if np.sum(rec >= t) == 0:
                p = 0
            else:
                p = np.max(prec[rec >= t])
            ap = ap + p / 11.0
    else:
        mrec = np.concatenate(([0.0], rec, [1.0]))
        mpre = np.concatenate(([0.0], prec, [0.0]))
        for i in range(mpre.size - 1, 0, -1):
            mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
        i = np.where(mrec[1:] != mrec[:-1])[0]
        ap = np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])
    return ap


def devkit_voc_eval(recs, det_lines, classname, ovthresh=0.5, use_07_metric=False):
    """recs: {imagename: [{'name', 'bbox', 'difficult'}]}; det_lines: [(imagename, score, x1, y1, x2, y2)]
    for this class, in file order. Returns (rec, prec, ap); ap is nan-ish when npos == 0."""
    class_recs = {}
    npos = 0
    for imagename in recs:
        R = [obj for obj in recs[imagename] if obj["name"] == classname]
        bbox = np.array([x["bbox"] for x in R])
        difficult = np.array([x["difficult"] for x in R]).astype(bool)
        det = [False] * len(R)
        npos = npos + sum(~difficult)
        class_recs[imagename] = {"bbox": bbox, "difficult": difficult, "det": det}

    image_ids = [x[0] for x in det_lines]
    confidence = np.array([float(x[1]) for x in det_lines])
    BB = np.array([[float(z) for z in x[2:]] for x in det_lines]).reshape(-1, 4)
    sorted_ind = np.argsort(-confidence, kind="stable")  # MATLAB devkit's sort is stable
    BB = BB[sorted_ind, :]
    image_ids = [image_ids[x] for x in sorted_ind]

    nd = len(image_ids)
    tp = np.zeros(nd)
    fp = np.zeros(nd)
    for d in range(nd):
        R = class_recs[image_ids[d]]
        bb = BB[d, :].astype(float)
        ovmax = -np.inf
        BBGT = R["bbox"].astype(float)
        if BBGT.size > 0:
            ixmin = np.maximum(BBGT[:, 0], bb[0])
            iymin = np.maximum(BBGT[:, 1], bb[1])
            ixmax = np.minimum(BBGT[:, 2], bb[2])
            iymax = np.minimum(BBGT[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
            ih = np.maximum(iymax - iymin + 1.0, 0.0)
            inters = iw * ih
            uni = ((bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                   + (BBGT[:, 2] - BBGT[:, 0] + 1.0) * (BBGT[:, 3] - BBGT[:, 1] + 1.0) - inters)
            overlaps = inters / uni
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if ovmax > ovthresh:
            if not R["difficult"][jmax]:
                if not R["det"][jmax]:
                    tp[d] = 1.0
                    R["det"][jmax] = 1
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0

    fp = np.cumsum(fp)
    tp = np.cumsum(tp)
    with np.errstate(divide="ignore", invalid="ignore"):
        rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    ap = devkit_voc_ap(rec, prec, use_07_metric) if npos else math.nan
    return rec, prec, ap


# ---------------------------------------------------------------- random data


def random_dataset(seed: int, num_images=25, classes=("cat", "dog", "bird", "empty")):
    """GT with difficult flags (and a class never annotated), detections with near-duplicates,
    jittered copies of GT, background boxes, integer and fractional coordinates."""
    rng = np.random.default_rng(seed)
    labels = LabelSet(list(classes))
    gt, detections = [], {}
    for i in range(num_images):
        boxes = []
        for _ in range(rng.integers(0, 6)):
            x1, y1 = rng.integers(0, 300, size=2)
            w, h = rng.integers(5, 120, size=2)
            boxes.append(Box(str(rng.choice(classes[:3])), float(x1), float(y1), float(x1 + w), float(y1 + h),
                             difficult=bool(rng.random() < 0.2)))
        gt.append(ImageAnnotation(Path(f"/data/img_{i:03d}.jpg"), 400, 400, boxes))
        det_boxes, det_labels = [], []
        for b in boxes:
            for _ in range(rng.integers(0, 4)):  # 0..3 detections per object: misses and duplicates
                jitter = rng.normal(0, 6, size=4)
                if rng.random() < 0.5:
                    jitter = np.round(jitter)
                det_boxes.append(np.array(b.xyxy()) + jitter)
                label = b.label if rng.random() < 0.85 else str(rng.choice(classes))
                det_labels.append(labels.index(label))
        for _ in range(rng.integers(0, 4)):  # background false positives
            x1, y1 = rng.uniform(0, 300, size=2)
            w, h = rng.uniform(3, 100, size=2)
            det_boxes.append(np.array([x1, y1, x1 + w, y1 + h]))
            det_labels.append(int(rng.integers(0, len(classes))))
        if det_boxes and rng.random() < 0.9:  # some images have no detections entry at all
            detections[gt[-1].image_id] = ImageDetections(
                np.array(det_boxes), rng.random(len(det_boxes)), np.array(det_labels))
    return gt, detections, labels


def reference_for(gt, detections, labels, use_07_metric):
    recs = {ann.image_id: [{"name": b.label, "bbox": list(b.xyxy()), "difficult": b.difficult} for b in ann.boxes]
            for ann in gt}
    result = {}
    for class_id, name in enumerate(labels.names):
        lines = []
        for ann in gt:  # the det file lists images in GT order, detections in their own order
            if ann.image_id not in detections:
                continue
            d = detections[ann.image_id]
            for box, score, label in zip(d.boxes, d.scores, d.labels):
                if label == class_id:
                    lines.append((ann.image_id, score, *box))
        result[name] = devkit_voc_eval(recs, lines, name, use_07_metric=use_07_metric)
    return result


@pytest.mark.parametrize("use_07_metric", [True, False])
@pytest.mark.parametrize("seed", range(8))
def test_equals_devkit_on_random_data(seed, use_07_metric):
    gt, detections, labels = random_dataset(seed)
    result = evaluate_voc(gt, detections, labels, use_07_metric=use_07_metric)
    reference = reference_for(gt, detections, labels, use_07_metric)
    for name, (rec, prec, ap) in reference.items():
        if math.isnan(ap):
            assert math.isnan(result.per_class[name])
            continue
        assert result.per_class[name] == pytest.approx(ap, abs=1e-9), name
        np.testing.assert_allclose(result.curves[name].recall, rec, atol=1e-12)
        np.testing.assert_allclose(result.curves[name].precision, prec, atol=1e-12)
    defined = [ap for _, _, ap in reference.values() if not math.isnan(ap)]
    assert result.mAP == pytest.approx(np.mean(defined), abs=1e-9)
    assert result.metric == ("voc07" if use_07_metric else "voc")


def test_random_data_exercises_every_branch():
    """Guard on the generator: duplicates, difficult matches and an unannotated class all occur."""
    gt, detections, labels = random_dataset(0)
    assert any(b.difficult for ann in gt for b in ann.boxes)
    result = evaluate_voc(gt, detections, labels)
    assert math.isnan(result.per_class["empty"]) and result.num_det["empty"] > 0
    assert 0 < result.mAP < 1


def test_tied_scores_follow_image_then_detection_order():
    gt = [ImageAnnotation(Path("a.jpg"), 100, 100, [Box("cat", 0, 0, 10, 10)]),
          ImageAnnotation(Path("b.jpg"), 100, 100, [Box("cat", 0, 0, 10, 10)])]
    dets = {"a": ImageDetections(np.array([[50.0, 50, 60, 60]]), np.array([0.5]), np.array([0])),
            "b": ImageDetections(np.array([[0.0, 0, 10, 10]]), np.array([0.5]), np.array([0]))}
    labels = LabelSet(["cat"])
    result = evaluate_voc(gt, dets, labels, use_07_metric=False)
    rec, prec, ap = reference_for(gt, dets, labels, False)["cat"]
    np.testing.assert_array_equal(result.curves["cat"].precision, [0.0, 0.5])
    assert result.per_class["cat"] == ap == 0.25


# ---------------------------------------------------------------- hand-computed cases


def one_image(boxes, dets, names=("cat", "dog")):
    labels = LabelSet(list(names))
    gt = [ImageAnnotation(Path("/d/img1.png"), 200, 200, boxes)]
    d = {"img1": ImageDetections(np.array([x[0] for x in dets], dtype=float).reshape(-1, 4),
                                 np.array([x[1] for x in dets], dtype=float),
                                 np.array([labels.index(x[2]) for x in dets]))}
    return gt, d, labels


def test_true_positive_then_duplicate_is_false_positive():
    gt, dets, labels = one_image(
        [Box("cat", 10, 10, 49, 49), Box("dog", 100, 100, 139, 139)],
        [([10, 10, 49, 49], 0.9, "cat"), ([11, 11, 50, 50], 0.8, "cat"), ([100, 100, 139, 139], 0.7, "dog")])
    result = evaluate_voc(gt, dets, labels, use_07_metric=False)
    # cat: TP then duplicate FP -> precision 1, 1/2; recall 1, 1 -> all-point AP 1.
    np.testing.assert_array_equal(result.curves["cat"].precision, [1.0, 0.5])
    np.testing.assert_array_equal(result.curves["cat"].recall, [1.0, 1.0])
    assert result.per_class == {"cat": 1.0, "dog": 1.0}
    assert result.num_gt == {"cat": 1, "dog": 1} and result.num_det == {"cat": 2, "dog": 1}


def test_duplicate_ranked_first_costs_precision():
    # The lower-IoU duplicate scores higher: it takes the object; the exact box is then an FP.
    gt, dets, labels = one_image([Box("cat", 0, 0, 99, 99)],
                                 [([0, 0, 99, 99], 0.5, "cat"), ([0, 0, 79, 99], 0.9, "cat")])
    result = evaluate_voc(gt, dets, labels, use_07_metric=True)
    np.testing.assert_array_equal(result.curves["cat"].precision, [1.0, 0.5])
    assert result.per_class["cat"] == pytest.approx(1.0)


def test_detection_goes_to_best_overlap_even_if_taken():
    # Two cats side by side; the second detection overlaps the taken one most -> FP, even though
    # it also overlaps the free one by more than 0.5.
    a, b = Box("cat", 0, 0, 99, 99), Box("cat", 10, 0, 109, 99)
    gt, dets, labels = one_image([a, b], [([0, 0, 99, 99], 0.9, "cat"), ([2, 0, 101, 99], 0.8, "cat")])
    result = evaluate_voc(gt, dets, labels, use_07_metric=False)
    np.testing.assert_array_equal(result.curves["cat"].precision, [1.0, 0.5])
    np.testing.assert_array_equal(result.curves["cat"].recall, [0.5, 0.5])
    assert result.per_class["cat"] == 0.5


def test_difficult_match_is_ignored_and_not_counted():
    gt, dets, labels = one_image(
        [Box("cat", 0, 0, 49, 49), Box("cat", 100, 100, 149, 149, difficult=True)],
        [([100, 100, 149, 149], 0.95, "cat"), ([0, 0, 49, 49], 0.9, "cat")])
    result = evaluate_voc(gt, dets, labels, use_07_metric=False)
    assert result.num_gt["cat"] == 1  # the difficult cat is not a positive
    np.testing.assert_array_equal(result.curves["cat"].precision, [0.0, 1.0])  # ignored: neither TP nor FP
    np.testing.assert_array_equal(result.curves["cat"].recall, [0.0, 1.0])
    assert result.per_class["cat"] == 1.0


def test_iou_of_exactly_half_is_not_a_match():
    # +1 sizes: GT 0..9 (10 px), detection 0..4 (5 px): IoU = 50 / 100 = 0.5 -> not > 0.5.
    gt, dets, labels = one_image([Box("cat", 0, 0, 9, 9)], [([0, 0, 4, 9], 0.9, "cat")])
    assert evaluate_voc(gt, dets, labels).per_class["cat"] == 0.0
    gt, dets, labels = one_image([Box("cat", 0, 0, 9, 9)], [([0, 0, 5, 9], 0.9, "cat")])  # 60/100
    assert evaluate_voc(gt, dets, labels).per_class["cat"] == pytest.approx(1.0)


def test_class_without_ground_truth_is_listed_but_not_in_map():
    gt, dets, labels = one_image([Box("cat", 0, 0, 49, 49)],
                                 [([0, 0, 49, 49], 0.9, "cat"), ([60, 60, 90, 90], 0.8, "dog")], names=("cat", "dog", "cow"))
    result = evaluate_voc(gt, dets, labels, use_07_metric=False)
    assert list(result.per_class) == ["cat", "dog", "cow"]
    assert math.isnan(result.per_class["dog"]) and math.isnan(result.per_class["cow"])
    assert result.num_det["dog"] == 1 and result.num_gt["dog"] == 0
    assert result.mAP == 1.0
    assert result.to_json() == {"metric": "voc", "mAP": 1.0, "per_class": {"cat": 1.0, "dog": None, "cow": None}}


def test_eleven_point_and_all_point_differ_as_defined():
    # recall 0.5 at precision 1, then recall 1.0 at precision 2/3 (an FP in between).
    rec, prec = np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3])
    assert voc_ap(rec, prec, use_07_metric=False) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert voc_ap(rec, prec, use_07_metric=True) == pytest.approx((6 * 1 + 5 * 2 / 3) / 11)


def test_missed_objects_and_no_detections_give_zero():
    gt, dets, labels = one_image([Box("cat", 0, 0, 49, 49), Box("dog", 0, 0, 49, 49)], [])
    result = evaluate(gt, dets, labels, metric="voc")
    assert result.per_class == {"cat": 0.0, "dog": 0.0} and result.mAP == 0.0


def test_accepts_torch_detections():
    torch = pytest.importorskip("torch")
    gt, dets, labels = one_image([Box("cat", 0, 0, 49, 49)], [([0, 0, 49, 49], 0.9, "cat")])
    d = dets["img1"]
    as_torch = {"img1": ImageDetections(torch.tensor(d.boxes), torch.tensor(d.scores), torch.tensor(d.labels))}
    assert evaluate_voc(gt, as_torch, labels).per_class["cat"] == pytest.approx(1.0)


@pytest.mark.parametrize("dets, problem", [
    ({"nope": ImageDetections(np.zeros((0, 4)), np.zeros(0), np.zeros(0))}, "not in the ground truth"),
    ({"img1": ImageDetections(np.zeros((1, 4)), np.ones(1), np.array([5]))}, "class ids must be in 0..1"),
    ({"img1": ImageDetections(np.zeros((2, 4)), np.ones(1), np.array([0]))}, "same K detections"),
    ({"img1": ImageDetections(np.full((1, 4), np.nan), np.ones(1), np.array([0]))}, "finite"),
])
def test_bad_detections_are_named(dets, problem):
    gt, _, labels = one_image([Box("cat", 0, 0, 49, 49)], [])
    with pytest.raises(ValueError, match=problem):
        evaluate_voc(gt, dets, labels)


def test_ground_truth_class_missing_from_labels_names_the_image():
    gt, dets, _ = one_image([Box("zebra", 0, 0, 49, 49)], [])
    with pytest.raises(ValueError, match=r"img1\.png.*'zebra'"):
        evaluate_voc(gt, {}, LabelSet(["cat"]))


@pytest.mark.parametrize("seed", range(4))
def test_tied_scores_follow_the_results_file_order_as_the_devkit(tmp_path, seed):
    """The devkit sorts a class's detections stably over its results file: with tied scores, the file's order
    decides which detection comes first. A results file listing images in another order than the ground truth
    (and many ties: scores rounded to one decimal) must give the devkit's AP, not the ground-truth order's."""
    import json

    from engine.evaluation.detections_file import read_detections_json

    gt, detections, labels = random_dataset(seed)
    entries = []
    for image_id, d in detections.items():
        for box, score, label in zip(d.boxes, d.scores, d.labels):
            x1, y1, x2, y2 = (float(v) for v in box)
            if x2 <= x1 or y2 <= y1:
                continue  # the generator's inverted boxes: a results file has positive sizes
            entries.append({"image_id": image_id, "category_id": int(label), "bbox": [x1, y1, x2 - x1, y2 - y1],
                            "score": round(float(score), 1)})
    np.random.default_rng(seed).shuffle(entries)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(entries))
    read = read_detections_json(path, [ann.image_id for ann in gt], list(range(len(labels))))
    result = evaluate_voc(gt, read, labels, use_07_metric=False)
    recs = {ann.image_id: [{"name": b.label, "bbox": list(b.xyxy()), "difficult": b.difficult} for b in ann.boxes]
            for ann in gt}
    differs = False
    for class_id, name in enumerate(labels.names):
        lines = [(e["image_id"], e["score"], e["bbox"][0], e["bbox"][1], e["bbox"][0] + e["bbox"][2],
                  e["bbox"][1] + e["bbox"][3]) for e in entries if e["category_id"] == class_id]
        _, _, ap = devkit_voc_eval(recs, lines, name)
        if math.isnan(ap):
            continue
        assert result.per_class[name] == pytest.approx(ap, abs=1e-9), name
        in_gt_order = reference_for(gt, read, labels, False)[name][2]
        differs |= abs(in_gt_order - ap) > 1e-9
    assert differs or seed  # at least the first seed shows the file order mattering
