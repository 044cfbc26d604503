"""The datasets people already have open in the app through the engine's format table (issue 12)."""
import json

from PIL import Image

from engine.annotations.records import Box


def _image(path, size=(64, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 20, 140)).save(path)


def test_an_ultralytics_dataset_opens_and_saves_in_place(tmp_path, open_window):
    root = tmp_path / "coco8"
    for split in ("train", "val"):
        _image(root / "images" / split / f"{split}1.jpg")
        (root / "labels" / split).mkdir(parents=True)
        (root / "labels" / split / f"{split}1.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames:\n  0: person\n  1: bus\n")
    window = open_window(root)
    assert window.project.format == "ultralytics"
    assert [b.label for b in window.current_annotation().boxes] == ["bus"]
    ann = window.current_annotation()
    ann.boxes.append(Box("person", 2, 2, 20, 20))
    window.project.mark_dirty(ann)
    window.saving.save()
    label_file = window.project.label_path(ann)
    assert label_file.parent.parent.name == "labels" and label_file.read_text().splitlines()[1].startswith("0 ")


def test_a_labelme_folder_opens_with_its_rectangles(tmp_path, open_window):
    _image(tmp_path / "a.jpg")
    (tmp_path / "a.json").write_text(json.dumps({
        "version": "5.5.0", "flags": {}, "imagePath": "a.jpg", "imageData": None, "imageHeight": 48, "imageWidth": 64,
        "shapes": [{"label": "dog", "points": [[1, 1], [30, 30]], "shape_type": "rectangle", "flags": {}},
                   {"label": "lane", "points": [[0, 0], [9, 9]], "shape_type": "line", "flags": {}}]}))
    window = open_window(tmp_path)
    assert [b.label for b in window.current_annotation().boxes] == ["dog"]
    assert any("not a box" in str(e) for e in window.project.errors.values())
