"""The VOC pixel origin in the app (issue 12): one saved choice per project, shown, changeable, round trips exact."""
from __future__ import annotations

import json

from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from resyolo_gui.labelling import pixel_origin


def _image(path, size=(64, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 20, 140)).save(path)


def supervision_xml(path, xmin, ymin, xmax, ymax):
    """supervision's / the devkit's VOC: corners counted from 1 (as Ultralytics' VOC converter reads them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><folder></folder><filename>{path.stem}.jpg</filename><source><database>roboflow.ai"
                    "</database></source><size><width>64</width><height>48</height><depth>3</depth></size>"
                    "<segmented>0</segmented><object><name>dog</name><bndbox>"
                    f"<xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax>"
                    "</bndbox></object></annotation>")


def click(button_text, seen):
    def go():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, go)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button_text).click()
    QTimer.singleShot(0, go)


def _menu(window):
    window.pixel_origin_menu.refresh()
    return {o: (a.isEnabled(), a.isChecked()) for o, a in window.pixel_origin_menu.actions.items()}


def test_a_devkit_opens_one_based_and_round_trips_exactly(tmp_path, open_window):
    year = tmp_path / "VOC2007"
    _image(year / "JPEGImages" / "000001.jpg")
    supervision_xml(year / "Annotations" / "000001.xml", 1, 1, 64, 48)  # the whole image, devkit-style
    window = open_window(year)
    assert _menu(window) == {0: (True, False), 1: (True, True)}
    box = window.current_annotation().boxes[0]
    assert (box.x1, box.y1, box.x2, box.y2) == (0, 0, 63, 47)
    ann = window.current_annotation()
    window.project.mark_dirty(ann)
    window.save()
    text = (year / "Annotations" / "000001.xml").read_text()
    assert "<xmin>1</xmin>" in text and "<xmax>64</xmax>" in text and "<ymax>48</ymax>" in text
    assert json.loads((year / ".resyolo" / "project.json").read_text())["voc_pixel_origin"] == 1


def test_read_files_as_one_based_moves_the_boxes_and_leaves_the_files(tmp_path, open_window):
    _image(tmp_path / "a.jpg")
    supervision_xml(tmp_path / "a.xml", 11, 11, 31, 21)  # supervision's export, beside the images
    window = open_window(tmp_path)
    assert _menu(window) == {0: (True, True), 1: (True, False)}  # VOC beside images: labelImg's 0, not guessed
    before = (tmp_path / "a.xml").read_bytes()
    seen = []
    click(pixel_origin.REREAD_BUTTON.format(1), seen)
    window.pixel_origin_menu.actions[1].trigger()
    assert "counts from 1" in seen[0]
    box = window.current_annotation().boxes[0]
    assert (box.x1, box.y1, box.x2, box.y2) == (10, 10, 30, 20)
    assert sorted(i.box.x1 for i in window.canvas.box_items()) == [10]  # redrawn
    assert (tmp_path / "a.xml").read_bytes() == before and _menu(window)[1] == (True, True)
    window.project.mark_dirty(window.current_annotation())
    window.save()  # round trip: supervision's numbers come back as they were
    assert "<xmin>11</xmin><ymin>11</ymin><xmax>31</xmax><ymax>21</ymax>" in \
        (tmp_path / "a.xml").read_text().replace("\n", "").replace("\t", "")
    window.close()
    reopened = open_window(tmp_path)
    assert reopened.project.pixel_origin == 1 and reopened.current_annotation().boxes[0].x1 == 10


def test_rewrite_files_keeps_the_boxes_and_rewrites_one_based(tmp_path, open_window):
    _image(tmp_path / "a.jpg")
    supervision_xml(tmp_path / "a.xml", 11, 11, 31, 21)
    window = open_window(tmp_path)
    seen = []
    click(pixel_origin.REWRITE_BUTTON.format(1), seen)
    window.pixel_origin_menu.actions[1].trigger()
    assert window.current_annotation().boxes[0].x1 == 11
    assert "<xmin>12</xmin>" in (tmp_path / "a.xml").read_text()


def test_formats_without_a_pixel_origin_show_the_choice_disabled(tmp_path, open_window):
    _image(tmp_path / "a.jpg")
    (tmp_path / "classes.txt").write_text("dog\n")
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.25 0.25\n")
    window = open_window(tmp_path)
    assert _menu(window) == {0: (False, False), 1: (False, False)}
