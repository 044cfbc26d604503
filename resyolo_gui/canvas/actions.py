"""The canvas's QActions, with their shortcuts, for the main window's menus and toolbar.

Most work anywhere in the window, as in labelImg (W after clicking in the file list still draws);
text fields keep their own typing, since a line edit claims printable keys before shortcuts. Delete and
Backspace only act while the canvas has focus: in a file list they must not delete a box unseen.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

LOCAL = Qt.ShortcutContext.WidgetWithChildrenShortcut
WINDOW = Qt.ShortcutContext.WindowShortcut


@dataclass
class CanvasActions:
    draw: QAction  # checkable: draw mode
    delete: QAction
    duplicate: QAction
    difficult: QAction  # checkable: the selection is "difficult"
    hide_boxes: QAction  # checkable
    zoom_in: QAction
    zoom_out: QAction
    fit: QAction
    actual_size: QAction
    undo: QAction
    redo: QAction
    set_class: list[QAction]  # keys 1-9

    def all(self) -> list[QAction]:
        return [self.draw, self.delete, self.duplicate, self.difficult, self.hide_boxes, self.zoom_in,
                self.zoom_out, self.fit, self.actual_size, self.undo, self.redo, *self.set_class]


def _action(canvas, text: str, shortcuts: list, context: Qt.ShortcutContext, slot=None,
            checkable: bool = False, tip: str = "") -> QAction:
    action = QAction(text, canvas)
    action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setShortcutContext(context)
    action.setCheckable(checkable)
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    if slot is not None:
        (action.toggled if checkable else action.triggered).connect(slot)
    return action


def build_canvas_actions(canvas) -> CanvasActions:
    difficult = _action(canvas, "&Difficult", ["Shift+D"], WINDOW, checkable=True,
                        tip="Mark the selected boxes difficult: kept in the labels, left out of training")
    # triggered, not toggled: updating the check mark to follow the selection must not edit boxes.
    difficult.triggered.connect(canvas.set_difficult_of_selection)
    undo = canvas.undo_group().createUndoAction(canvas, "&Undo")
    undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
    redo = canvas.undo_group().createRedoAction(canvas, "&Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    set_class = []
    for index in range(9):
        action = _action(canvas, f"Class {index + 1}", [str(index + 1)], WINDOW,
                         tip=f"Give the selected boxes (and new ones) class {index + 1}")
        action.triggered.connect(lambda _checked=False, i=index: canvas.set_class_by_index(i))
        set_class.append(action)
    return CanvasActions(
        draw=_action(canvas, "Draw &boxes", ["W"], WINDOW, canvas.set_draw_mode, checkable=True,
                     tip="Draw mode: drag on the image to draw a box (Esc leaves it)"),
        delete=_action(canvas, "&Delete box", [QKeySequence.StandardKey.Delete, "Backspace"], LOCAL,
                       canvas.delete_selection),
        duplicate=_action(canvas, "D&uplicate box", ["Ctrl+D"], WINDOW, canvas.duplicate_selection),
        difficult=difficult,
        hide_boxes=_action(canvas, "&Hide boxes", ["Ctrl+H"], WINDOW, canvas.set_boxes_hidden, checkable=True),
        zoom_in=_action(canvas, "Zoom &in", [QKeySequence.StandardKey.ZoomIn, "Ctrl+="], WINDOW, canvas.zoom_in),
        zoom_out=_action(canvas, "Zoom &out", [QKeySequence.StandardKey.ZoomOut], WINDOW, canvas.zoom_out),
        fit=_action(canvas, "&Fit to window", ["Ctrl+0"], WINDOW, canvas.fit_to_window),
        actual_size=_action(canvas, "&Actual size (1:1)", ["Ctrl+1"], WINDOW, canvas.actual_size),
        undo=undo,
        redo=redo,
        set_class=set_class,
    )
