"""YOLO txt + classes.txt: conversion, round trip, Ultralytics layout, malformed lines."""
import pytest

from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet
from engine.annotations.yolo import (read_classes_txt, read_yolo_txt, write_classes_txt, write_yolo_txt,
                                     yolo_label_path)

LABELS = LabelSet(["cat", "dog", "bird"])


def _assert_same_boxes(actual, expected):
    """Equal up to the 6 decimals YOLO files keep (a thousandth of a pixel on these sizes)."""
    assert [(b.label, b.difficult) for b in actual] == [(b.label, b.difficult) for b in expected]
    for a, e in zip(actual, expected):
        assert a.xyxy() == pytest.approx(e.xyxy(), abs=1e-3)


def test_classes_txt_round_trip(tmp_path):
    path = write_classes_txt(LABELS, tmp_path / "classes.txt")
    assert path.read_text() == "cat\ndog\nbird\n"
    assert read_classes_txt(path) == LABELS


def test_classes_txt_skips_blank_lines_and_bom(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_bytes("\ufeffcat\r\n\r\n dog \n".encode("utf-8"))
    assert read_classes_txt(path).names == ["cat", "dog"]


def test_classes_txt_duplicate_names_the_line(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_text("cat\ndog\ncat\n")
    with pytest.raises(AnnotationError, match=r"line 3.*'cat' listed twice"):
        read_classes_txt(path)


def test_reads_normalised_centre_format(tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_text("0 0.5 0.5 0.25 0.5\n2 0.1 0.2 0.2 0.2\n")
    ann = read_yolo_txt(txt, tmp_path / "a.jpg", 200, 100, LABELS)
    assert (ann.width, ann.height, ann.image_path) == (200, 100, tmp_path / "a.jpg")
    # second box reaches past the left edge (0.1 - 0.1 = 0): clipped to the image
    _assert_same_boxes(ann.boxes, [Box("cat", 75, 25, 125, 75), Box("bird", 0, 10, 40, 30)])


def test_round_trip(tmp_path):
    ann = ImageAnnotation(tmp_path / "a.jpg", 640, 480, [Box("dog", 10.5, 20, 300, 479.5), Box("cat", 0, 0, 640, 480)])
    txt = write_yolo_txt(ann, LABELS)
    assert txt == tmp_path / "a.txt"
    lines = txt.read_text().splitlines()
    assert lines[1] == "0 0.500000 0.500000 1.000000 1.000000"
    back = read_yolo_txt(txt, ann.image_path, 640, 480, LABELS)
    _assert_same_boxes(back.boxes, ann.boxes)


def test_empty_file_means_no_objects(tmp_path):
    txt = tmp_path / "a.txt"
    write_yolo_txt(ImageAnnotation(tmp_path / "a.jpg", 10, 10, []), LABELS, txt)
    assert txt.read_text() == ""
    assert read_yolo_txt(txt, tmp_path / "a.jpg", 10, 10, LABELS).boxes == []


def test_write_needs_known_class_and_size(tmp_path):
    with pytest.raises(KeyError, match="unknown class 'fish'"):
        write_yolo_txt(ImageAnnotation(tmp_path / "a.jpg", 10, 10, [Box("fish", 1, 1, 5, 5)]), LABELS)
    with pytest.raises(ValueError, match="size must be known"):
        write_yolo_txt(ImageAnnotation(tmp_path / "a.jpg", 0, 0, []), LABELS)
    assert not (tmp_path / "a.txt").exists()


def test_ultralytics_layout_puts_labels_in_labels_tree(tmp_path):
    image = tmp_path / "images" / "train" / "a.jpg"
    image.parent.mkdir(parents=True)
    assert yolo_label_path(image) == image.with_suffix(".txt")  # no labels/ folder yet: beside the image
    (tmp_path / "labels").mkdir()
    assert yolo_label_path(image) == tmp_path / "labels" / "train" / "a.txt"
    written = write_yolo_txt(ImageAnnotation(image, 10, 10, [Box("cat", 1, 1, 5, 5)]), LABELS)
    assert written == tmp_path / "labels" / "train" / "a.txt" and written.is_file()


@pytest.mark.parametrize("line, problem", [
    ("0 0.5 0.5 0.2", "expected 5 fields"),
    ("0 0.5 0.5 0.2 0.2 0.9", "expected 5 fields"),
    ("0 0.5 half 0.2 0.2", "not a number"),
    ("0 0.5 nan 0.2 0.2", "not a finite number"),
    ("cat 0.5 0.5 0.2 0.2", "not a number"),
    ("1.5 0.5 0.5 0.2 0.2", "not a whole number"),
    ("3 0.5 0.5 0.2 0.2", "unknown class id 3 (known ids: 0..2)"),
    ("-1 0.5 0.5 0.2 0.2", "unknown class id -1"),
    ("0 1.5 0.5 0.2 0.2", "cx = 1.5 is outside [0, 1]"),
    ("0 0.5 0.5 0.2 -0.2", "h = -0.2 is outside [0, 1]"),
    ("0 120 80 40 30", "outside [0, 1]"),  # pixel values instead of normalised ones
    ("0 0.5 0.5 0 0.2", "zero size"),
])
def test_malformed_line_names_file_and_line(tmp_path, line, problem):
    txt = tmp_path / "bad.txt"
    txt.write_text(f"1 0.5 0.5 0.2 0.2\n\n{line}\n")
    with pytest.raises(AnnotationError) as info:
        read_yolo_txt(txt, tmp_path / "bad.jpg", 100, 100, LABELS)
    assert info.value.path == txt
    assert info.value.where == "line 3"
    assert problem in info.value.problem


def test_tiny_rounding_overshoot_is_accepted(tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_text("0 0.5 0.5 1.0000004 1.0\n")
    (box,) = read_yolo_txt(txt, tmp_path / "a.jpg", 100, 100, LABELS).boxes
    assert box.xyxy() == pytest.approx((0, 0, 100, 100))


def test_unknown_size_is_refused(tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_text("")
    with pytest.raises(ValueError, match="image size must be known"):
        read_yolo_txt(txt, tmp_path / "a.jpg", 0, 0, LABELS)


def test_binary_garbage_is_an_annotation_error(tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_bytes(b"\xff\xfe\x00garbage\x9c")
    with pytest.raises(AnnotationError, match="not UTF-8"):
        read_yolo_txt(txt, tmp_path / "a.jpg", 10, 10, LABELS)


def _folder_with_an_image_named_classes(tmp_path):
    from PIL import Image

    for name in ("a.jpg", "classes.jpg"):
        Image.new("RGB", (64, 48)).save(tmp_path / name)
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    (tmp_path / "a.txt").write_text("1 0.5 0.5 0.25 0.25\n")
    return tmp_path


def test_an_image_named_classes_does_not_read_the_class_list_as_its_boxes(tmp_path):
    from engine.annotations.folder import load_folder

    loaded = load_folder(_folder_with_an_image_named_classes(tmp_path))
    assert loaded.format == "yolo" and loaded.labels.names == ["cat", "dog"]
    by_name = {a.image_path.name: a for a in loaded.annotations}
    assert [b.label for b in by_name["a.jpg"].boxes] == ["dog"] and by_name["classes.jpg"].boxes == []
    assert len(loaded.errors) == 1
    assert "classes.jpg" in str(loaded.errors[0]) and "class list" in str(loaded.errors[0])


def test_saving_boxes_on_an_image_named_classes_is_refused_and_keeps_the_class_list(tmp_path):
    from engine.annotations.folder import save_annotation

    folder = _folder_with_an_image_named_classes(tmp_path)
    ann = ImageAnnotation(image_path=folder / "classes.jpg", width=64, height=48, boxes=[Box("cat", 1, 1, 20, 20)])
    with pytest.raises(AnnotationError, match=r"classes\.jpg.*class list.*rename the image"):
        save_annotation(ann, LabelSet(["cat", "dog"]), "yolo")
    assert (folder / "classes.txt").read_text() == "cat\ndog\n"
