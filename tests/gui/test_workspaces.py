"""Workspaces: every panel belongs to one, is listed in View > Panels, and each feature's menu opens its workspace."""
from __future__ import annotations

from PySide6.QtWidgets import QDockWidget

from resyolo_gui.workspaces import WORKSPACES, dock_name


def _menu(window, title: str):
    return next(a.menu() for a in window.menuBar().actions() if a.menu() and a.text().replace("&", "") == title)


def _shown(window) -> set[str]:
    return {d.windowTitle() for d in window.findChildren(QDockWidget) if d.isVisible()}


def test_every_panel_is_in_a_workspace_and_in_the_view_menu(open_window, image_folder):
    window = open_window(image_folder)
    docks = window.findChildren(QDockWidget)
    in_workspaces = {dock_name(t) for w in WORKSPACES for t in w.docks}
    assert {d.objectName() for d in docks} <= in_workspaces  # no panel that no workspace ever shows
    panels = next(a.menu() for a in _menu(window, "View").actions() if a.menu() and "Panels" in a.text())
    assert {a.text() for a in panels.actions()} == {d.windowTitle() for d in docks}
    assert window.workspaces.current == "Label" and _shown(window) == {"Images", "Classes"}


def test_feature_menus_open_their_workspace(open_window, image_folder):
    window = open_window(image_folder)
    train = next(a for a in _menu(window, "Train").actions() if "Train a Model" in a.text())
    train.trigger()
    assert window.workspaces.current == "Train" and {"Train", "Training charts"} <= _shown(window)
    assert not window.canvas.isVisible()
    next(a for a in _menu(window, "Evaluate").actions() if "checkpoint" in a.text()).trigger()
    assert window.workspaces.current == "Evaluate" and _shown(window) == {"Evaluation"}
    window.workspaces.tabs.setCurrentIndex(0)  # the Label tab
    assert window.workspaces.current == "Label" and window.canvas.isVisible() and _shown(window) == {"Images", "Classes"}


def test_a_workspace_keeps_what_the_user_made_of_it(open_window, image_folder):
    window = open_window(image_folder)
    window.findChild(QDockWidget, dock_name("Classes")).close()
    window.show_workspace("Detect")
    assert _shown(window) == {"Images", "Detection"}
    window.show_workspace("Label")
    assert _shown(window) == {"Images"}
    window.workspaces.reset()  # View > Reset Workspace Layout
    assert _shown(window) == {"Images", "Classes"}
