"""The format table: every format reads back what it writes (a hypothesis property over random annotations),
layouts written as the other tools write them, saving keeps what other tools put in their files."""
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from engine.annotations.convert import CONVERT_TARGETS, ConvertError, convert
from engine.annotations.folder import load_folder, save_annotation
from engine.annotations.formats import all_formats, format_names, get_format, merged_class_list
from engine.annotations.records import Box, ImageAnnotation, LabelSet
from engine.cli import main as cli_main
from engine.project.project import Project


def _image(path, size=(64, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (10, 80, 160)).save(path)
    return path


def test_every_format_is_one_entry_with_its_own_module():
    formats = all_formats()
    assert set(formats) == {"voc", "vocdevkit", "yolo", "ultralytics", "coco", "labelme", "cvat"}
    for name, fmt in formats.items():
        assert fmt.name == name and fmt.keeps and fmt.loses and callable(fmt.detect) and callable(fmt.load)
    assert set(format_names(per_image_writable=True, layouts=False)) == {"voc", "yolo", "labelme"}
    with pytest.raises(ValueError, match="unknown annotation format 'darknet'"):
        get_format("darknet")


def test_class_lists_merge_append_only():
    assert merged_class_list(["a", "b"], ["a", "b", "c"], {"a", "b"}) == ["a", "b", "c"]
    assert merged_class_list(["a", "b", "x"], ["a", "b", "c"], {"a", "b"}) == ["a", "b", "x", "c"]  # x: another writer
    assert merged_class_list(["a", "b"], ["a"], {"a", "b"}) == ["a"]  # we deleted b


_boxes = st.lists(st.tuples(st.sampled_from(["cat", "dog", "big bird"]), st.integers(0, 40), st.integers(0, 30),
                            st.integers(1, 40), st.integers(1, 30)), max_size=4)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images=st.lists(st.tuples(st.integers(48, 120), st.integers(40, 100), _boxes), min_size=1, max_size=3))
def test_every_format_round_trips_random_annotations(images):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        labels = LabelSet()
        expected = {}
        for i, (width, height, boxes) in enumerate(images):
            image = _image(src / f"im{i}.png", (width, height))
            ann = ImageAnnotation(image, width, height,
                                  [Box(label, x, y, min(x + w, width), min(y + h, height)) for label, x, y, w, h in boxes])
            save_annotation(ann, labels, "voc")
            expected[image.name] = sorted((b.label, b.x1, b.y1, b.x2, b.y2) for b in ann.boxes)
        for target in CONVERT_TARGETS:
            out = Path(tmp) / target
            report = convert(src, target, out)
            assert report.warnings == []
            loaded = load_folder(out)
            assert loaded.format == target and loaded.errors == []
            got = {Path(a.image_path).name: sorted((b.label, round(b.x1, 3), round(b.y1, 3), round(b.x2, 3),
                                                    round(b.y2, 3)) for b in a.boxes) for a in loaded.annotations}
            assert got == expected, target


def test_convert_never_overwrites_without_asking(tmp_path, capsys):
    _image(tmp_path / "src" / "a.jpg")
    save_annotation(ImageAnnotation(tmp_path / "src" / "a.jpg", 64, 48, [Box("cat", 1, 1, 9, 9)]), LabelSet(), "voc")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    with pytest.raises(ConvertError, match="not empty; pass --overwrite"):
        convert(tmp_path / "src", "yolo", tmp_path / "out")
    assert cli_main(["convert", str(tmp_path / "src"), "--to", "ultralytics", str(tmp_path / "out")]) == 1
    assert cli_main(["convert", str(tmp_path / "src"), "--to", "ultralytics", str(tmp_path / "out"), "--overwrite"]) == 0
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert data["names"] == {0: "cat"} and data["train"] == "images/train"
    assert (tmp_path / "out" / "labels" / "train" / "a.txt").read_text().startswith("0 ")
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep"


def test_convert_to_ultralytics_writes_the_keys_ultralytics_requires(tmp_path, monkeypatch):
    """Ultralytics' check_det_dataset requires train and val, and reads a relative ``path`` from the working
    directory (then its datasets folder), not from the yaml's folder: a source without splits validates on its
    train folder (as Ultralytics' coco128.yaml does), and the root is the yaml's folder because no path is given."""
    for name in ("a.jpg", "b.jpg"):
        _image(tmp_path / "src" / name)
        save_annotation(ImageAnnotation(tmp_path / "src" / name, 64, 48, [Box("cat", 1, 1, 9, 9)]), LabelSet(), "voc")
    monkeypatch.chdir(tmp_path)
    convert(tmp_path / "src", "ultralytics", tmp_path / "out")
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert data == {"train": "images/train", "val": "images/train", "names": {0: "cat"}}
    loaded = load_folder(tmp_path / "out")
    assert loaded.format == "ultralytics" and loaded.errors == [] and len(loaded.annotations) == 2


def test_convert_to_ultralytics_keeps_the_splits_it_was_given(tmp_path):
    src = tmp_path / "src"
    for split, folder in (("train", "train"), ("val", "valid"), ("test", "test")):
        _image(src / folder / "images" / f"{split}.jpg")
        (src / folder / "labels").mkdir(parents=True)
        (src / folder / "labels" / f"{split}.txt").write_text("0 0.5 0.5 0.25 0.25\n")
    (src / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\ntest: ../test/images\nnc: 1\n"
                                   "names: ['cat']\n")
    convert(src / "data.yaml", "ultralytics", tmp_path / "out")
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert data == {"train": "images/train", "val": "images/val", "test": "images/test", "names": {0: "cat"}}
    for split in ("train", "val", "test"):
        assert (tmp_path / "out" / "images" / split / f"{split}.jpg").is_file()
        assert (tmp_path / "out" / "labels" / split / f"{split}.txt").read_text() == "0 0.500000 0.500000 0.250000 0.250000\n"


def test_convert_to_ultralytics_keeps_two_images_of_the_same_name(tmp_path):
    """CVAT tasks and labelme trees hold cam1/0001.jpg and cam2/0001.jpg: images/train/ takes both, neither
    overwrites the other (nor its labels)."""
    src = tmp_path / "src"
    _image(src / "images" / "cam1" / "0001.jpg", (64, 48))
    _image(src / "images" / "cam2" / "0001.jpg", (80, 60))
    save_annotation(ImageAnnotation(src / "images" / "cam1" / "0001.jpg", 64, 48, [Box("cat", 1, 1, 9, 9)]),
                    LabelSet(), "voc")
    save_annotation(ImageAnnotation(src / "images" / "cam2" / "0001.jpg", 80, 60,
                                    [Box("dog", 1, 1, 9, 9), Box("dog", 20, 20, 40, 40)]), LabelSet(), "voc")
    report = convert(src, "ultralytics", tmp_path / "out")
    assert report.images == 2 and report.boxes == 3
    loaded = load_folder(tmp_path / "out")
    got = sorted((Image.open(a.image_path).size, sorted(b.label for b in a.boxes)) for a in loaded.annotations)
    assert got == [((64, 48), ["cat"]), ((80, 60), ["dog", "dog"])]
    assert len({Path(a.image_path).name for a in loaded.annotations}) == 2


def _coco(path, images, names):
    """``images``: (file_name, width, height, [(class index, x, y, w, h)])."""
    entries, annotations = [], []
    for image_id, (file_name, width, height, boxes) in enumerate(images, 1):
        entries.append({"id": image_id, "file_name": file_name, "width": width, "height": height})
        for c, x, y, w, h in boxes:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": c + 1,
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": entries, "annotations": annotations,
                                "categories": [{"id": i + 1, "name": n} for i, n in enumerate(names)]}))


def test_convert_to_ultralytics_gives_a_jpg_and_a_png_of_one_stem_their_own_label_files(tmp_path):
    """A COCO (or CVAT) file may name a.jpg and a.png in one folder: Ultralytics' labels/train/a.txt would be the
    label file of both (img2label_paths drops the suffix), the second image's boxes landing on the first."""
    src = tmp_path / "src"
    _image(src / "a.jpg", (64, 48))
    _image(src / "a.png", (80, 60))
    _coco(src / "annotations.json", [("a.jpg", 64, 48, [(0, 1, 1, 10, 10)]),
                                     ("a.png", 80, 60, [(1, 5, 5, 20, 20), (1, 40, 30, 20, 20)])], ["cat", "dog"])
    report = convert(src, "ultralytics", tmp_path / "out")
    assert report.images == 2 and report.boxes == 3 and len(set(report.label_files)) == 2
    loaded = load_folder(tmp_path / "out")
    got = sorted((Image.open(a.image_path).size, sorted(b.label for b in a.boxes)) for a in loaded.annotations)
    assert got == [((64, 48), ["cat"]), ((80, 60), ["dog", "dog"])]
    assert sorted(p.name for p in (tmp_path / "out" / "images" / "train").iterdir()) == ["a.jpg", "a_2.png"]


@pytest.mark.parametrize("to", ["yolo", "voc", "labelme"])
def test_convert_to_a_per_image_format_gives_a_jpg_and_a_png_of_one_stem_their_own_label_files(tmp_path, to):
    """The same for the formats whose label file sits beside its image under the image's stem (a.txt, a.xml,
    a.json): the second image is written as a_2.png, beside its own label file, in the same folder."""
    src = tmp_path / "src"
    _image(src / "sub" / "a.jpg", (64, 48))
    _image(src / "sub" / "a.png", (80, 60))
    _image(src / "sub" / "a_2.jpg", (32, 32))
    _coco(src / "annotations.json", [("sub/a.jpg", 64, 48, [(0, 1, 1, 10, 10)]),
                                     ("sub/a.png", 80, 60, [(1, 5, 5, 20, 20), (1, 40, 30, 20, 20)]),
                                     ("sub/a_2.jpg", 32, 32, [(0, 2, 2, 8, 8)])], ["cat", "dog"])
    report = convert(src, to, tmp_path / "out")
    assert report.images == 3 and report.boxes == 4 and len(set(report.label_files)) == 3
    loaded = load_folder(tmp_path / "out" / "sub")
    got = sorted((Image.open(a.image_path).size, sorted(b.label for b in a.boxes)) for a in loaded.annotations)
    assert got == [((32, 32), ["cat"]), ((64, 48), ["cat"]), ((80, 60), ["dog", "dog"])]
    images = sorted(p.name for p in (tmp_path / "out" / "sub").iterdir() if p.suffix in (".jpg", ".png"))
    assert images == ["a.jpg", "a_2.jpg", "a_3.png"]


def test_convert_to_yolo_renames_an_image_named_classes_away_from_the_class_list(tmp_path):
    src = tmp_path / "src"
    _image(src / "classes.jpg", (64, 48))
    _image(src / "b.jpg", (64, 48))
    _coco(src / "annotations.json", [("classes.jpg", 64, 48, [(1, 1, 1, 10, 10)]), ("b.jpg", 64, 48, [])],
          ["cat", "dog"])
    convert(src, "yolo", tmp_path / "out")
    assert (tmp_path / "out" / "classes.txt").read_text() == "cat\ndog\n"
    loaded = load_folder(tmp_path / "out")
    assert loaded.errors == []
    assert {a.image_path.name: [b.label for b in a.boxes] for a in loaded.annotations} == \
        {"classes_2.jpg": ["dog"], "b.jpg": []}


def test_convert_to_ultralytics_keeps_the_splits_of_a_coco_release(tmp_path):
    """COCO as released: instances_train2017.json / instances_val2017.json, images in train2017/ and val2017/.
    Their splits are train and val, not one train folder that also serves as val."""
    src = tmp_path / "src"
    for split, names in (("train2017", ["1.jpg", "2.jpg"]), ("val2017", ["3.jpg"])):
        for name in names:
            _image(src / split / name)
        _coco(src / "annotations" / f"instances_{split}.json", [(n, 64, 48, [(0, 1, 1, 9, 9)]) for n in names],
              ["cat"])
    convert(src, "ultralytics", tmp_path / "out")
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert data == {"train": "images/train", "val": "images/val", "names": {0: "cat"}}
    assert sorted(p.name for p in (tmp_path / "out" / "images" / "train").iterdir()) == ["1.jpg", "2.jpg"]
    assert sorted(p.name for p in (tmp_path / "out" / "labels" / "val").iterdir()) == ["3.txt"]


def test_ultralytics_dataset_saves_in_place_and_appends_a_new_class(tmp_path):
    root = tmp_path / "ds"
    _image(root / "images" / "val" / "v.jpg")
    (root / "labels" / "val").mkdir(parents=True)
    (root / "labels" / "val" / "v.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames: [person, car]\n")
    project = Project.open(root / "data.yaml")  # resyolo-gui data.yaml
    assert project.format == "ultralytics" and project.labels.names == ["person", "car"]
    assert project.splits["val"] == [root / "images" / "val" / "v.jpg"]
    ann = project.annotations[0]
    ann.boxes.append(Box("bus", 1, 1, 20, 20))
    project.mark_dirty(ann)
    assert project.save_all() == []
    assert yaml.safe_load((root / "data.yaml").read_text())["names"] == ["person", "car", "bus"]
    lines = (root / "labels" / "val" / "v.txt").read_text().split("\n")
    assert lines[0].startswith("1 ") and lines[1].startswith("2 ")


def test_labelme_save_keeps_other_shapes_image_data_flags_and_unknown_keys(tmp_path):
    _image(tmp_path / "a.jpg")
    original = {"version": "5.5.0", "flags": {"night": True}, "imagePath": "a.jpg", "imageData": "aGVsbG8=",
                "imageHeight": 48, "imageWidth": 64, "reviewer": "ana",
                "shapes": [{"label": "dog", "points": [[1, 1], [10, 10]], "group_id": None, "description": "",
                            "shape_type": "rectangle", "flags": {}, "mask": None},
                           {"label": "lane", "points": [[0, 0], [5, 5]], "group_id": 3, "description": "left",
                            "shape_type": "line", "flags": {}, "mask": None}]}
    (tmp_path / "a.json").write_text(json.dumps(original))
    project = Project.open(tmp_path)
    assert project.format == "labelme"
    ann = project.annotations[0]
    assert [b.label for b in ann.boxes] == ["dog"]
    ann.boxes.append(Box("cat", 20, 20, 30, 30))
    project.mark_dirty(ann)
    assert project.save_all() == []
    saved = json.loads((tmp_path / "a.json").read_text())
    assert saved["imageData"] == "aGVsbG8=" and saved["flags"] == {"night": True} and saved["reviewer"] == "ana"
    assert original["shapes"][1] in saved["shapes"]
    assert sorted(s["label"] for s in saved["shapes"] if s["shape_type"] == "rectangle") == ["cat", "dog"]


def test_cvat_for_images_file_reads_boxes_and_keeps_polygons_on_update(tmp_path):
    _image(tmp_path / "images" / "a.jpg")
    (tmp_path / "annotations.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task><labels>'
        '<label><name>car</name><type>rectangle</type></label><label><name>road</name></label></labels></task></meta>'
        '<image id="0" name="a.jpg" width="64" height="48">'
        '<box label="car" source="manual" occluded="1" xtl="1.50" ytl="2.00" xbr="30.25" ybr="40.00" z_order="0"></box>'
        '<polygon label="road" source="manual" occluded="0" points="1.0,2.0;3.0,4.0;5.0,1.0" z_order="0"></polygon>'
        '</image></annotations>\n')
    loaded = load_folder(tmp_path)
    assert loaded.format == "cvat"
    (ann,) = [a for a in loaded.annotations if a.boxes]
    assert ann.boxes == [Box("car", 1.5, 2.0, 30.25, 40.0)]
    assert any("not a box: polygon 'road'" in str(e) for e in loaded.errors)
    ann.boxes.append(Box("car", 40, 10, 50, 20))
    save_annotation(ann, loaded.labels, "cvat", coco_path=tmp_path / "annotations.xml")
    text = (tmp_path / "annotations.xml").read_text()
    assert 'points="1.0,2.0;3.0,4.0;5.0,1.0"' in text and text.count("<box ") == 2


def test_voc_devkit_origin_round_trips_exactly(tmp_path):
    year = tmp_path / "VOC2012"
    _image(year / "JPEGImages" / "2012_000001.jpg")
    (year / "Annotations").mkdir()
    xml = ("<annotation><filename>2012_000001.jpg</filename><size><width>64</width><height>48</height>"
           "<depth>3</depth></size><object><name>dog</name><difficult>0</difficult><bndbox><xmin>1</xmin>"
           "<ymin>1</ymin><xmax>64</xmax><ymax>48</ymax></bndbox></object></annotation>")
    (year / "Annotations" / "2012_000001.xml").write_text(xml)
    project = Project.open(year)
    assert project.format == "vocdevkit"
    box = project.annotations[0].boxes[0]
    assert (box.x1, box.y1, box.x2, box.y2) == (0, 0, 63, 47)
    project.mark_dirty(project.annotations[0])
    assert project.save_all() == [] and project.warnings == []
    assert "<xmin>1</xmin>" in (year / "Annotations" / "2012_000001.xml").read_text()
    assert "<xmax>64</xmax>" in (year / "Annotations" / "2012_000001.xml").read_text()


def test_ultralytics_own_dataset_check_accepts_what_we_write(tmp_path):
    """Runs where ``ultralytics`` is installed (a reference venv, never a project dependency)."""
    utils = pytest.importorskip("ultralytics.data.utils")
    src = tmp_path / "src"
    for i in range(3):
        _image(src / f"a{i}.jpg")
        save_annotation(ImageAnnotation(src / f"a{i}.jpg", 64, 48, [Box("cat", 60, 1, 70, 9), Box("dog", 1, 1, 9, 9)]),
                        LabelSet(["cat", "dog"]), "voc")
    convert(src, "ultralytics", tmp_path / "out")
    data = utils.check_det_dataset(str(tmp_path / "out" / "data.yaml"))
    assert data["nc"] == 2 and list(data["names"].values()) == ["cat", "dog"]
    for label_file in (tmp_path / "out" / "labels" / "train").glob("*.txt"):
        rows = [list(map(float, line.split())) for line in label_file.read_text().splitlines()]
        assert all(len(r) == 5 and 0 <= min(r[1:]) and max(r[1:]) <= 1 and r[0] in (0, 1) for r in rows)


def test_voc_pixel_origin_is_one_saved_choice_per_project(tmp_path):
    """supervision and the devkit write xmin 1-based; labelImg 0-based. A project says which its files use."""
    _image(tmp_path / "a.jpg")
    (tmp_path / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename><size><width>64</width><height>48</height></size><object>"
        "<name>dog</name><bndbox><xmin>11</xmin><ymin>11</ymin><xmax>31</xmax><ymax>21</ymax></bndbox></object>"
        "</annotation>")
    project = Project.open(tmp_path)
    assert project.annotations[0].boxes[0].x1 == 11  # labelImg's reading by default
    project.set_pixel_origin(1)
    assert project.save_all() == []
    project.close()
    reopened = Project.open(tmp_path)
    assert reopened.pixel_origin == 1
    assert reopened.annotations[0].boxes[0].x1 == 11  # the same box: the file now says xmin 12
    assert "<xmin>12</xmin>" in (tmp_path / "a.xml").read_text()
    (tmp_path / "a.xml").write_text((tmp_path / "a.xml").read_text().replace("<xmin>12</xmin>", "<xmin>11</xmin>"))
    reopened.close()
    assert Project.open(tmp_path).annotations[0].boxes[0].x1 == 10  # devkit reading of xmin 11


def test_labelme_images_with_polygons_still_train(tmp_path):
    from engine.training.setup import load_training_data

    for i in range(3):
        _image(tmp_path / f"a{i}.jpg")
        shapes = [{"label": "dog", "points": [[1, 1], [20, 20]], "shape_type": "rectangle"},
                  {"label": "road", "points": [[0, 0], [5, 5], [9, 1]], "shape_type": "polygon"}]
        (tmp_path / f"a{i}.json").write_text(json.dumps({"version": "5.5.0", "flags": {}, "shapes": shapes,
                                                         "imagePath": f"a{i}.jpg", "imageData": None,
                                                         "imageHeight": 48, "imageWidth": 64}))
    data = load_training_data(tmp_path, val_fraction=0)
    assert len(data.train) == 3 and data.labels.names == ["dog"]
    assert len(data.problems) == 3 and all("not a box" in str(p) for p in data.problems)


def test_a_coco_project_saves_into_its_own_file_in_place_once_per_save(tmp_path, monkeypatch):
    """A COCO dataset opened in the app is edited in its JSON (ids, info and segmentations kept), not converted to
    VOC files beside the images; several edited images cost one read and one write of the file."""
    import engine.annotations.coco as coco

    for name in ("a.jpg", "b.jpg", "c.jpg"):
        _image(tmp_path / name)
    doc = {"info": {"year": 2017}, "licenses": [{"id": 1}],
           "images": [{"id": 7, "file_name": "a.jpg", "width": 64, "height": 48},
                      {"id": 9, "file_name": "b.jpg", "width": 64, "height": 48},
                      {"id": 11, "file_name": "c.jpg", "width": 64, "height": 48}],
           "categories": [{"id": 3, "name": "cat"}],
           "annotations": [{"id": 5, "image_id": 7, "category_id": 3, "bbox": [1, 1, 10, 10], "area": 100,
                            "iscrowd": 0, "segmentation": [[1, 1, 11, 1, 11, 11]]}]}
    (tmp_path / "instances.json").write_text(json.dumps(doc))
    project = Project.open(tmp_path)
    assert project.format == "coco"
    by_name = {Path(a.image_path).name: a for a in project.annotations}
    for name in ("b.jpg", "c.jpg"):
        by_name[name].boxes.append(Box("cat", 2, 2, 20, 20))
        project.mark_dirty(by_name[name])
    writes = []
    real_write = coco.atomic_write_text
    monkeypatch.setattr(coco, "atomic_write_text", lambda path, text: (writes.append(path), real_write(path, text)))
    assert project.save_all() == []
    project.close()
    assert writes == [tmp_path / "instances.json"]
    assert not list(tmp_path.glob("*.xml")) and not (tmp_path / "annotations.json").exists()
    saved = json.loads((tmp_path / "instances.json").read_text())
    assert saved["info"] == {"year": 2017} and saved["licenses"] == [{"id": 1}]
    assert [im["id"] for im in saved["images"]] == [7, 9, 11] and saved["categories"][0]["id"] == 3
    assert doc["annotations"][0] in saved["annotations"]  # the untouched image's annotation, segmentation and all
    assert sorted(a["image_id"] for a in saved["annotations"]) == [7, 9, 11]
    reopened = Project.open(tmp_path)
    assert [len(a.boxes) for a in sorted(reopened.annotations, key=lambda a: Path(a.image_path).name)] == [1, 1, 1]
    reopened.close()


def test_a_cvat_project_saves_into_its_own_file_in_place(tmp_path):
    _image(tmp_path / "a.jpg")
    (tmp_path / "annotations.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task><labels>'
        '<label><name>car</name></label><label><name>road</name></label></labels></task></meta>'
        '<image id="4" name="a.jpg" width="64" height="48">'
        '<box label="car" source="manual" occluded="1" xtl="1.50" ytl="2.00" xbr="30.25" ybr="40.00" z_order="0"></box>'
        '<polygon label="road" source="manual" occluded="0" points="1.0,2.0;3.0,4.0;5.0,1.0" z_order="0"></polygon>'
        '</image></annotations>\n')
    project = Project.open(tmp_path)
    assert project.format == "cvat"
    ann = project.annotations[0]
    ann.boxes.append(Box("car", 40, 10, 50, 20))
    project.mark_dirty(ann)
    assert project.save_all() == []
    project.close()
    text = (tmp_path / "annotations.xml").read_text()
    assert text.count("<box ") == 2 and 'points="1.0,2.0;3.0,4.0;5.0,1.0"' in text and 'id="4"' in text
    assert not list(tmp_path.glob("*.xml"))[1:]  # annotations.xml only: no VOC files beside the image


def test_voc_pixel_origin_read_the_other_way_keeps_the_files(tmp_path):
    """The files were supervision's (1-based) but opened as labelImg's: read them again, nothing rewritten."""
    _image(tmp_path / "a.jpg")
    xml = ("<annotation><filename>a.jpg</filename><size><width>64</width><height>48</height></size><object>"
           "<name>dog</name><bndbox><xmin>11</xmin><ymin>11</ymin><xmax>31</xmax><ymax>21</ymax></bndbox></object>"
           "</annotation>")
    (tmp_path / "a.xml").write_text(xml)
    project = Project.open(tmp_path)
    assert project.pixel_origin_choice == 0  # VOC beside images: labelImg's convention, not guessed
    project.annotations[0].verified = True
    project.mark_dirty(project.annotations[0])
    with pytest.raises(ValueError, match="unsaved"):
        project.reread_with_pixel_origin(1)
    project._dirty.clear()
    assert project.reread_with_pixel_origin(1) == [project.annotations[0]]
    assert project.annotations[0].boxes[0].x1 == 10 and (tmp_path / "a.xml").read_text() == xml
    assert project.save_all() == [] and (tmp_path / "a.xml").read_text() == xml
    project.close()
    assert Project.open(tmp_path).annotations[0].boxes[0].x1 == 10
