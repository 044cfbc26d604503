"""`resyolo eval` end to end: real GT files (VOC XML folder, COCO JSON) and results files on disk."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from engine.cli import main


def write_voc_folder(folder: Path, images: dict[str, list[tuple]], classes: list[str] | None = None) -> Path:
    """images: stem -> [(name, xmin, ymin, xmax, ymax, difficult)]; writes stem.png + stem.xml by hand."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, objects in images.items():
        Image.new("RGB", (200, 160)).save(folder / f"{stem}.png")
        objs = "".join(
            f"<object><name>{n}</name><difficult>{int(d)}</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
            f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>" for n, x1, y1, x2, y2, d in objects)
        (folder / f"{stem}.xml").write_text(
            f"<annotation><folder>{folder.name}</folder><filename>{stem}.png</filename>"
            f"<size><width>200</width><height>160</height><depth>3</depth></size>{objs}</annotation>")
    if classes is not None:
        (folder / "classes.txt").write_text("\n".join(classes) + "\n")
    return folder


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


def det(image_id, category_id, x1, y1, x2, y2, score):
    """A results entry from xyxy corners (bbox is [x, y, w, h])."""
    return {"image_id": image_id, "category_id": category_id, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score}


@pytest.fixture
def voc_folder(tmp_path):
    # classes.txt order differs from the sorted order: ids are dog=0, cat=1.
    return write_voc_folder(tmp_path / "gt", {
        "000001": [("cat", 10, 10, 59, 59, False), ("dog", 100, 20, 179, 99, False)],
        "000002": [("cat", 20, 30, 69, 89, False), ("cat", 120, 60, 169, 119, True)],
    }, classes=["dog", "cat"])


def test_voc_folder_table_and_json(voc_folder, tmp_path, capsys):
    dets = write_json(tmp_path / "dets.json", [
        det("000001", 1, 10, 10, 59, 59, 0.9),    # cat TP
        det("000001", 1, 11, 11, 60, 60, 0.8),    # cat duplicate -> FP
        det("000002", 1, 120, 60, 169, 119, 0.95),  # on the difficult cat -> ignored
        det("000002", 1, 20, 30, 69, 89, 0.7),    # cat TP
        det("000001", 0, 0, 100, 40, 150, 0.6),   # dog FP (background)
        det("000001", 0, 100, 20, 179, 99, 0.5),  # dog TP
    ])
    out = tmp_path / "report" / "map.json"
    out.parent.mkdir()

    assert main(["eval", "--gt", str(voc_folder), "--dt", str(dets), "--metric", "voc", "--json", str(out)]) == 0

    # cat: TP, FP, TP over 2 positives -> precision 1, .5, 2/3 at recall .5, .5, 1 -> AP .5 + .5 * 2/3.
    # dog: FP, TP over 1 positive -> AP 0.5.
    cat_ap, dog_ap = 0.5 + 0.5 * 2 / 3, 0.5
    doc = json.loads(out.read_text())
    assert doc == {"metric": "voc", "mAP": pytest.approx((cat_ap + dog_ap) / 2),
                   "per_class": {"dog": pytest.approx(dog_ap), "cat": pytest.approx(cat_ap)}}
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["class", "#GT", "#det", "AP"]
    assert lines[1].split() == ["dog", "1", "2", "0.5000"]
    assert lines[2].split() == ["cat", "2", "4", f"{cat_ap:.4f}"]
    assert lines[3].startswith("mAP (VOC all-point AP, IoU > 0.5): ") and f"{(cat_ap + dog_ap) / 2:.4f}" in lines[3]


def test_voc07_is_the_default_metric(voc_folder, tmp_path, capsys):
    dets = write_json(tmp_path / "dets.json", [det("000001", 1, 10, 10, 59, 59, 0.9)])
    out = tmp_path / "m.json"
    assert main(["eval", "--gt", str(voc_folder), "--dt", str(dets), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    # cat: recall .5 at precision 1 -> 6 of 11 points; dog: no detection -> 0.
    assert doc["metric"] == "voc07" and doc["per_class"]["cat"] == pytest.approx(6 / 11)
    assert doc["per_class"]["dog"] == 0.0 and doc["mAP"] == pytest.approx(3 / 11)
    assert "VOC2007 11-point" in capsys.readouterr().out


def test_folder_without_classes_txt_uses_sorted_names(tmp_path):
    folder = write_voc_folder(tmp_path / "gt", {"a": [("zebra", 0, 0, 49, 49, False)],
                                                "b": [("ant", 0, 0, 49, 49, False)]})
    # ant = 0, zebra = 1, whatever the order they appear in
    dets = write_json(tmp_path / "dets.json", [det("a", 1, 0, 0, 49, 49, 0.9), det("b", 0, 0, 0, 49, 49, 0.9)])
    out = tmp_path / "m.json"
    assert main(["eval", "--gt", str(folder), "--dt", str(dets), "--json", str(out)]) == 0
    per_class = json.loads(out.read_text())["per_class"]
    assert list(per_class) == ["ant", "zebra"] and per_class == pytest.approx({"ant": 1.0, "zebra": 1.0})


def test_numeric_image_id_matches_a_numeric_file_name(tmp_path):
    folder = write_voc_folder(tmp_path / "gt", {"12": [("cat", 0, 0, 49, 49, False)]})
    dets = write_json(tmp_path / "dets.json", [det(12, 0, 0, 0, 49, 49, 0.9)])
    out = tmp_path / "m.json"
    assert main(["eval", "--gt", str(folder), "--dt", str(dets), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["mAP"] == pytest.approx(1.0)


def coco_files(tmp_path):
    categories = [{"id": 5, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 9, "name": "cow"}]
    images = [{"id": 31, "file_name": "x.jpg", "width": 300, "height": 200},
              {"id": 7, "file_name": "sub/y.jpg", "width": 300, "height": 200},
              {"id": 12, "file_name": "z.jpg", "width": 300, "height": 200}]
    anns = [(31, 5, [10, 10, 50, 40], 0), (31, 2, [100, 50, 80, 60], 0), (7, 5, [0, 0, 120.5, 90], 0),
            (7, 5, [150, 100, 40, 40], 1), (7, 2, [200, 20, 60, 60], 0)]
    gt = write_json(tmp_path / "instances.json", {
        "images": images, "categories": categories,
        "annotations": [{"id": i + 1, "image_id": im, "category_id": c, "bbox": b, "area": b[2] * b[3], "iscrowd": cr}
                        for i, (im, c, b, cr) in enumerate(anns)]})
    dets = write_json(tmp_path / "results.json", [
        {"image_id": 31, "category_id": 5, "bbox": [12, 11, 47, 40], "score": 0.9},
        {"image_id": 31, "category_id": 5, "bbox": [14, 8, 44, 43], "score": 0.85},
        {"image_id": 31, "category_id": 2, "bbox": [104, 55, 80, 50], "score": 0.6},
        {"image_id": 7, "category_id": 5, "bbox": [5, 3, 110, 85.5], "score": 0.7},
        {"image_id": 7, "category_id": 5, "bbox": [150, 100, 40, 40], "score": 0.95},
        {"image_id": 7, "category_id": 2, "bbox": [210, 25, 55, 50], "score": 0.8},
        {"image_id": 12, "category_id": 2, "bbox": [0, 0, 30, 30], "score": 0.75},
        {"image_id": 12, "category_id": 9, "bbox": [0, 0, 30, 30], "score": 0.5},
    ])
    return gt, dets


def test_coco_metric_equals_pycocotools(tmp_path, capsys):
    gt, dets = coco_files(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(gt))
        reference = COCOeval(coco_gt, coco_gt.loadRes(str(dets)), "bbox")
        reference.evaluate()
        reference.accumulate()
        reference.summarize()
    out = tmp_path / "coco.json"

    assert main(["eval", "--gt", str(gt), "--dt", str(dets), "--metric", "coco", "--json", str(out)]) == 0

    doc = json.loads(out.read_text())
    assert doc["metric"] == "coco"
    assert (doc["mAP"], doc["AP50"], doc["AP75"]) == pytest.approx(tuple(reference.stats[:3]), abs=1e-12)
    precision = reference.eval["precision"]
    for name, cat_id in [("cat", 5), ("dog", 2)]:
        p = precision[:, :, reference.params.catIds.index(cat_id), 0, -1]
        assert doc["per_class"][name] == pytest.approx(p[p > -1].mean(), abs=1e-12)
    assert doc["per_class"]["cow"] is None  # no ground truth: listed, not in mAP
    assert 0 < doc["mAP"] < 1
    text = capsys.readouterr().out
    assert "COCO AP@[.5:.95]" in text and "AP50:" in text and "no ground truth" in text


def test_coco_gt_with_voc_metric_uses_the_file_category_ids(tmp_path):
    gt, _ = coco_files(tmp_path)
    dets = write_json(tmp_path / "d.json", [{"image_id": 31, "category_id": 2, "bbox": [100, 50, 80, 60], "score": 1}])
    out = tmp_path / "m.json"
    assert main(["eval", "--gt", str(gt), "--dt", str(dets), "--metric", "voc", "--json", str(out)]) == 0
    per_class = json.loads(out.read_text())["per_class"]
    assert per_class["dog"] == pytest.approx(0.5) and per_class["cat"] == 0.0  # 1 of 2 dogs found


@pytest.mark.parametrize("content, problem", [
    ('[{"image_id": "000001", ', "not valid JSON"),
    ('{"image_id": "000001"}', "expected a JSON list"),
    ('[42]', "entry 0: expected an object"),
    ('[{"image_id": "000001", "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5},'
     ' {"image_id": "000009", "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}]', "entry 1: unknown image_id '000009'"),
    ('[{"image_id": "000001", "category_id": 7, "bbox": [1, 1, 5, 5], "score": 0.5}]', "entry 0: unknown category_id 7"),
    ('[{"image_id": "000001", "category_id": true, "bbox": [1, 1, 5, 5], "score": 0.5}]', "entry 0: unknown category_id True"),
    ('[{"image_id": "000001", "category_id": 1, "bbox": [1, 1, 5], "score": 0.5}]', "entry 0: bbox must be 4 finite numbers"),
    ('[{"image_id": "000001", "category_id": 1, "bbox": [1, 1, "5", 5], "score": 0.5}]', "entry 0: bbox must be 4"),
    ('[{"image_id": "000001", "category_id": 1, "bbox": [1, 1, 0, 5], "score": 0.5}]', "entry 0: bbox width and height must be positive"),
    ('[{"image_id": "000001", "category_id": 1, "bbox": [1, 1, 5, -2], "score": 0.5}]', "entry 0: bbox width and height must be positive"),
    ('[{"image_id": "000001", "category_id": 1, "bbox": [1, 1, 5, 5]}]', "entry 0: missing score"),
    ('[{"image_id": "000001", "category_id": 1, "bbox": [1, 1, 5, 5], "score": "high"}]', "entry 0: score must be a finite number"),
])
def test_bad_detections_file_names_the_entry_and_exits_2(voc_folder, tmp_path, capsys, content, problem):
    dets = tmp_path / "dets.json"
    dets.write_text(content)
    out = tmp_path / "m.json"
    assert main(["eval", "--gt", str(voc_folder), "--dt", str(dets), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(dets) in err and problem in err
    assert not out.exists()


def test_every_bad_entry_is_reported(voc_folder, tmp_path, capsys):
    entries = [det("nope", 1, 0, 0, 5, 5, 0.5) for _ in range(13)]
    dets = write_json(tmp_path / "dets.json", entries)
    assert main(["eval", "--gt", str(voc_folder), "--dt", str(dets)]) == 2
    err = capsys.readouterr().err
    assert "entry 0:" in err and "entry 9:" in err and "entry 10:" not in err and "and 3 more problems" in err


def test_missing_files_exit_2(voc_folder, tmp_path, capsys):
    assert main(["eval", "--gt", str(tmp_path / "nowhere"), "--dt", str(tmp_path / "d.json")]) == 2
    assert "nowhere: no such file or folder" in capsys.readouterr().err
    assert main(["eval", "--gt", str(voc_folder), "--dt", str(tmp_path / "absent.json")]) == 2
    assert "absent.json: file not found" in capsys.readouterr().err


def test_broken_ground_truth_names_the_file(voc_folder, tmp_path, capsys):
    (voc_folder / "000002.xml").write_text("<annotation><object>")
    dets = write_json(tmp_path / "dets.json", [])
    assert main(["eval", "--gt", str(voc_folder), "--dt", str(dets)]) == 2
    assert "000002.xml" in capsys.readouterr().err

    broken_coco = tmp_path / "bad.json"
    broken_coco.write_text('{"images": []}')
    assert main(["eval", "--gt", str(broken_coco), "--dt", str(dets)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_unlabelled_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    dets = write_json(tmp_path / "dets.json", [])
    assert main(["eval", "--gt", str(folder), "--dt", str(dets)]) == 2
    assert "no label files" in capsys.readouterr().err


def test_one_entry_with_several_problems_lists_them_all(voc_folder, tmp_path, capsys):
    dets = write_json(tmp_path / "dets.json", [{"image_id": "x", "category_id": 4, "bbox": [0, 0, -1, 2]}])
    assert main(["eval", "--gt", str(voc_folder), "--dt", str(dets)]) == 2
    err = capsys.readouterr().err
    for problem in ("missing score", "unknown image_id 'x'", "unknown category_id 4 (known: 0, 1)",
                    "bbox width and height must be positive"):
        assert f"entry 0: {problem}" in err


def test_unwritable_json_output_is_reported(voc_folder, tmp_path, capsys):
    dets = write_json(tmp_path / "dets.json", [])
    assert main(["eval", "--gt", str(voc_folder), "--dt", str(dets), "--json", str(tmp_path / "no" / "m.json")]) == 1
    captured = capsys.readouterr()
    assert "mAP" in captured.out and "cannot write" in captured.err and "m.json" in captured.err


def test_a_class_missing_from_classes_txt_is_a_warning_not_a_silent_new_class(tmp_path, capsys):
    gt = write_voc_folder(tmp_path / "gt", {"000001": [("cat", 10, 10, 59, 59, False), ("bird", 0, 0, 9, 9, False)]},
                          classes=["cat"])
    dets = write_json(tmp_path / "dets.json", [det("000001", 0, 10, 10, 59, 59, 0.9)])
    assert main(["eval", "--gt", str(gt), "--dt", str(dets)]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "'bird'" in err and "not in the class list" in err and "category id 1" in err
