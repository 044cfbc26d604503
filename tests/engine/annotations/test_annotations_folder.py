"""Folder loading: image discovery, format detection, per-file errors, class lists, saving one image."""
import json

import pytest
from PIL import Image

from engine.annotations.coco import read_coco_json, write_coco_json
from engine.annotations.folder import (IMAGE_EXTENSIONS, detect_format, list_images, load_folder,
                                       natural_sort_key, save_annotation)
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet
from engine.annotations.voc import write_voc_xml
from engine.annotations.yolo import read_classes_txt, write_classes_txt


def _image(path, size=(40, 30), orientation=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    Image.new("RGB", size, (200, 50, 50)).save(path, exif=exif)
    return path


def _voc(image, boxes, size=(40, 30)):
    write_voc_xml(ImageAnnotation(image, *size, boxes))


def test_image_extensions():
    assert IMAGE_EXTENSIONS == {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def test_lists_images_in_natural_order_case_insensitively(tmp_path):
    for name in ("img10.jpg", "img2.PNG", "IMG1.JPEG", "img3.tiff", "notes.txt", "._img4.jpg", "a.xml"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ignored.jpg").write_bytes(b"x")  # only images/ is searched below the folder
    assert [p.name for p in list_images(tmp_path)] == ["IMG1.JPEG", "img2.PNG", "img3.tiff", "img10.jpg"]
    assert natural_sort_key("img2") < natural_sort_key("img10") < natural_sort_key("IMG11")


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        load_folder(tmp_path / "nope")
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        detect_format(tmp_path / "file.jpg")


def test_unlabelled_folder(tmp_path):
    _image(tmp_path / "a.jpg")
    assert detect_format(tmp_path) is None
    loaded = load_folder(tmp_path)
    assert loaded.format is None and loaded.errors == [] and len(loaded.labels) == 0
    assert loaded.annotations == [ImageAnnotation(tmp_path / "a.jpg")]


def test_voc_folder_with_sizes_from_xml_and_sorted_class_names(tmp_path):
    a, b, c = (_image(tmp_path / n) for n in ("a.jpg", "b.jpg", "c.jpg"))
    _voc(a, [Box("zebra", 1, 1, 5, 5)], size=(400, 300))  # size from the file, not the image
    _voc(b, [Box("ant", 2, 2, 9, 9, difficult=True)])
    assert detect_format(tmp_path) == "voc"
    loaded = load_folder(tmp_path)
    assert loaded.format == "voc" and loaded.errors == []
    assert loaded.labels.names == ["ant", "zebra"]
    assert [(x.image_path, x.width, x.height) for x in loaded.annotations] == [(a, 400, 300), (b, 40, 30), (c, 0, 0)]
    assert loaded.annotations[1].boxes == [Box("ant", 2, 2, 9, 9, difficult=True)]


def test_voc_classes_txt_gives_order_and_unknown_names_are_added(tmp_path):
    a = _image(tmp_path / "a.jpg")
    _voc(a, [Box("dog", 1, 1, 5, 5), Box("bee", 1, 1, 5, 5)])
    write_classes_txt(LabelSet(["zebra", "dog"]), tmp_path / "classes.txt")
    assert detect_format(tmp_path) == "voc"  # classes.txt alone does not make it YOLO when XML files are there
    assert load_folder(tmp_path).labels.names == ["zebra", "dog", "bee"]


def test_voc_size_missing_in_xml_is_read_from_image(tmp_path):
    a = _image(tmp_path / "a.jpg", size=(40, 30), orientation=6)  # stored landscape, shown portrait
    (tmp_path / "a.xml").write_text("<annotation><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                                    "<xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>")
    (ann,) = load_folder(tmp_path).annotations
    assert (ann.image_path, ann.width, ann.height) == (a, 30, 40)


def test_bad_files_are_collected_and_the_rest_still_loads(tmp_path):
    good, broken, no_box = (_image(tmp_path / n) for n in ("good.jpg", "broken.jpg", "nobox.jpg"))
    _voc(good, [Box("cat", 1, 1, 5, 5)])
    (tmp_path / "broken.xml").write_text("<annotation><object>")
    (tmp_path / "nobox.xml").write_text("<annotation><object><name>dog</name><bndbox><xmin>1</xmin>"
                                        "</bndbox></object></annotation>")
    loaded = load_folder(tmp_path)
    assert [a.image_path for a in loaded.annotations] == [broken, good, no_box]  # every image listed
    assert [len(a.boxes) for a in loaded.annotations] == [0, 1, 0]
    assert sorted((e.path.name, e.problem.split(":")[0]) for e in loaded.errors) == [
        ("broken.xml", "not valid XML"), ("nobox.xml", "missing <ymin> in <bndbox>")]
    assert all(isinstance(e, AnnotationError) for e in loaded.errors)


def test_yolo_folder_uses_real_image_size_after_exif_rotation(tmp_path):
    _image(tmp_path / "a.jpg", size=(200, 100), orientation=6)  # displayed 100 wide, 200 high
    _image(tmp_path / "b.jpg")
    (tmp_path / "a.txt").write_text("1 0.5 0.5 0.5 0.25\n")
    write_classes_txt(LabelSet(["cat", "dog"]), tmp_path / "classes.txt")
    assert detect_format(tmp_path) == "yolo"
    loaded = load_folder(tmp_path)
    assert loaded.errors == [] and loaded.labels.names == ["cat", "dog"]
    a, b = loaded.annotations
    assert (a.width, a.height) == (100, 200)
    assert a.boxes == [Box("dog", 25, 75, 75, 125)]
    assert b.boxes == [] and b.width == 0  # no txt: unlabelled


def test_yolo_errors_per_file(tmp_path):
    for name in ("a", "b", "c", "d"):
        _image(tmp_path / f"{name}.jpg", size=(10, 10))
    write_classes_txt(LabelSet(["cat"]), tmp_path / "classes.txt")
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "b.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n")
    (tmp_path / "c.txt").write_text("")
    (tmp_path / "d.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "d.jpg").write_bytes(b"not a jpeg")
    loaded = load_folder(tmp_path)
    # issue 12: one bad line is a named problem for that box; b's good line is kept
    assert [len(a.boxes) for a in loaded.annotations] == [1, 1, 0, 0]
    assert [(e.path.name, e.where) for e in loaded.errors] == [("b.txt", "line 2"), ("d.jpg", None)]
    assert "unknown class id 1" in loaded.errors[0].problem
    assert "cannot read the image size" in loaded.errors[1].problem


def test_yolo_without_classes_txt_reports_it(tmp_path):
    _image(tmp_path / "a.jpg")
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    loaded = load_folder(tmp_path)
    assert loaded.format == "yolo"
    assert [e.path.name for e in loaded.errors] == ["classes.txt", "a.txt"]
    assert loaded.annotations[0].image_path == tmp_path / "a.jpg"


def test_ultralytics_layout(tmp_path):
    train = _image(tmp_path / "images" / "train" / "img10.jpg", size=(20, 10))
    val = _image(tmp_path / "images" / "val" / "img2.jpg", size=(20, 10))
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "img10.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    write_classes_txt(LabelSet(["cat"]), tmp_path / "labels" / "classes.txt")
    assert detect_format(tmp_path) == "yolo"
    loaded = load_folder(tmp_path)
    assert loaded.errors == []
    assert [a.image_path for a in loaded.annotations] == [train, val]
    assert loaded.annotations[0].boxes == [Box("cat", 5, 2.5, 15, 7.5)]


def test_classes_txt_alone_means_yolo(tmp_path):
    _image(tmp_path / "a.jpg")
    write_classes_txt(LabelSet(["cat"]), tmp_path / "classes.txt")
    assert detect_format(tmp_path) == "yolo"


def test_coco_folder(tmp_path):
    a, b = _image(tmp_path / "a.jpg"), _image(tmp_path / "b.jpg")
    _image(tmp_path / "extra" / "c.jpg")
    (tmp_path / "labelme_style.json").write_text('{"shapes": []}')  # valid JSON of another kind: not a candidate
    write_coco_json([ImageAnnotation(b, 40, 30, [Box("dog", 1, 2, 3, 4)]),
                     ImageAnnotation(tmp_path / "extra" / "c.jpg", 40, 30, [])],
                    LabelSet(["cat", "dog"]), tmp_path / "annotations.json")
    assert detect_format(tmp_path) == "coco"
    loaded = load_folder(tmp_path)
    assert loaded.errors == [] and loaded.labels.names == ["cat", "dog"]
    assert [x.image_path.name for x in loaded.annotations] == ["a.jpg", "b.jpg", "c.jpg"]
    assert loaded.annotations[1].boxes == [Box("dog", 1, 2, 3, 4)]


def test_coco_in_annotations_subfolder_matches_images_by_name(tmp_path):
    a = _image(tmp_path / "images" / "a.jpg")
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_val.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30},
                   {"id": 2, "file_name": "gone.jpg", "width": 40, "height": 30}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}],
        "categories": [{"id": 1, "name": "cat"}]}))
    loaded = load_folder(tmp_path)
    assert loaded.format == "coco"
    assert [(x.image_path, x.boxes) for x in loaded.annotations] == [(a, [Box("cat", 1, 1, 3, 3)])]
    assert [(e.path.name, "image file not found" in e.problem) for e in loaded.errors] == [("instances_val.json", True)]


def test_broken_coco_json_is_reported_and_images_still_listed(tmp_path):
    _image(tmp_path / "a.jpg")
    (tmp_path / "annotations.json").write_text('{"images": [')
    assert detect_format(tmp_path) == "coco"
    loaded = load_folder(tmp_path)
    assert len(loaded.annotations) == 1
    (error,) = loaded.errors
    assert error.path.name == "annotations.json" and "not valid JSON" in error.problem


def test_per_image_json_files_are_not_taken_for_coco(tmp_path):
    _image(tmp_path / "a.jpg")
    (tmp_path / "a.json").write_text("{half a labelme file")  # named like its image: not a dataset file
    assert detect_format(tmp_path) is None
    assert load_folder(tmp_path).errors == []


def test_unknown_format_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown annotation format 'pascal'"):
        load_folder(tmp_path, format="pascal")


def test_save_voc_extends_existing_classes_txt(tmp_path):
    a = _image(tmp_path / "a.jpg")
    write_classes_txt(LabelSet(["dog"]), tmp_path / "classes.txt")
    path = save_annotation(ImageAnnotation(a, 40, 30, [Box("cat", 1, 1, 5, 5)]), LabelSet(["cat", "dog"]), "voc")
    assert path == tmp_path / "a.xml"
    assert read_classes_txt(tmp_path / "classes.txt").names == ["dog", "cat"]
    assert load_folder(tmp_path).annotations[0].boxes == [Box("cat", 1, 1, 5, 5)]


def test_save_yolo_appends_new_classes_but_never_renumbers(tmp_path):
    a = _image(tmp_path / "a.jpg")
    save_annotation(ImageAnnotation(a, 40, 30, [Box("cat", 0, 0, 20, 15)]), LabelSet(["cat"]), "yolo")
    save_annotation(ImageAnnotation(a, 40, 30, [Box("dog", 0, 0, 20, 15)]), LabelSet(["cat", "dog"]), "yolo")
    assert (tmp_path / "classes.txt").read_text() == "cat\ndog\n"
    assert (tmp_path / "a.txt").read_text().startswith("1 ")
    with pytest.raises(AnnotationError, match="would renumber"):
        save_annotation(ImageAnnotation(a, 40, 30, []), LabelSet(["dog", "cat"]), "yolo")
    assert (tmp_path / "a.txt").read_text().startswith("1 ")  # refused before touching anything
    assert load_folder(tmp_path).annotations[0].boxes == [Box("dog", 0, 0, 20, 15)]


def test_save_coco_updates_the_dataset_file(tmp_path):
    a, b = _image(tmp_path / "a.jpg"), _image(tmp_path / "b.jpg")
    labels = LabelSet(["cat"])
    write_coco_json([ImageAnnotation(a, 40, 30, [Box("cat", 1, 1, 2, 2)])], labels, tmp_path / "mine.json")
    path = save_annotation(ImageAnnotation(b, 40, 30, [Box("cat", 3, 3, 9, 9)]), labels, "coco")
    assert path == tmp_path / "mine.json"
    annotations, _ = read_coco_json(path)
    assert [(x.image_path.name, len(x.boxes)) for x in annotations] == [("a.jpg", 1), ("b.jpg", 1)]


def test_save_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown annotation format"):
        save_annotation(ImageAnnotation(tmp_path / "a.jpg", 1, 1), LabelSet(), "csv")


def test_loading_lists_each_folder_once_instead_of_asking_about_every_file(tmp_path, monkeypatch):
    import pathlib

    for i in range(40):
        image = _image(tmp_path / f"img{i}.jpg", size=(8, 8))
        if i % 2:
            _voc(image, [Box("cat", 1, 1, 5, 5)], size=(8, 8))
    stat_calls = []
    real_stat = pathlib.Path.stat
    monkeypatch.setattr(pathlib.Path, "stat", lambda self, **kw: stat_calls.append(self) or real_stat(self, **kw))
    loaded = load_folder(tmp_path)
    assert loaded.format == "voc" and sum(len(a.boxes) for a in loaded.annotations) == 20
    assert len(stat_calls) < 10, f"{len(stat_calls)} stat calls for 40 images: {stat_calls[:5]}..."


def test_a_split_folder_of_the_ultralytics_layout_opened_by_itself(tmp_path):
    train = tmp_path / "images" / "train"
    image = _image(train / "a.jpg", size=(20, 10))
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")  # outside the opened folder
    write_classes_txt(LabelSet(["cat"]), train / "classes.txt")
    assert detect_format(train) == "yolo"
    loaded = load_folder(train)
    assert loaded.errors == [] and [a.image_path for a in loaded.annotations] == [image]
    assert loaded.annotations[0].boxes == [Box("cat", 5, 2.5, 15, 7.5)]


def test_classes_txt_in_a_labels_split_folder_is_found(tmp_path):
    _image(tmp_path / "images" / "val" / "b.jpg", size=(20, 10))
    (tmp_path / "labels" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val" / "b.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    write_classes_txt(LabelSet(["cat", "dog"]), tmp_path / "labels" / "val" / "classes.txt")  # labelImg's place
    loaded = load_folder(tmp_path)
    assert loaded.errors == [] and loaded.labels.names == ["cat", "dog"]
    assert [b.label for b in loaded.annotations[0].boxes] == ["dog"]
