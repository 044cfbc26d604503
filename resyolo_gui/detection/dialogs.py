"""The two questions the detection feature asks: what to do with classes the project lacks, and which
images to auto-label."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDialog, QDialogButtonBox, QLabel, QMessageBox, QRadioButton,
                               QVBoxLayout, QWidget)


def ask_missing_classes(parent: QWidget, missing: list[str]) -> str | None:
    """"add" (add the classes to the project), "drop" (ignore their detections) or None (cancel the choice)."""
    box = QMessageBox(parent)
    box.setWindowTitle("Classes the project lacks")
    box.setText(f"The model detects {len(missing)} class(es) this project does not have:\n{', '.join(missing)}")
    box.setInformativeText("Add them to the project's classes, or drop their detections?")
    add = box.addButton("Add classes", QMessageBox.ButtonRole.AcceptRole)
    drop = box.addButton("Drop their detections", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return "add" if box.clickedButton() is add else "drop" if box.clickedButton() is drop else None


@dataclass
class AutoLabelOptions:
    only_unlabelled: bool = True
    replace_existing: bool = False  # only meaningful with every image: accepting all replaces that image's labels


class AutoLabelDialog(QDialog):
    def __init__(self, parent: QWidget, unlabelled: int, total: int):
        super().__init__(parent)
        self.setWindowTitle("Auto-label folder")
        self.only_unlabelled = QRadioButton(f"Only unlabelled images ({unlabelled:,})", self)
        self.every_image = QRadioButton(f"All images ({total:,})", self)
        self.only_unlabelled.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.only_unlabelled)
        group.addButton(self.every_image)
        self.replace = QCheckBox("Replace existing labels when I accept all proposals of an image", self)
        self.replace.setEnabled(False)
        self.every_image.toggled.connect(self.replace.setEnabled)
        note = QLabel("The detections arrive as proposals to review; no label file is written until you accept "
                      "them and save.", self)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.only_unlabelled, self.every_image, self.replace, note, buttons):
            layout.addWidget(widget)

    def options(self) -> AutoLabelOptions:
        every = self.every_image.isChecked()
        return AutoLabelOptions(only_unlabelled=not every, replace_existing=every and self.replace.isChecked())


def ask_auto_label_options(parent: QWidget, unlabelled: int, total: int) -> AutoLabelOptions | None:
    dialog = AutoLabelDialog(parent, unlabelled, total)
    return dialog.options() if dialog.exec() == QDialog.DialogCode.Accepted else None
