"""The class editor driven with real X input: add, rename (Return, Tab, click-away), recolour, merge, delete.
Every dialog is shown for real and answered by typing. Renaming crashed the app (Qt segfault) until the browser
stopped emitting a bare ``layoutChanged``."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QToolButton

from engine.annotations.voc import read_voc_xml
from engine.project.project import Project


def class_names(window) -> list[str]:
    return list(window.project.labels.names)


def select_class(real, window, name: str) -> None:
    tree = window.class_panel.tree()
    item = window.class_panel.item_for(name)
    real.click(tree.viewport(), tree.visualItemRect(item).center())
    assert window.class_panel.current_class() == name


def button_for(panel, action) -> QToolButton:
    return next(b for b in panel.findChildren(QToolButton) if b.defaultAction() is action)


def screen_colours_near(canvas, x: float, y: float, radius: int = 2) -> set[str]:
    """Colours on screen within ``radius`` pixels of image point (x, y): what a person sees there."""
    frame = canvas.viewport().grab().toImage()
    centre = canvas.mapFromScene(QPointF(x, y))
    return {frame.pixelColor(centre.x() + dx, centre.y() + dy).name()
            for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1)}


def boxes_on_disk(folder, label: str) -> int:
    return sum(sum(b.label == label for b in read_voc_xml(xml).boxes) for xml in folder.glob("*.xml"))


@pytest.mark.parametrize("commit", ["Return", "Tab", "click-away"])
def test_rename_class_in_place(real, open_app, sample_copy, shots_dir, commit):
    window = open_app(sample_copy)
    circles = window.project.classes.box_counts()["circle"]
    select_class(real, window, "circle")
    real.click(button_for(window.class_panel, window.class_panel.rename_action))
    real.key("ctrl+a")
    real.type("disc")
    if commit == "click-away":
        real.click(window.canvas.viewport())
    else:
        real.key(commit)
    real.qtbot.waitUntil(lambda: "disc" in class_names(window), timeout=5000)
    real.screenshot(shots_dir / f"rename-{commit}.png")
    assert class_names(window) == ["disc", "square", "triangle", "cross"]
    assert window.project.classes.box_counts()["disc"] == circles
    real.key("ctrl+s")
    real.qtbot.waitUntil(lambda: not window.project.has_unsaved_changes(), timeout=5000)
    assert Project.open(sample_copy, read_only=True).labels.names == ["disc", "square", "triangle", "cross"]
    assert boxes_on_disk(sample_copy, "disc") == circles and boxes_on_disk(sample_copy, "circle") == 0


def test_add_class_from_its_dialog(real, open_app, sample_copy, shots_dir):
    window = open_app(sample_copy)
    real.answer_dialog("Add class", ("type", "hexagon"), ("key", "Return"))
    real.click(button_for(window.class_panel, window.class_panel.add_action))
    real.finish_background()
    real.qtbot.waitUntil(lambda: "hexagon" in class_names(window), timeout=5000)
    assert class_names(window) == ["circle", "square", "triangle", "cross", "hexagon"]
    assert window.class_panel.current_class() == "hexagon"
    real.screenshot(shots_dir / "add-class.png")
    real.key("ctrl+s")
    real.qtbot.waitUntil(lambda: not window.project.has_unsaved_changes(), timeout=5000)
    assert Project.open(sample_copy, read_only=True).labels.names[-1] == "hexagon"


def test_recolour_class_from_the_colour_dialog(real, open_app, sample_copy, shots_dir):
    window = open_app(sample_copy)
    select_class(real, window, "square")
    # Qt's own colour dialog: Alt+H goes to its "HTML" field.
    real.answer_dialog("Colour of square", ("key", "alt+h"), ("key", "ctrl+a"), ("type", "#00a0ff"),
                       ("key", "Return"))
    real.click(button_for(window.class_panel, window.class_panel.recolor_action))
    real.finish_background()
    real.qtbot.waitUntil(lambda: window.project.classes.color_of("square") == "#00a0ff", timeout=5000)
    box = next(i.box for i in window.canvas.box_items() if i.box.label == "square")
    assert screen_colours_near(window.canvas, box.x1, (box.y1 + box.y2) / 2) & {"#00a0ff"}, \
        "the square's outline is not drawn in its new colour"
    real.screenshot(shots_dir / "recolour.png")


def test_merge_class_into_another(real, open_app, sample_copy):
    window = open_app(sample_copy)
    counts = window.project.classes.box_counts()
    select_class(real, window, "cross")
    # The choice list offers circle, square, triangle: Down twice picks triangle.
    real.answer_dialog("Merge class", ("key", "Down"), ("key", "Down"), ("key", "Return"))
    real.click(button_for(window.class_panel, window.class_panel.merge_action))
    real.finish_background()
    real.qtbot.waitUntil(lambda: "cross" not in class_names(window), timeout=5000)
    assert window.project.classes.box_counts()["triangle"] == counts["triangle"] + counts["cross"]
    real.key("ctrl+s")
    real.qtbot.waitUntil(lambda: not window.project.has_unsaved_changes(), timeout=5000)
    assert boxes_on_disk(sample_copy, "triangle") == counts["triangle"] + counts["cross"]
    assert boxes_on_disk(sample_copy, "cross") == 0


def test_delete_class_giving_its_boxes_to_another(real, open_app, sample_copy):
    window = open_app(sample_copy)
    counts = window.project.classes.box_counts()
    select_class(real, window, "circle")
    real.answer_dialog("Delete class", ("key", "Return"))  # the default: give them to the first other class
    real.click(button_for(window.class_panel, window.class_panel.delete_action))
    real.finish_background()
    real.qtbot.waitUntil(lambda: "circle" not in class_names(window), timeout=5000)
    assert window.project.classes.box_counts()["square"] == counts["square"] + counts["circle"]
    assert window.canvas.box_items() and all(i.box.label != "circle" for i in window.canvas.box_items())
