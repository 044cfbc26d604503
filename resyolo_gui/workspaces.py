"""Workspaces: the window's panels arranged by task (Label, Train, Evaluate, Detect), switched from a tab bar.

Each workspace names the panels (docks, by object name) it shows and whether the image canvas is in it. The first
visit to a workspace lays its panels out by its default; after that, whatever the user made of it (panels moved,
closed, resized, or shown from View > Panels) is kept per workspace, in memory while the window lives and in the
app settings across sessions. Features never know about workspaces beyond asking the window to show one.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QToolBar

LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
# Default widths of the side columns (the canvas, or the last column, gets the rest).
BROWSER_WIDTH, PANEL_WIDTH, FORM_WIDTH = 270, 240, 440


@dataclass(frozen=True)
class Workspace:
    name: str
    with_canvas: bool
    left: tuple[str, ...] = ()  # dock titles, tabbed in that order, the first one raised
    right: tuple[str, ...] = ()
    left_width: int = BROWSER_WIDTH
    right_width: int = PANEL_WIDTH
    tip: str = ""

    @property
    def docks(self) -> tuple[str, ...]:
        return self.left + self.right


WORKSPACES = (
    Workspace("Label", True, left=("Images",), right=("Classes",), tip="Label images: browser, image and classes"),
    Workspace("Train", False, left=("Train", "Runs"), right=("Training charts",), left_width=FORM_WIDTH,
              tip="Train a model: its settings beside the live charts"),
    Workspace("Evaluate", False, right=("Evaluation",), tip="Evaluate a checkpoint: AP, confusion matrix, images"),
    Workspace("Detect", True, left=("Images",), right=("Detection",), right_width=300,
              tip="Detect with a model: proposals to accept, auto-labelling"),
)
WORKSPACE_NAMES = tuple(w.name for w in WORKSPACES)


def dock_name(title: str) -> str:
    """The object name every dock of the window is given (saved window states find docks by it)."""
    return f"dock_{title}"


def add_dock(window: QMainWindow, title: str, widget, area=RIGHT, hidden: bool = False) -> QDockWidget:
    """A panel of the window: a dock named by :func:`dock_name`, which the workspaces show and arrange."""
    dock = QDockWidget(title, window)
    dock.setObjectName(dock_name(title))
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    if hidden:
        dock.hide()
    return dock


class Workspaces(QObject):
    """The window's workspace switcher: its tab bar, its View menu entries, and each workspace's saved layout."""

    switched = Signal(str)

    def __init__(self, window: QMainWindow, settings):
        super().__init__(window)
        self.window, self.settings = window, settings
        self.current: str | None = None
        self._states: dict[str, QByteArray] = {name: state for name in WORKSPACE_NAMES
                                               if (state := settings.workspace_state(name)) is not None}
        self.tabs = QTabBar(window)
        self.tabs.setObjectName("workspace_tabs")
        self.tabs.setDrawBase(False)
        self.tabs.setExpanding(False)
        self.toolbar = QToolBar("Workspaces", window)
        self.toolbar.setObjectName("toolbar_workspaces")
        self.toolbar.setMovable(False)
        self.toolbar.toggleViewAction().setVisible(False)  # the workspace bar is always there
        self.toolbar.addWidget(self.tabs)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.actions = QActionGroup(self)
        for number, workspace in enumerate(WORKSPACES, start=1):
            self.tabs.addTab(workspace.name)
            self.tabs.setTabToolTip(number - 1, f"{workspace.tip} (Alt+{number})")
            action = QAction(f"&{number} {workspace.name}", window, checkable=True)
            action.setShortcut(QKeySequence(f"Alt+{number}"))
            action.setStatusTip(workspace.tip)
            action.triggered.connect(lambda _checked=False, n=workspace.name: self.switch(n))
            self.actions.addAction(action)
            window.addAction(action)  # its shortcut works whatever has focus
        self.tabs.currentChanged.connect(lambda index: self.switch(WORKSPACE_NAMES[index]))

    # ----------------------------------------------------------------- the View menu
    def fill_view_menu(self, menu) -> None:
        """Add the workspaces and every panel of the window (each dock's show/hide action) to ``menu``."""
        menu.addSeparator()
        workspaces = menu.addMenu("&Workspace")
        workspaces.addActions(self.actions.actions())
        panels = menu.addMenu("&Panels")
        for dock in sorted(self.window.findChildren(QDockWidget), key=lambda d: d.windowTitle()):
            panels.addAction(dock.toggleViewAction())
        menu.addAction("&Reset Workspace Layout", self.reset)

    # ----------------------------------------------------------------- switching
    def switch(self, name: str) -> None:
        if name == self.current:
            return
        workspace = WORKSPACES[WORKSPACE_NAMES.index(name)]
        if self.current is not None:
            self._states[self.current] = self.window.saveState()
        self.current = name
        self.window.centralWidget().setVisible(workspace.with_canvas)
        saved = self._states.get(name)
        if saved is None or not self.window.restoreState(saved):
            self._lay_out(workspace)
        index = WORKSPACE_NAMES.index(name)
        self.actions.actions()[index].setChecked(True)
        if self.tabs.currentIndex() != index:
            self.tabs.blockSignals(True)
            self.tabs.setCurrentIndex(index)
            self.tabs.blockSignals(False)
        self.switched.emit(name)

    def reset(self) -> None:
        """View > Reset Workspace Layout: the current workspace laid out by its default again."""
        if self.current is not None:
            self._states.pop(self.current, None)
            self._lay_out(WORKSPACES[WORKSPACE_NAMES.index(self.current)])

    def save(self) -> None:
        """Remember every workspace's layout (the current one as it is now) and which one is open."""
        if self.current is not None:
            self._states[self.current] = self.window.saveState()
            self.settings.set_current_workspace(self.current)
        for name, state in self._states.items():
            self.settings.save_workspace_state(name, state)

    def _lay_out(self, workspace: Workspace) -> None:
        docks = {dock.objectName(): dock for dock in self.window.findChildren(QDockWidget)}
        for dock in docks.values():
            if dock.objectName() not in {dock_name(t) for t in workspace.docks}:
                dock.hide()
        placed = []
        for area, titles, width in ((LEFT, workspace.left, workspace.left_width),
                                    (RIGHT, workspace.right, workspace.right_width)):
            column = [docks[dock_name(t)] for t in titles if dock_name(t) in docks]
            for position, dock in enumerate(column):
                dock.setFloating(False)
                self.window.addDockWidget(area, dock)  # moves it there, out of any tab group
                if position:
                    self.window.tabifyDockWidget(column[0], dock)
                dock.show()
            if column:
                column[0].raise_()
                placed.append((column[0], width))
        if not workspace.with_canvas and len(placed) == 2:
            # No canvas: the second column takes what the first leaves.
            placed[1] = (placed[1][0], max(200, self.window.width() - placed[0][1]))
        if placed:
            self.window.resizeDocks([d for d, _ in placed], [w for _, w in placed], Qt.Orientation.Horizontal)
