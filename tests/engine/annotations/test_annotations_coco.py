"""COCO JSON: round trip, structure (readable by pycocotools), difficult/iscrowd, malformed files, in-place update."""
import json

import pytest
from pycocotools.coco import COCO

from engine.annotations.coco import read_coco_json, update_coco_json, write_coco_json
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet

LABELS = LabelSet(["cat", "dog", "bird"])


def _dataset(root):
    return [
        ImageAnnotation(root / "a.jpg", 640, 480, [Box("dog", 10.5, 20, 300.25, 400), Box("cat", 0, 0, 5, 5, True)],
                        verified=True),
        ImageAnnotation(root / "sub" / "b.png", 320, 240, []),
        ImageAnnotation(root / "c.jpg", 100, 50, [Box("bird", 1, 2, 3, 4)]),
    ]


def test_round_trip(tmp_path):
    annotations = _dataset(tmp_path)
    path = write_coco_json(annotations, LABELS, tmp_path / "annotations.json")
    back, labels = read_coco_json(path)
    assert labels == LABELS
    assert back == annotations


def test_written_structure(tmp_path):
    path = write_coco_json(_dataset(tmp_path), LABELS, tmp_path / "annotations.json")
    data = json.loads(path.read_text())
    assert data["categories"] == [{"id": 1, "name": "cat", "supercategory": ""},
                                  {"id": 2, "name": "dog", "supercategory": ""},
                                  {"id": 3, "name": "bird", "supercategory": ""}]
    assert [im["file_name"] for im in data["images"]] == ["a.jpg", "sub/b.png", "c.jpg"]
    dog, cat, bird = data["annotations"]
    assert dog["bbox"] == [10.5, 20, 289.75, 380] and dog["area"] == 289.75 * 380
    assert (dog["category_id"], dog["image_id"], dog["iscrowd"]) == (2, 1, 0) and "difficult" not in dog
    assert cat["difficult"] == 1 and cat["iscrowd"] == 0
    assert bird["image_id"] == 3 and len({a["id"] for a in data["annotations"]}) == 3


def test_pycocotools_reads_what_we_write(tmp_path):
    path = write_coco_json(_dataset(tmp_path), LABELS, tmp_path / "annotations.json")
    coco = COCO(str(path))
    assert sorted(coco.getCatIds()) == [1, 2, 3]
    assert len(coco.getAnnIds(imgIds=[1])) == 2


def test_image_outside_root_keeps_absolute_path(tmp_path):
    outside = tmp_path / "elsewhere" / "x.jpg"
    (tmp_path / "ds").mkdir()
    path = write_coco_json([ImageAnnotation(outside, 10, 10, [])], LABELS, tmp_path / "ds" / "annotations.json")
    assert json.loads(path.read_text())["images"][0]["file_name"] == str(outside.resolve())
    (back,), _ = read_coco_json(path)
    assert back.image_path.resolve() == outside.resolve()


def test_reads_iscrowd_as_difficult_and_sparse_category_ids_in_id_order(tmp_path):
    path = tmp_path / "instances.json"
    path.write_text(json.dumps({
        "images": [{"id": 7, "file_name": "x.jpg", "width": 50, "height": 40}],
        "annotations": [{"id": 1, "image_id": 7, "category_id": 90, "bbox": [1, 2, 10, 20], "iscrowd": 1},
                        {"id": 2, "image_id": 7, "category_id": 3, "bbox": [0, 0, 5, 5]}],
        "categories": [{"id": 90, "name": "toothbrush"}, {"id": 3, "name": "car"}],
    }))
    (ann,), labels = read_coco_json(path, image_root=tmp_path / "imgs")
    assert labels.names == ["car", "toothbrush"]
    assert ann.image_path == tmp_path / "imgs" / "x.jpg"
    assert ann.boxes == [Box("toothbrush", 1, 2, 11, 22, difficult=True), Box("car", 0, 0, 5, 5)]


def _coco(**changes):
    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]}],
            "categories": [{"id": 1, "name": "cat"}]}
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize("text, problem, where", [
    ('{"images": [], "annotations": [,]}', "not valid JSON", "line 1, column"),
    ("[1, 2]", "top level is a JSON list", None),
    ('{"images": [], "annotations": []}', "missing the 'categories' list", "categories"),
    (_coco(annotations=[{"id": 5, "image_id": 2, "category_id": 1, "bbox": [1, 1, 4, 4]}]),
     "unknown image_id 2", "annotations[0] (id 5)"),
    (_coco(annotations=[{"id": 5, "image_id": 1, "category_id": 9, "bbox": [1, 1, 4, 4]}]),
     "unknown category_id 9", "annotations[0] (id 5)"),
    (_coco(annotations=[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 4]}]), "bbox must be [x, y, w, h]",
     "annotations[0]"),
    (_coco(annotations=[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 0, 4]}]), "zero or negative size",
     "annotations[0]"),
    (_coco(images=[{"id": 1, "width": 10}]), "'file_name' must be a non-empty str", "images[0]"),
    (_coco(categories=[{"id": 1, "name": "cat"}, {"id": 1, "name": "dog"}]), "category id 1 used twice",
     "categories[1]"),
])
def test_malformed_file_names_file_and_entry(tmp_path, text, problem, where):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(AnnotationError) as info:
        read_coco_json(path)
    assert info.value.path == path
    assert problem in info.value.problem
    if where:
        assert where in info.value.where


def test_update_replaces_one_image_and_keeps_everything_else(tmp_path):
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps({
        "info": {"description": "user's dataset"},
        "images": [{"id": 10, "file_name": "a.jpg", "width": 10, "height": 10, "license": 3},
                   {"id": 11, "file_name": "b.jpg", "width": 10, "height": 10}],
        "annotations": [{"id": 100, "image_id": 10, "category_id": 5, "bbox": [1, 1, 2, 2], "segmentation": [[1, 1]]},
                        {"id": 101, "image_id": 11, "category_id": 5, "bbox": [2, 2, 3, 3]}],
        "categories": [{"id": 5, "name": "cat"}],
    }))
    labels = LabelSet(["cat", "fish"])
    update_coco_json(path, ImageAnnotation(tmp_path / "b.jpg", 10, 10, [Box("fish", 0, 0, 4, 4)]), labels)
    data = json.loads(path.read_text())
    assert data["info"] == {"description": "user's dataset"}
    assert data["images"][0]["license"] == 3
    assert data["categories"][1] == {"id": 6, "name": "fish", "supercategory": ""}
    assert data["annotations"][0]["segmentation"] == [[1, 1]]  # other image untouched
    assert [(a["image_id"], a["category_id"], a["id"]) for a in data["annotations"]] == [(10, 5, 100), (11, 6, 102)]

    update_coco_json(path, ImageAnnotation(tmp_path / "new.jpg", 8, 6, [Box("cat", 1, 1, 2, 2)]), labels)
    annotations, _ = read_coco_json(path)
    assert [a.image_path.name for a in annotations] == ["a.jpg", "b.jpg", "new.jpg"]
    assert annotations[2].boxes == [Box("cat", 1, 1, 2, 2)]


def test_update_starts_a_new_file(tmp_path):
    path = tmp_path / "annotations.json"
    ann = ImageAnnotation(tmp_path / "a.jpg", 10, 10, [Box("cat", 1, 1, 2, 2)])
    update_coco_json(path, ann, LABELS)
    assert read_coco_json(path) == ([ann], LABELS)


def test_quick_path_reads_exactly_what_the_checked_path_reads(tmp_path, monkeypatch):
    """Valid entries take a quick path (100,000 images in seconds); every entry, odd or bad, must come out as the
    checked path alone reads it, with the same problems named."""
    import engine.annotations.coco as coco

    entries = [{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
               {"image_id": 1, "category_id": 2, "bbox": [1.5, 2, 3.25, 4], "iscrowd": 1},
               {"image_id": 2.0, "category_id": 1, "bbox": [0, 0, 1, 1]},  # a whole float id: accepted
               {"image_id": 2, "category_id": 1.0, "bbox": [0, 0, 1, 1], "difficult": 1},
               {"image_id": True, "category_id": 1, "bbox": [0, 0, 1, 1]},  # bool: not an id
               {"image_id": 1, "category_id": 1, "bbox": [0, 0, True, 1]},
               {"image_id": 1, "category_id": 1, "bbox": [0, 0, "1", 1]},
               {"image_id": 1, "category_id": 1, "bbox": [0, 0, 0, 1]},
               {"image_id": 1, "category_id": 1, "bbox": [0, 0, -2, 1]},
               {"image_id": 1, "category_id": 1, "bbox": [0, 0, float("inf"), 1]},
               {"image_id": 1, "category_id": 1, "bbox": [1e308, 1e308, 1, 1]},  # finite, their sum is not
               {"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]},
               {"image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1]},
               {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1]},
               {"image_id": 1, "category_id": 1},
               "not an object", {"id": 5, "image_id": "1", "category_id": 1, "bbox": [0, 0, 1, 1]}]
    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10},
                       {"id": 2.0, "file_name": "sub\\b.jpg"}],
            "annotations": entries, "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    path = tmp_path / "annotations.json"

    def read():
        problems = []
        records, labels = coco._read_records(path, data, problems)
        return [(r.image_path, r.width, r.height, r.boxes) for r in records], labels.names, [str(p) for p in problems]

    quick = read()
    monkeypatch.setattr(coco, "_read_usual_annotation", lambda *args: False)
    assert quick == read()
    assert len(quick[0][0][3]) == 3 and quick[0][1][0] == "sub/b.jpg" and len(quick[2]) == 12
