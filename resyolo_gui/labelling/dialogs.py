"""Small dialogs of the labelling window: shortcuts, and what to do when saving fails (File > Problems is
:mod:`resyolo_gui.labelling.problems`)."""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHeaderView, QMessageBox, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)


# The choices of the save-failure question, as returned by :func:`ask_save_failure`.
RETRY, SAVE_ELSEWHERE, DISCARD, CANCEL = "retry", "save_elsewhere", "discard", "cancel"


class ShortcutsDialog(QDialog):
    """Help > Shortcuts: every action that has a key, read from the actions themselves (one place for each fact).

    Each shortcut is listed once: the same action reached twice (the window's children include the canvas's
    actions) or two actions with the same name and keys (a menu and a toolbar copy) make one row."""

    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = set()
        for action in actions:
            keys = [k.toString(QKeySequence.NativeText) for k in action.shortcuts() if not k.isEmpty()]
            if keys:
                rows.add((action.text().replace("&", ""), ", ".join(keys)))
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        for row, (name, keys) in enumerate(sorted(rows)):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(460, 520)


def ask_save_failure(parent: QWidget | None, failures: list[Exception]) -> str:
    """Saving failed (usually on quit): retry, save elsewhere, discard the edits, or cancel. Returns the choice."""
    lines = "\n".join(f"• {f}" for f in failures[:8]) + ("\n…" if len(failures) > 8 else "")
    box = QMessageBox(QMessageBox.Warning, "Could not save labels",
                      f"{len(failures)} file(s) could not be saved:\n\n{lines}\n\n"
                      "Your edits are still in memory.", parent=parent)
    buttons = {
        box.addButton("Retry", QMessageBox.AcceptRole): RETRY,
        box.addButton("Save To Another Folder…", QMessageBox.ActionRole): SAVE_ELSEWHERE,
        box.addButton("Discard Edits", QMessageBox.DestructiveRole): DISCARD,
        box.addButton(QMessageBox.Cancel): CANCEL,
    }
    box.exec()
    return buttons.get(box.clickedButton(), CANCEL)
