"""Issue 12's measured failures, each reproduced on real files laid out as the other tools write them.

Ultralytics (data/utils.py img2label_paths, check_det_dataset), Roboflow exports, the PASCAL VOC devkit,
labelme (_label_file.py), labelImg (pascal_voc_io.py / yolo_io.py).
"""
import json
import os

import pytest
from PIL import Image

from engine.annotations.folder import load_folder
from engine.annotations.records import Box, ImageAnnotation, LabelSet
from engine.training.setup import load_training_data


def _image(path, size=(64, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 120, 30)).save(path)
    return path


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _ultralytics(root, names_yaml="names:\n  0: cat\n  1: dog\n"):
    """The coco8 layout: data.yaml with path/train/val/names; images/<split>, labels/<split>."""
    for split, stems in (("train", ("t1", "t2", "t3")), ("val", ("v1",))):
        for stem in stems:
            _image(root / "images" / split / f"{stem}.jpg")
            _write(root / "labels" / split / f"{stem}.txt", "1 0.5 0.5 0.25 0.25\n")
    _write(root / "data.yaml", f"path: {root}\ntrain: images/train\nval: images/val\ntest:\n\n{names_yaml}")
    return root


def test_ultralytics_data_yaml_names_the_classes(tmp_path):
    root = _ultralytics(tmp_path / "ds")
    loaded = load_folder(root)
    assert loaded.errors == []
    assert loaded.labels.names == ["cat", "dog"]
    assert sum(len(a.boxes) for a in loaded.annotations) == 4
    assert {b.label for a in loaded.annotations for b in a.boxes} == {"dog"}


def test_resyolo_train_data_yaml_uses_its_train_and_val_splits(tmp_path):
    root = _ultralytics(tmp_path / "ds")
    data = load_training_data(root / "data.yaml")
    assert sorted(a.image_path.stem for a in data.train) == ["t1", "t2", "t3"]
    assert [a.image_path.stem for a in data.val] == ["v1"]
    assert data.labels.names == ["cat", "dog"]
    folder_data = load_training_data(root)  # the folder itself: the same splits, never pooled
    assert [a.image_path.stem for a in folder_data.val] == ["v1"]


def test_roboflow_layout_finds_its_images(tmp_path):
    root = tmp_path / "rf"
    for split, stem in (("train", "a"), ("valid", "b"), ("test", "c")):
        _image(root / split / "images" / f"{stem}.jpg")
        _write(root / split / "labels" / f"{stem}.txt", "0 0.5 0.5 0.5 0.5\n")
    _write(root / "data.yaml", "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\n"
                               "nc: 1\nnames: ['pothole']\n")
    loaded = load_folder(root)
    assert loaded.errors == []
    assert sorted(a.image_path.stem for a in loaded.annotations) == ["a", "b", "c"]
    assert all(a.boxes[0].label == "pothole" for a in loaded.annotations)
    data = load_training_data(root / "data.yaml")
    assert [a.image_path.stem for a in data.val] == ["b"]


def _voc_xml(path, filename, boxes, size=(64, 48), extra=""):
    objects = "".join(
        f"<object><name>{name}</name><difficult>{difficult}</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
        f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>" for name, x1, y1, x2, y2, difficult in boxes)
    return _write(path, f"<annotation><filename>{filename}</filename><size><width>{size[0]}</width>"
                        f"<height>{size[1]}</height><depth>3</depth></size>{extra}{objects}</annotation>")


def _devkit(root, year="VOC2007", ids=("000001", "000002", "000003")):
    year_dir = root / "VOCdevkit" / year
    for image_id in ids:
        _image(year_dir / "JPEGImages" / f"{image_id}.jpg")
        _voc_xml(year_dir / "Annotations" / f"{image_id}.xml", f"{image_id}.jpg", [("dog", 11, 11, 31, 21, 0)])
    _write(year_dir / "ImageSets" / "Main" / "trainval.txt", "".join(f"{i}\n" for i in ids[:-1]))
    _write(year_dir / "ImageSets" / "Main" / "test.txt", f"{ids[-1]}\n")
    _write(year_dir / "ImageSets" / "Main" / "dog_trainval.txt", "".join(f"{i}  1\n" for i in ids[:-1]))
    return year_dir


def test_voc_devkit_folder_opens_with_its_boxes(tmp_path):
    year_dir = _devkit(tmp_path)
    loaded = load_folder(year_dir)
    assert loaded.errors == []
    assert len(loaded.annotations) == 3 and all(len(a.boxes) == 1 for a in loaded.annotations)
    box = loaded.annotations[0].boxes[0]  # devkit pixels count from 1: xmin 11 is the 0-based corner 10
    assert (box.x1, box.y1) == (10, 10)


def test_voc_devkit_trains_on_its_named_splits(tmp_path):
    year_dir = _devkit(tmp_path)
    data = load_training_data(year_dir, split="trainval", val_split="test")
    assert [a.image_path.stem for a in data.train] == ["000001", "000002"]
    assert [a.image_path.stem for a in data.val] == ["000003"]


def test_labelme_rectangles_are_boxes(tmp_path):
    _image(tmp_path / "a.jpg")
    shapes = [{"label": "dog", "points": [[30, 20], [10, 5]], "group_id": None, "description": "",
               "shape_type": "rectangle", "flags": {}, "mask": None},
              {"label": "road", "points": [[1, 1], [5, 1], [5, 5]], "group_id": None, "description": "",
               "shape_type": "polygon", "flags": {}, "mask": None}]
    _write(tmp_path / "a.json", json.dumps({"version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": "a.jpg",
                                            "imageData": None, "imageHeight": 48, "imageWidth": 64}))
    loaded = load_folder(tmp_path)
    assert loaded.format == "labelme"
    assert loaded.annotations[0].boxes == [Box("dog", 10, 5, 30, 20)]
    assert any("not a box" in str(e) and "polygon" in str(e) for e in loaded.errors)


def test_voc_nan_is_rejected_with_file_and_object(tmp_path):
    _image(tmp_path / "a.jpg")
    _voc_xml(tmp_path / "a.xml", "a.jpg", [("dog", "nan", 1, 10, 10, 0), ("cat", 2, 2, 20, 20, 0)])
    loaded = load_folder(tmp_path)
    assert [b.label for b in loaded.annotations[0].boxes] == ["cat"]
    assert len(loaded.errors) == 1 and "a.xml" in str(loaded.errors[0]) and "#1" in str(loaded.errors[0])
    assert "finite" in str(loaded.errors[0])


def test_voc_one_empty_box_keeps_the_rest_of_the_file(tmp_path):
    _image(tmp_path / "a.jpg")
    _voc_xml(tmp_path / "a.xml", "a.jpg", [("dog", 5, 5, 5, 10, 0)] + [("cat", i, i, i + 9, i + 9, 0) for i in range(6)])
    loaded = load_folder(tmp_path)
    assert len(loaded.annotations[0].boxes) == 6
    assert len(loaded.errors) == 1 and "#1" in str(loaded.errors[0])


def test_voc_difficult_true_is_difficult(tmp_path):
    _image(tmp_path / "a.jpg")
    _voc_xml(tmp_path / "a.xml", "a.jpg", [("dog", 1, 1, 10, 10, "True")])
    assert load_folder(tmp_path).annotations[0].boxes[0].difficult is True


def test_yolo_segmentation_polygon_gives_its_bounding_box(tmp_path):
    _image(tmp_path / "a.jpg", size=(100, 100))
    _write(tmp_path / "classes.txt", "road\n")
    _write(tmp_path / "a.txt", "0 0.1 0.2 0.5 0.2 0.4 0.6\n")
    (box,) = load_folder(tmp_path).annotations[0].boxes
    assert (box.x1, box.y1, box.x2, box.y2) == pytest.approx((10, 20, 50, 60))


def test_box_outside_the_image_is_clipped_not_written_as_zero_size_yolo(tmp_path):
    from engine.project.project import Project

    _image(tmp_path / "a.jpg")
    _voc_xml(tmp_path / "a.xml", "a.jpg", [("dog", 70, 10, 90, 20, 0)] + [("cat", i, i, i + 9, i + 9, 0) for i in range(6)])
    project = Project.open(tmp_path)
    assert len(project.annotations[0].boxes) == 7
    project.set_format("yolo")
    failures = project.save_all()
    assert failures == []
    assert any("outside" in str(w) for w in project.warnings)  # the dropped box is named
    project.close()
    reopened = Project.open(tmp_path)
    assert reopened.errors == {}
    assert len(reopened.annotations[0].boxes) == 6


def test_huge_label_file_is_refused_before_parsing(tmp_path, monkeypatch):
    from engine.annotations import limits

    monkeypatch.setattr(limits, "MAX_LABEL_FILE_BYTES", 1000)
    _image(tmp_path / "a.jpg")
    _voc_xml(tmp_path / "a.xml", "a.jpg", [("dog", 1, 1, 10, 10, 0)] * 40)
    loaded = load_folder(tmp_path)
    assert loaded.annotations[0].boxes == []
    assert len(loaded.errors) == 1 and "too large" in str(loaded.errors[0])


def test_symlink_loop_at_top_level_is_one_problem(tmp_path):
    _image(tmp_path / "a.jpg")
    _voc_xml(tmp_path / "a.xml", "a.jpg", [("dog", 1, 1, 10, 10, 0)])
    os.symlink(tmp_path / "loop.jpg", tmp_path / "loop.jpg")  # points at itself
    loaded = load_folder(tmp_path)
    assert [a.image_path.name for a in loaded.annotations] == ["a.jpg"]
    assert len(loaded.annotations[0].boxes) == 1


def test_dot_folder_finds_the_labels(tmp_path, monkeypatch):
    root = _ultralytics(tmp_path / "ds")
    (root / "data.yaml").unlink()
    _write(root / "classes.txt", "cat\ndog\n")
    monkeypatch.chdir(root)
    data = load_training_data(".")
    assert len(data.train) + len(data.val) == 4


def test_leftover_temp_files_of_our_writer_are_cleaned_on_open(tmp_path):
    from engine.project.project import Project

    _image(tmp_path / "a.jpg")
    _voc_xml(tmp_path / "a.xml", "a.jpg", [("dog", 1, 1, 10, 10, 0)])
    leftover = _write(tmp_path / ".a.xml.k2j3h4_x.tmp", "<annotation>")  # what atomic_write leaves when killed
    someone_elses = _write(tmp_path / ".notes.tmp", "keep me")
    Project.open(tmp_path)
    assert not leftover.exists() and someone_elses.exists()


def _coco(images, annotations, categories=({"id": 1, "name": "dog"},)):
    return json.dumps({"images": images, "annotations": annotations, "categories": list(categories)})


def test_coco_release_layout_several_jsons_and_image_folders_beside(tmp_path):
    _image(tmp_path / "train2017" / "1.jpg")
    _image(tmp_path / "val2017" / "2.jpg")
    _write(tmp_path / "annotations" / "instances_train2017.json", _coco(
        [{"id": 1, "file_name": "1.jpg", "width": 64, "height": 48}],
        [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10], "iscrowd": 0, "area": 100}]))
    _write(tmp_path / "annotations" / "instances_val2017.json", _coco(
        [{"id": 2, "file_name": "2.jpg", "width": 64, "height": 48}],
        [{"id": 2, "image_id": 2, "category_id": 1, "bbox": [2, 2, 10, 10], "iscrowd": 0, "area": 100}]))
    loaded = load_folder(tmp_path)
    assert loaded.errors == []
    assert sorted(a.image_path.name for a in loaded.annotations if a.boxes) == ["1.jpg", "2.jpg"]


def test_coco_one_zero_width_bbox_is_skipped_and_named(tmp_path):
    _image(tmp_path / "a.jpg")
    _write(tmp_path / "annotations.json", _coco(
        [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
        [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, 0, 10]},
         {"id": 8, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]}]))
    loaded = load_folder(tmp_path)
    assert len(loaded.annotations[0].boxes) == 1
    assert len(loaded.errors) == 1 and "id 7" in str(loaded.errors[0])


def test_coco_backslash_file_names(tmp_path):
    _image(tmp_path / "train" / "a.jpg")
    _write(tmp_path / "annotations.json", _coco(
        [{"id": 1, "file_name": "train\\a.jpg", "width": 64, "height": 48}],
        [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]}]))
    loaded = load_folder(tmp_path)
    assert loaded.errors == []
    assert [len(a.boxes) for a in loaded.annotations] == [1]


def test_two_writers_on_one_yolo_folder_keep_each_others_class_ids(tmp_path):
    from engine.project.project import Project

    for name in ("a.jpg", "b.jpg"):
        _image(tmp_path / name)
    _write(tmp_path / "classes.txt", "person\n")
    _write(tmp_path / "a.txt", "")
    first = Project.open(tmp_path)
    second = Project.open(tmp_path, take_over=True)  # a second window, told the first holds it, takes over
    first.classes.add("dog")
    first.annotations[0].boxes.append(Box("dog", 1, 1, 20, 20))
    first.mark_dirty(first.annotations[0])
    second.classes.add("cat")
    second.annotations[1].boxes.append(Box("cat", 2, 2, 30, 30))
    second.mark_dirty(second.annotations[1])
    assert first.save_all() == [] and second.save_all() == []
    first.close(), second.close()
    reopened = Project.open(tmp_path)
    by_name = {a.image_path.name: a for a in reopened.annotations}
    assert [b.label for b in by_name["a.jpg"].boxes] == ["dog"]
    assert [b.label for b in by_name["b.jpg"].boxes] == ["cat"]


def test_supervision_yolo_export_opens(tmp_path):
    """supervision's DetectionDataset.as_yolo: images/, labels/ and a data.yaml of names and nc only."""
    _image(tmp_path / "images" / "a.jpg")
    _write(tmp_path / "labels" / "a.txt", "1 0.5 0.5 0.25 0.25\n")
    _write(tmp_path / "data.yaml", "names:\n- cat\n- dog\nnc: 2\n")
    loaded = load_folder(tmp_path)
    assert loaded.errors == [] and loaded.labels.names == ["cat", "dog"]
    assert [b.label for b in loaded.annotations[0].boxes] == ["dog"]


def test_label_studio_voc_export_opens(tmp_path):
    """Label Studio's Pascal VOC export: Annotations/*.xml beside images/*.jpg."""
    _image(tmp_path / "images" / "a.jpg")
    _voc_xml(tmp_path / "Annotations" / "a.xml", "a.jpg", [("dog", 1, 1, 10, 10, 0)])
    loaded = load_folder(tmp_path)
    assert loaded.errors == []
    assert [b.label for b in loaded.annotations[0].boxes] == ["dog"]


def test_voc_devkit_list_file_of_ids_trains_on_those_images(tmp_path):
    """`resyolo train VOC2007/ImageSets/Main/trainval.txt` took the ids for paths beside the list."""
    year_dir = _devkit(tmp_path)
    data = load_training_data(year_dir / "ImageSets" / "Main" / "trainval.txt", val_fraction=0)
    assert [a.image_path.stem for a in data.train] == ["000001", "000002"]


def _coco_release(root, splits):
    """COCO as released: ``<split>/NAME.jpg`` and ``annotations/instances_<split>.json``."""
    for split, names in splits.items():
        entries = [{"id": i, "file_name": n, "width": 64, "height": 48} for i, n in enumerate(names, 1)]
        boxes = [{"id": i, "image_id": i, "category_id": 1, "bbox": [2, 2, 20, 20], "area": 400, "iscrowd": 0}
                 for i in range(1, len(names) + 1)]
        for name in names:
            _image(root / split / name)
        _write(root / "annotations" / f"instances_{split}.json",
               json.dumps({"images": entries, "annotations": boxes, "categories": [{"id": 1, "name": "cat"}]}))
    return root


def test_resyolo_train_on_a_coco_release_trains_on_train2017_and_validates_on_val2017(tmp_path):
    """Not the two pooled and split again by val_fraction (val2017's images would train)."""
    root = _coco_release(tmp_path / "coco", {"train2017": ["1.jpg", "2.jpg", "3.jpg"], "val2017": ["4.jpg"]})
    data = load_training_data(root)
    assert sorted(a.image_path.stem for a in data.train) == ["1", "2", "3"]
    assert [a.image_path.stem for a in data.val] == ["4"]


def test_a_coco_release_of_two_years_trains_on_the_latest_pair_only(tmp_path):
    """COCO 2014 and 2017 hold the same images split differently: 2014's train with 2017's val would overlap."""
    root = _coco_release(tmp_path / "coco", {"train2014": ["1.jpg", "2.jpg"], "val2014": ["3.jpg"],
                                             "train2017": ["5.jpg", "6.jpg"], "val2017": ["7.jpg"]})
    data = load_training_data(root)
    assert sorted(a.image_path.stem for a in data.train) == ["5", "6"]
    assert [a.image_path.stem for a in data.val] == ["7"]
