"""File > Export Labels As (issue 12): every format of the table, through the engine's convert, never
overwriting without asking."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.annotations.folder import load_folder
from engine.annotations.records import Box

FORMATS = ("voc", "yolo", "ultralytics", "coco", "labelme", "cvat")


def test_the_menu_offers_every_format_of_the_table(image_folder, open_window):
    window = open_window(image_folder)
    assert list(window.label_export.actions) == list(FORMATS)
    texts = [a.text() for a in window.label_export.menu.actions()]
    assert texts[0].startswith("Pascal VOC") and any("Ultralytics" in t for t in texts) and any("CVAT" in t for t in texts)


@pytest.mark.parametrize("name", FORMATS)
def test_export_writes_a_dataset_that_reads_back_with_unsaved_edits(name, image_folder, open_window, tmp_path):
    window = open_window(image_folder)
    ann = window.current_annotation()
    ann.boxes.append(Box("dog", 30, 2, 60, 20))  # not saved yet: the export takes what the app shows
    window.canvas.annotation_edited.emit(ann)
    out = tmp_path / f"export-{name}"
    window.label_export.choose_folder = lambda title: str(out)
    window.label_export.actions[name].trigger()
    report = window.label_export.last_report
    assert report is not None and report.images == 5 and report.boxes == 4
    back = load_folder(out)
    assert back.format == name
    by_name = {a.image_path.name: sorted(b.label for b in a.boxes) for a in back.annotations}
    assert by_name["img0.jpg"] == ["cat", "dog"] and by_name["img1.jpg"] == ["dog"] and by_name["img4.jpg"] == []
    assert "Exported 5 image(s), 4 box(es)" in window.statusBar().currentMessage()
    assert window.project.is_dirty(ann)  # exporting is not saving the project


def test_a_non_empty_folder_is_written_only_when_the_user_says_so(image_folder, open_window, tmp_path):
    window = open_window(image_folder)
    out = tmp_path / "taken"
    out.mkdir()
    (out / "annotations.json").write_text(json.dumps({"mine": True}))
    window.label_export.choose_folder = lambda title: str(out)
    seen = []

    def answer(button):
        def click():
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                QTimer.singleShot(20, click)
                return
            seen.append(box.text())
            box.button(button).click()
        QTimer.singleShot(0, click)

    answer(QMessageBox.Cancel)
    assert window.label_export.export("coco") is None
    assert "is not empty" in seen[0] and json.loads((out / "annotations.json").read_text()) == {"mine": True}
    assert sorted(p.name for p in out.iterdir()) == ["annotations.json"]
    answer(QMessageBox.Yes)
    assert window.label_export.export("coco").images == 5
    assert "images" in json.loads((out / "annotations.json").read_text())
