"""The browser's split filter (issue 12): train / val / test of an Ultralytics data.yaml or a VOC devkit."""
from __future__ import annotations

from PIL import Image

from engine.project.project import Project
from resyolo_gui.labelling.browser import ImageBrowser


def _image(path, size=(64, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 20, 140)).save(path)


def _browser(qtbot, folder) -> ImageBrowser:
    browser = ImageBrowser()
    qtbot.addWidget(browser)
    browser.set_project(Project.open(folder, read_only=True))
    browser.show()
    return browser


def _filters(browser) -> list:
    return [browser.filter_box.itemData(i) for i in range(browser.filter_box.count())]


def _shown(browser) -> list[str]:
    return [browser.project.annotations[r].image_path.name for r in browser.visible_rows()]


def test_an_ultralytics_dataset_filters_by_its_splits(tmp_path, qtbot):
    root = tmp_path / "coco8"
    for split, names in (("train", ["t1", "t2", "t3"]), ("val", ["v1"]), ("test", ["x1", "x2"])):
        for name in names:
            _image(root / "images" / split / f"{name}.jpg")
            (root / "labels" / split).mkdir(parents=True, exist_ok=True)
            (root / "labels" / split / f"{name}.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\ntest: images/test\n"
                                    "names:\n  0: person\n")
    browser = _browser(qtbot, root)
    assert [d for d in _filters(browser) if d[0] == "split"] == [("split", "train"), ("split", "val"),
                                                                 ("split", "test")]
    assert browser.filter_box.itemText(_filters(browser).index(("split", "train"))) == "Split “train” (3)"
    browser.set_current(0)
    browser.set_filter("split", "val")
    assert _shown(browser) == ["t1.jpg", "v1.jpg"]  # the current image always stays listed
    browser.set_current(browser.visible_rows()[1])
    browser.set_filter("split", "test")
    assert _shown(browser) == ["v1.jpg", "x1.jpg", "x2.jpg"]
    browser.set_current(browser.visible_rows()[1])
    browser.set_filter("split", "test")
    assert _shown(browser) == ["x1.jpg", "x2.jpg"]
    assert browser.count_label.text().startswith("2 of 6 shown")


def test_a_voc_devkit_filters_by_its_imagesets(tmp_path, qtbot):
    year = tmp_path / "VOCdevkit" / "VOC2007"
    for stem in ("000001", "000002", "000003"):
        _image(year / "JPEGImages" / f"{stem}.jpg")
        (year / "Annotations").mkdir(parents=True, exist_ok=True)
        (year / "Annotations" / f"{stem}.xml").write_text(
            f"<annotation><filename>{stem}.jpg</filename><size><width>64</width><height>48</height></size><object>"
            "<name>dog</name><difficult>0</difficult><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>20</xmax>"
            "<ymax>20</ymax></bndbox></object></annotation>")
    main = year / "ImageSets" / "Main"
    main.mkdir(parents=True)
    (main / "trainval.txt").write_text("000001\n000002\n")
    (main / "test.txt").write_text("000003\n")
    (main / "dog_trainval.txt").write_text("000001  1\n000002 -1\n")  # per-class lists are not splits
    browser = _browser(qtbot, year)
    assert [d for d in _filters(browser) if d[0] == "split"] == [("split", "test"), ("split", "trainval")]
    browser.set_current(2)
    browser.set_filter("split", "trainval")
    browser.set_current(0)
    assert _shown(browser) == ["000001.jpg", "000002.jpg"]


def test_a_folder_without_splits_offers_no_split_filter(tmp_path, make_folder, qtbot):
    browser = _browser(qtbot, make_folder(tmp_path / "p"))
    assert not [d for d in _filters(browser) if d[0] == "split"]
