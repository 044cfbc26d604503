"""The class editor driven with real X input: add, rename (Return, Tab, click-away), recolour, merge, delete.
Every dialog is shown for real and answered by typing. Renaming crashed the app (Qt segfault) until the browser
stopped emitting a bare ``layoutChanged``."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QToolButton

from engine.annotations.voc import read_voc_xml
from engine.project import Project


def class_names(window) -> list[str]:
    return list(window.project.labels.names)


def select_class(real, window, name: str) -> None:
    tree = window.class_panel.tree()
    item = window.class_panel.item_for(name)
    real.click(tree.viewport(), tree.visualItemRect(item).center())
    assert window.class_panel.current_class() == name


def button_for(panel, action) -> QToolButton:
    return next(b for b in panel.findChildren(QToolButton) if b.defaultAction() is action)


def boxes_on_disk(folder, label: str) -> int:
    return sum(sum(b.label == label for b in read_voc_xml(xml).boxes) for xml in folder.glob("*.xml"))


@pytest.mark.parametrize("commit", ["Return", "Tab", "click-away"])
def test_rename_class_in_place(real, open_app, sample_copy, shots_dir, commit):
    window = open_app(sample_copy)
    circles = window.project.box_counts()["circle"]
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
    assert window.project.box_counts()["disc"] == circles
    real.key("ctrl+s")
    real.qtbot.waitUntil(lambda: not window.project.has_unsaved_changes(), timeout=5000)
    assert Project.open(sample_copy).labels.names == ["disc", "square", "triangle", "cross"]
    assert boxes_on_disk(sample_copy, "disc") == circles and boxes_on_disk(sample_copy, "circle") == 0
