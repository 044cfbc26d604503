"""Layouts as the other tools write them: several VOC years joined, listing problems named, data.yaml forms."""
import os

from PIL import Image

from engine.annotations.folder import load_folder
from engine.training.setup import load_training_data


def _image(path, size=(64, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (1, 2, 3)).save(path)


def _year(root, year, ids, test_ids=()):
    folder = root / year
    for i in (*ids, *test_ids):
        _image(folder / "JPEGImages" / f"{i}.jpg")
        (folder / "Annotations").mkdir(parents=True, exist_ok=True)
        (folder / "Annotations" / f"{i}.xml").write_text(
            f"<annotation><filename>{i}.jpg</filename><size><width>64</width><height>48</height></size><object>"
            "<name>cat</name><difficult>0</difficult><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>20</xmax><ymax>20"
            "</ymax></bndbox></object></annotation>")
    main = folder / "ImageSets" / "Main"
    main.mkdir(parents=True)
    (main / "trainval.txt").write_text("".join(f"{i}\n" for i in ids))
    if test_ids:
        (main / "test.txt").write_text("".join(f"{i}\n" for i in test_ids))


def test_voc_07_plus_12_trains_on_both_years_trainval(tmp_path):
    devkit = tmp_path / "VOCdevkit"
    _year(devkit, "VOC2007", ["000001", "000002"], ["000009"])
    _year(devkit, "VOC2012", ["2012_000001"])
    loaded = load_folder(devkit)
    assert loaded.format == "vocdevkit" and len(loaded.annotations) == 4
    data = load_training_data(devkit, split="trainval", val_split="test")
    assert sorted(a.image_path.stem for a in data.train) == ["000001", "000002", "2012_000001"]
    assert [a.image_path.stem for a in data.val] == ["000009"]


def test_a_looping_symlink_inside_images_is_one_problem_and_hides_nothing(tmp_path):
    _image(tmp_path / "images" / "a.jpg")
    _image(tmp_path / "images" / "sub" / "b.jpg")
    os.symlink(tmp_path / "images" / "loop.jpg", tmp_path / "images" / "loop.jpg")
    loaded = load_folder(tmp_path)
    assert sorted(a.image_path.name for a in loaded.annotations) == ["a.jpg", "b.jpg"]
    assert [e.path.name for e in loaded.errors] == ["loop.jpg"]


def test_data_yaml_with_split_lists_and_txt_lists(tmp_path):
    for name in ("a", "b", "c"):
        _image(tmp_path / "images" / f"{name}.jpg")
        (tmp_path / "labels").mkdir(exist_ok=True)
        (tmp_path / "labels" / f"{name}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "train.txt").write_text("./images/a.jpg\n./images/b.jpg\n")
    (tmp_path / "data.yaml").write_text("path: .\ntrain: [train.txt]\nval: images/c.jpg\nnc: 1\nnames: [cat]\n")
    (tmp_path / "data.yaml").write_text("path: .\ntrain: [train.txt]\nval: val.txt\nnc: 1\nnames: [cat]\n")
    (tmp_path / "val.txt").write_text("images/c.jpg\n")
    data = load_training_data(tmp_path / "data.yaml")
    assert sorted(a.image_path.name for a in data.train) == ["a.jpg", "b.jpg"]
    assert [a.image_path.name for a in data.val] == ["c.jpg"]
