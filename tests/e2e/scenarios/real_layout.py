"""The window by task on a laptop screen and a big monitor: each workspace (Label, Train, Evaluate, Detect), picked
from its tab with the real mouse or with Alt+N, fits the screen, shows its own panels at a usable size, and keeps
the layout the user made of it, also in the next session."""
from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QDockWidget, QScrollArea

from resyolo_gui.workspaces import WORKSPACE_NAMES, WORKSPACES, dock_name

SCREENS = ["1366x768x24", "1920x1080x24"]


def shown_docks(window) -> set[str]:
    return {d.windowTitle() for d in window.findChildren(QDockWidget) if d.isVisible()}


def pick_tab(real, window, index: int) -> None:
    tabs = window.workspaces.tabs
    real.click(tabs, tabs.tabRect(index).center())
    real.qtbot.waitUntil(lambda: window.workspaces.current == WORKSPACE_NAMES[index], timeout=5000)
    real.settle(300)


def test_every_workspace_fits_the_screen(real, open_app, sample_copy, shots_dir):
    window = open_app(sample_copy, size=None)  # the size the app picks for itself on this screen
    screen = window.screen().availableGeometry()
    size = f"{screen.width()}x{screen.height()}"
    for index, workspace in enumerate(WORKSPACES):
        pick_tab(real, window, index)
        frame, hint = window.frameGeometry(), window.minimumSizeHint()
        assert frame.width() <= screen.width() and frame.height() <= screen.height(), \
            f"{workspace.name}: window {frame.width()}x{frame.height()} on a {size} screen"
        assert hint.width() <= screen.width() and hint.height() <= screen.height(), \
            f"{workspace.name}: the window cannot shrink below {hint.width()}x{hint.height()} on a {size} screen"
        assert shown_docks(window) == set(workspace.docks) - ({"Runs"} if workspace.name == "Train" else set()) \
            or shown_docks(window) == set(workspace.docks), (workspace.name, shown_docks(window))
        assert window.canvas.isVisible() == workspace.with_canvas
        real.screenshot(shots_dir / f"workspace-{workspace.name.lower()}-{size}.png")
    # The Train form gets the height of the window, not four rows of a scroll area.
    pick_tab(real, window, WORKSPACE_NAMES.index("Train"))
    form = window.findChild(QDockWidget, dock_name("Train")).widget().findChild(QScrollArea)
    assert form.viewport().height() >= 0.5 * window.height(), form.viewport().height()
    # The class list gets the height of the window too.
    pick_tab(real, window, WORKSPACE_NAMES.index("Label"))
    classes = window.class_panel.findChild(QScrollArea) or window.class_panel
    assert classes.height() >= 0.5 * window.height(), classes.height()
    # Maximised, the window is the screen, whatever the workspace.
    window.showMaximized()
    for index, workspace in enumerate(WORKSPACES):
        real.key(f"alt+{index + 1}")
        real.qtbot.waitUntil(lambda: window.workspaces.current == workspace.name, timeout=5000)
        real.settle(300)
        inside = window.geometry()  # (openbox draws a maximised window's 1-pixel border just off the screen)
        assert screen.contains(inside), f"{workspace.name} maximised: {inside} on a {size} screen"


def _close_button(dock: QDockWidget) -> QAbstractButton:
    return next(b for b in dock.findChildren(QAbstractButton) if b.objectName() == "qt_dockwidget_closebutton")


def test_each_workspace_keeps_its_layout_into_the_next_session(real, open_app, sample_copy):
    window = open_app(sample_copy, size=None)
    classes = window.findChild(QDockWidget, dock_name("Classes"))
    assert classes.isVisible()
    real.click(_close_button(classes))  # the user closes the Classes panel of the Label workspace
    real.qtbot.waitUntil(lambda: not classes.isVisible(), timeout=5000)
    real.key("alt+2")  # Train: its own panels, untouched by what was done in Label
    real.qtbot.waitUntil(lambda: window.workspaces.current == "Train", timeout=5000)
    assert {"Train", "Training charts"} <= shown_docks(window)
    pick_tab(real, window, WORKSPACE_NAMES.index("Label"))
    assert not classes.isVisible() and "Images" in shown_docks(window)
    pick_tab(real, window, WORKSPACE_NAMES.index("Detect"))
    assert {"Images", "Detection"} <= shown_docks(window)
    real.key("ctrl+q")
    real.qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)

    again = open_app(sample_copy, size=None)  # the next session opens where this one ended
    assert again.workspaces.current == "Detect" and {"Images", "Detection"} <= shown_docks(again)
    pick_tab(real, again, WORKSPACE_NAMES.index("Label"))
    assert "Classes" not in shown_docks(again) and "Images" in shown_docks(again)
    view_panels = next(a.menu() for a in again.view_menu.actions() if a.menu() and "Panels" in a.text())
    entry = next(a for a in view_panels.actions() if a.text().replace("&", "") == "Classes")
    entry.trigger()  # View > Panels > Classes brings it back
    real.qtbot.waitUntil(lambda: "Classes" in shown_docks(again), timeout=5000)
