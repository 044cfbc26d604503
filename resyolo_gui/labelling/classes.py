"""The class editor: the project's classes with colour, key (1-9) and box count; add, rename, recolour,
merge and delete.

Every edit goes through :class:`engine.project.project.Project`, which changes every image in memory and marks
the touched ones dirty; the panel then emits ``classes_changed`` so the window can refresh the canvas.
The questions it asks (a name, a colour, a target class) are small ``ask_*`` methods, replaced in tests.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QColorDialog, QComboBox, QDialog, QDialogButtonBox,
                               QHBoxLayout, QInputDialog, QLabel, QMessageBox, QRadioButton, QToolButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

KEY_COLUMN, NAME_COLUMN, COUNT_COLUMN = 0, 1, 2
NAME_ROLE = Qt.ItemDataRole.UserRole  # the class name an item stands for, while its text is being edited


@dataclass
class DeleteDecision:
    """What to do with a deleted class's boxes: give them to ``reassign_to``, or delete them (None)."""

    reassign_to: str | None


class ClassPanel(QWidget):
    classes_changed = Signal()  # names, colours or boxes changed through the panel
    class_chosen = Signal(str)  # the user picked the class for new boxes

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._project = None
        self._tree = QTreeWidget()
        self._tree.setHeaderLabels(["Key", "Class", "Boxes"])
        self._tree.setRootIsDecorated(False)
        self._tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # only the name, see below
        self._tree.setColumnWidth(KEY_COLUMN, 40)
        self._tree.setColumnWidth(NAME_COLUMN, 150)
        self._tree.itemChanged.connect(self._on_item_changed)
        self._tree.currentItemChanged.connect(self._on_current_changed)
        self._tree.itemDoubleClicked.connect(self._on_double_clicked)
        self._tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.add_action = self._action("&Add class…", self.add_class, "Add a class")
        self.rename_action = self._action("&Rename", self.start_rename, "Rename the class in every image", "F2")
        self.recolor_action = self._action("&Colour…", self.recolor_class, "Change the class colour")
        self.merge_action = self._action("&Merge into…", self.merge_class, "Give its boxes to another class")
        self.delete_action = self._action("&Delete…", self.delete_class, "Delete the class")
        buttons = QHBoxLayout()
        for action in (self.add_action, self.rename_action, self.recolor_action, self.merge_action,
                       self.delete_action):
            self._tree.addAction(action)
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._tree)
        layout.addLayout(buttons)
        self._update_action_states()

    def _action(self, text: str, slot, tip: str, shortcut: str | None = None) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return action

    # ----------------------------------------------------------------- showing
    def set_project(self, project) -> None:
        self._project = project
        self.refresh()

    def tree(self) -> QTreeWidget:
        return self._tree

    def refresh(self) -> None:
        """Show the project's classes, colours and box counts again (after edits anywhere)."""
        current = self.current_class()
        names = self._project.labels.names if self._project is not None else []
        counts = self._project.classes.box_counts() if self._project is not None else {}
        self._tree.blockSignals(True)  # rebuilding is not the user renaming or choosing
        self._tree.clear()
        for index, name in enumerate(names):
            item = QTreeWidgetItem(["" if index >= 9 else str(index + 1), name, str(counts.get(name, 0))])
            item.setData(NAME_COLUMN, NAME_ROLE, name)
            item.setIcon(NAME_COLUMN, _swatch(self._project.classes.color_of(name)))
            item.setTextAlignment(COUNT_COLUMN, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(KEY_COLUMN, "Press this key on the canvas to give the selected boxes this class")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self._tree.addTopLevelItem(item)
            if name == current:
                self._tree.setCurrentItem(item)
        self._tree.blockSignals(False)
        self._update_action_states()

    def class_names(self) -> list[str]:
        return [self._tree.topLevelItem(i).data(NAME_COLUMN, NAME_ROLE) for i in range(self._tree.topLevelItemCount())]

    def item_for(self, name: str) -> QTreeWidgetItem | None:
        for i in range(self._tree.topLevelItemCount()):
            item = self._tree.topLevelItem(i)
            if item.data(NAME_COLUMN, NAME_ROLE) == name:
                return item
        return None

    def current_class(self) -> str | None:
        item = self._tree.currentItem()
        return item.data(NAME_COLUMN, NAME_ROLE) if item is not None else None

    def set_current_class(self, name: str | None) -> None:
        """Highlight ``name`` (chosen elsewhere, e.g. a digit key on the canvas) without emitting."""
        self._tree.blockSignals(True)
        self._tree.setCurrentItem(self.item_for(name) if name else None)
        self._tree.blockSignals(False)
        self._update_action_states()

    # ----------------------------------------------------------------- edits
    def add_class(self) -> None:
        name = (self.ask_new_class_name() or "").strip()
        if not name:
            return
        if name in self._project.labels:
            self.show_error(f"Class {name!r} already exists.")
            return
        self._project.classes.add(name)
        self._after_edit(chosen=name)

    def start_rename(self) -> None:
        """Edit the current class name in place; :meth:`rename` runs when the edit is committed."""
        item = self._tree.currentItem()
        if item is not None:
            self._tree.editItem(item, NAME_COLUMN)

    def rename(self, old: str, new: str) -> bool:
        """Rename ``old`` in the class list and in every image. Returns whether it happened."""
        new = new.strip()
        if new == old:
            return False
        try:
            self._project.classes.rename(old, new)
        except (ValueError, KeyError) as exc:
            self.show_error(f"Cannot rename {old!r} to {new!r}: {exc}")
            self.refresh()  # put the old name back in the list
            return False
        self._after_edit(chosen=new)
        return True

    def recolor_class(self) -> None:
        name = self.current_class()
        if name is None:
            return
        color = self.ask_color(name, QColor(self._project.classes.color_of(name)))
        if color is not None and color.isValid():
            self._project.classes.recolor(name, color.name())
            self._after_edit(chosen=name)

    def merge_class(self) -> None:
        source = self.current_class()
        if source is None:
            return
        targets = [n for n in self._project.labels.names if n != source]
        if not targets:
            self.show_error(f"There is no other class to merge {source!r} into.")
            return
        target = self.ask_merge_target(source, targets)
        if target:
            self._project.classes.merge(source, target)
            self._after_edit(chosen=target)

    def delete_class(self) -> None:
        name = self.current_class()
        if name is None:
            return
        count = self._project.classes.box_counts().get(name, 0)
        others = [n for n in self._project.labels.names if n != name]
        decision = self.ask_delete(name, count, others)
        if decision is None:
            return
        self._project.classes.delete(name, decision.reassign_to)
        self._after_edit(chosen=decision.reassign_to or (others[0] if others else None))

    def _after_edit(self, chosen: str | None) -> None:
        self.refresh()
        self.classes_changed.emit()
        if chosen is not None and chosen != self.current_class():
            self._tree.setCurrentItem(self.item_for(chosen))  # emits class_chosen
        elif chosen is not None:
            self.class_chosen.emit(chosen)  # a renamed current class: the canvas must learn the new name

    # ----------------------------------------------------------------- questions (replaced in tests)
    def ask_new_class_name(self) -> str | None:
        name, ok = QInputDialog.getText(self, "Add class", "Class name:")
        return name if ok else None

    def ask_color(self, name: str, current: QColor) -> QColor | None:
        color = QColorDialog.getColor(current, self, f"Colour of {name}")
        return color if color.isValid() else None

    def ask_merge_target(self, source: str, targets: list[str]) -> str | None:
        count = self._project.classes.box_counts().get(source, 0)
        target, ok = QInputDialog.getItem(
            self, "Merge class", f"Give the {count} box(es) of {source!r} to class:", targets, 0, False)
        return target if ok else None

    def ask_delete(self, name: str, box_count: int, others: list[str]) -> DeleteDecision | None:
        if box_count == 0:
            answer = QMessageBox.question(self, "Delete class", f"Delete class {name!r}? No box uses it.")
            return DeleteDecision(None) if answer == QMessageBox.StandardButton.Yes else None
        dialog = DeleteClassDialog(name, box_count, others, self)
        return dialog.decision() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def show_error(self, message: str) -> None:
        QMessageBox.warning(self, "Classes", message)

    # ----------------------------------------------------------------- events
    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column == NAME_COLUMN:
            old, new = item.data(NAME_COLUMN, NAME_ROLE), item.text(NAME_COLUMN)
            # Later: renaming rebuilds the list, which must not happen inside the editor's own signal.
            QTimer.singleShot(0, lambda: self.rename(old, new))

    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        self._update_action_states()
        if current is not None:
            self.class_chosen.emit(current.data(NAME_COLUMN, NAME_ROLE))

    def _on_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == NAME_COLUMN:
            self._tree.editItem(item, NAME_COLUMN)
        else:
            self.recolor_class()

    def _update_action_states(self) -> None:
        has_project, has_current = self._project is not None, self._tree.currentItem() is not None
        self.add_action.setEnabled(has_project)
        for action in (self.rename_action, self.recolor_action, self.merge_action, self.delete_action):
            action.setEnabled(has_project and has_current)


class DeleteClassDialog(QDialog):
    """Asks what becomes of a deleted class's boxes: moved to another class (the default) or deleted."""

    def __init__(self, name: str, box_count: int, others: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Delete class")
        self.move_choice = QRadioButton("Give them to class:")
        self.delete_choice = QRadioButton(f"Delete the {box_count} box(es)")
        self.target = QComboBox()
        self.target.addItems(others)
        choices = QButtonGroup(self)
        choices.addButton(self.move_choice)
        choices.addButton(self.delete_choice)
        (self.move_choice if others else self.delete_choice).setChecked(True)
        self.move_choice.setEnabled(bool(others))
        self.target.setEnabled(bool(others))
        self.move_choice.toggled.connect(self.target.setEnabled)
        move_row = QHBoxLayout()
        move_row.addWidget(self.move_choice)
        move_row.addWidget(self.target, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Class {name!r} is used by {box_count} box(es) in this folder. What becomes of them?"))
        layout.addLayout(move_row)
        layout.addWidget(self.delete_choice)
        layout.addWidget(buttons)

    def decision(self) -> DeleteDecision:
        return DeleteDecision(self.target.currentText() if self.move_choice.isChecked() else None)


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)
