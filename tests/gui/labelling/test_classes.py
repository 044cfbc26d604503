"""The class editor on a real folder of images with VOC labels: edits reach every image and the files."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtWidgets import QLineEdit  # noqa: E402

from engine.annotations.records import Box, ImageAnnotation  # noqa: E402
from engine.annotations.voc import read_voc_xml, write_voc_xml  # noqa: E402
from engine.project.project import Project  # noqa: E402
from resyolo_gui.canvas import AnnotationCanvas  # noqa: E402
from resyolo_gui.labelling.classes import ClassPanel, DeleteClassDialog, DeleteDecision  # noqa: E402

LABELS = {
    "one.png": [Box("cat", 1, 1, 20, 20), Box("dog", 30, 30, 50, 50)],
    "two.png": [Box("cat", 5, 5, 25, 25), Box("cat", 40, 10, 60, 30), Box("bird", 2, 40, 12, 55)],
}


@pytest.fixture
def project(tmp_path):
    for name, boxes in LABELS.items():
        image = tmp_path / name
        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(image)
        write_voc_xml(ImageAnnotation(image, 64, 64, [b.copy() for b in boxes]))
    return Project.open(tmp_path)


@pytest.fixture
def panel(qtbot, project):
    widget = ClassPanel()
    qtbot.addWidget(widget)
    widget.set_project(project)
    widget.show()
    return widget


def labels_by_image(project):
    return {a.image_path.name: [b.label for b in a.boxes] for a in project.annotations}


def labels_on_disk(project):
    return {a.image_path.name: [b.label for b in read_voc_xml(a.image_path.with_suffix(".xml")).boxes]
            for a in project.annotations}


def row(panel, name):
    item = panel.item_for(name)
    return [item.text(c) for c in range(3)]


def test_lists_classes_with_key_colour_and_box_count(panel, project):
    assert set(panel.class_names()) == {"cat", "dog", "bird"}
    counts = {name: row(panel, name)[2] for name in panel.class_names()}
    assert counts == {"cat": "3", "dog": "1", "bird": "1"}
    assert [row(panel, n)[0] for n in panel.class_names()] == ["1", "2", "3"]
    icon = panel.item_for("dog").icon(1).pixmap(14, 14).toImage()
    assert icon.pixelColor(7, 7).name() == project.classes.color_of("dog")


def test_rename_in_place_reaches_every_image_and_the_files(qtbot, panel, project):
    panel.set_current_class("cat")
    panel.rename_action.trigger()
    editor = panel.tree().findChild(QLineEdit)
    assert editor is not None and editor.text() == "cat"
    editor.selectAll()
    qtbot.keyClicks(editor, "feline")
    with qtbot.waitSignal(panel.classes_changed), qtbot.waitSignal(panel.class_chosen) as chosen:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert chosen.args == ["feline"]
    assert "feline" in panel.class_names() and "cat" not in panel.class_names()
    assert labels_by_image(project) == {"one.png": ["feline", "dog"], "two.png": ["feline", "feline", "bird"]}
    assert project.save_all() == []
    assert labels_on_disk(project) == {"one.png": ["feline", "dog"], "two.png": ["feline", "feline", "bird"]}


def test_rename_to_an_existing_name_is_refused_with_a_message(qtbot, panel, project, monkeypatch):
    errors = []
    monkeypatch.setattr(panel, "show_error", errors.append)
    assert not panel.rename("cat", "dog")
    assert "already exists" in errors[0]
    assert set(panel.class_names()) == {"cat", "dog", "bird"}
    assert labels_by_image(project)["one.png"] == ["cat", "dog"]


def test_add_class_and_refuse_a_duplicate(qtbot, panel, project, monkeypatch):
    errors = []
    monkeypatch.setattr(panel, "show_error", errors.append)
    monkeypatch.setattr(panel, "ask_new_class_name", lambda: " person ")
    with qtbot.waitSignal(panel.class_chosen) as chosen:
        panel.add_action.trigger()
    assert chosen.args == ["person"] and panel.current_class() == "person"
    assert project.labels.names[-1] == "person" and row(panel, "person") == ["4", "person", "0"]
    panel.add_action.trigger()
    assert errors == ["Class 'person' already exists."]
    assert project.labels.names.count("person") == 1


def test_recolour(qtbot, panel, project, monkeypatch):
    monkeypatch.setattr(panel, "ask_color", lambda name, current: QColor("#123456"))
    panel.set_current_class("bird")
    with qtbot.waitSignal(panel.classes_changed):
        panel.recolor_action.trigger()
    assert project.classes.color_of("bird") == "#123456"
    assert panel.item_for("bird").icon(1).pixmap(14, 14).toImage().pixelColor(7, 7).name() == "#123456"


def test_merge_into_another_class(qtbot, panel, project, monkeypatch):
    asked = []
    monkeypatch.setattr(panel, "ask_merge_target", lambda source, targets: asked.append(targets) or "dog")
    panel.set_current_class("cat")
    panel.merge_action.trigger()
    assert [sorted(t) for t in asked] == [["bird", "dog"]]
    assert labels_by_image(project) == {"one.png": ["dog", "dog"], "two.png": ["dog", "dog", "bird"]}
    assert "cat" not in panel.class_names() and row(panel, "dog")[2] == "4"


def test_delete_reassigning_its_boxes(qtbot, panel, project, monkeypatch):
    monkeypatch.setattr(panel, "ask_delete", lambda name, count, others: DeleteDecision("bird"))
    panel.set_current_class("cat")
    panel.delete_action.trigger()
    assert labels_by_image(project) == {"one.png": ["bird", "dog"], "two.png": ["bird", "bird", "bird"]}
    assert sorted(project.labels.names) == ["bird", "dog"] and row(panel, "bird")[2] == "4"


def test_delete_deleting_its_boxes_and_cancel(qtbot, panel, project, monkeypatch):
    monkeypatch.setattr(panel, "ask_delete", lambda name, count, others: None)
    panel.set_current_class("cat")
    panel.delete_action.trigger()
    assert "cat" in project.labels.names and labels_by_image(project)["two.png"] == ["cat", "cat", "bird"]
    monkeypatch.setattr(panel, "ask_delete", lambda name, count, others: DeleteDecision(None))
    panel.delete_action.trigger()
    assert labels_by_image(project) == {"one.png": ["dog"], "two.png": ["bird"]}
    assert "cat" not in panel.class_names()


def test_delete_dialog_offers_moving_by_default_or_deleting(qtbot):
    dialog = DeleteClassDialog("cat", 3, ["dog", "bird"])
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.decision() == DeleteDecision("dog")
    dialog.target.setCurrentText("bird")
    assert dialog.decision() == DeleteDecision("bird")
    indicator = QPoint(8, dialog.delete_choice.height() // 2)  # the radio's clickable part
    qtbot.mouseClick(dialog.delete_choice, Qt.MouseButton.LeftButton, pos=indicator)
    assert dialog.decision() == DeleteDecision(None) and not dialog.target.isEnabled()
    alone = DeleteClassDialog("cat", 3, [])
    qtbot.addWidget(alone)
    assert alone.decision() == DeleteDecision(None)


def test_clicking_a_row_chooses_the_class_but_set_current_class_does_not_emit(qtbot, panel):
    with qtbot.assertNotEmitted(panel.class_chosen):
        panel.set_current_class("dog")
    item = panel.item_for("bird")
    position = panel.tree().visualItemRect(item).center()
    with qtbot.waitSignal(panel.class_chosen) as chosen:
        qtbot.mouseClick(panel.tree().viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert chosen.args == ["bird"]


def test_wired_to_the_canvas_a_rename_shows_on_the_boxes(qtbot, panel, project):
    canvas = AnnotationCanvas()
    qtbot.addWidget(canvas)
    panel.classes_changed.connect(canvas.refresh_boxes)  # as the main window wires them
    panel.class_chosen.connect(canvas.set_current_class)
    ann = project.annotations[0]
    canvas.set_image(np.zeros((64, 64, 3), np.uint8), ann, project)
    canvas.paste_boxes([Box("dog", 2, 2, 9, 9)])
    assert canvas.undo_stack().count() == 1
    with qtbot.waitSignal(panel.classes_changed):
        panel.rename("cat", "feline")
    assert [i.tag_text() for i in canvas.box_items()] == ["feline", "dog", "dog"]
    assert canvas.current_class() == "feline"
    assert canvas.undo_stack().count() == 0  # its steps held the replaced records
