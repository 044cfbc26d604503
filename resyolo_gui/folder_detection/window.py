"""Live > Detect on a folder: any folder of images (not only the project's), a results browser, and exports.

The browser lists each image with its detection count; choosing one shows it with boxes and scores drawn
(:func:`engine.inference.draw.draw_detections`). Detection and exports run in :class:`DetectFolderThread`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSizePolicy, QSplitter,
                               QVBoxLayout, QWidget)

from engine.inference.draw import draw_detections
from engine.io.images import ImageReadError, read_image
from resyolo_gui.checkpoint_choice import CheckpointChoice
from resyolo_gui.folder_detection.worker import EXPORT_FORMATS, DetectFolderSummary, DetectFolderThread, \
    FolderImageResult
from resyolo_gui.screen_fit import fit_to_screen


class DetectFolderWindow(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.Window)
        self.setWindowTitle("Detect on a folder — ResYOLO")
        self.thread: DetectFolderThread | None = None
        self.summary: DetectFolderSummary | None = None
        self._class_names: list[str] = []
        self._build()
        fit_to_screen(self, 1000, 700)

    def _build(self) -> None:
        self.checkpoint = CheckpointChoice(self)
        self.folder_edit, self.output_edit = QLineEdit(self), QLineEdit(self)
        self.folder_edit.setPlaceholderText("Folder of images to run the detector on")
        self.output_edit.setPlaceholderText("Where the results folder is created (default: beside the images folder)")
        self.confidence = QDoubleSpinBox(self)
        self.confidence.setRange(0.01, 0.99)
        self.confidence.setSingleStep(0.05)
        self.confidence.setValue(0.25)
        self.format_boxes = {key: QCheckBox(text, self) for key, text in EXPORT_FORMATS.items()}
        for key in ("images", "coco"):
            self.format_boxes[key].setChecked(True)
        formats = QHBoxLayout()
        for box in self.format_boxes.values():
            formats.addWidget(box)
        formats.addStretch(1)
        form = QFormLayout()
        form.addRow("Model:", self.checkpoint)
        form.addRow("Images:", _with_browse(self.folder_edit, "Choose the folder of images", self))
        form.addRow("Save to:", _with_browse(self.output_edit, "Choose where to save the results", self))
        form.addRow("Confidence:", self.confidence)
        form.addRow("Export:", formats)
        self.run_button = QPushButton("Detect", self)
        self.run_button.clicked.connect(lambda: self.cancel() if self.is_running() else self.start())
        self.progress = QProgressBar(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.results = QListWidget(self)
        self.results.currentRowChanged.connect(self._show_result)
        self.preview = QLabel("Results appear here as the images are processed.", self)
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        splitter = QSplitter(self)
        splitter.addWidget(self.results)
        splitter.addWidget(self.preview)
        splitter.setSizes([280, 720])
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(run_row)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

    def set_project(self, project) -> None:
        self.checkpoint.set_project_folder(project.folder if project is not None else None)

    def chosen_formats(self) -> set[str]:
        return {key for key, box in self.format_boxes.items() if box.isChecked()}

    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    # ----------------------------------------------------------------- running
    def start(self) -> bool:
        checkpoint, folder = self.checkpoint.checkpoint(), Path(self.folder_edit.text().strip()).expanduser()
        if checkpoint is None:
            return self._say("Choose a checkpoint first.")
        if not self.folder_edit.text().strip() or not folder.is_dir():
            return self._say(f"{folder}: no such folder" if self.folder_edit.text().strip() else "Choose a folder of images.")
        output = Path(self.output_edit.text().strip()).expanduser() if self.output_edit.text().strip() else folder.parent
        self.results.clear()
        self.summary = None
        self.thread = DetectFolderThread(checkpoint, folder, output, self.chosen_formats(), self.confidence.value(),
                                         parent=self)
        self.thread.progress.connect(self._on_progress)
        self.thread.image_done.connect(self._add_result)
        self.thread.succeeded.connect(self._on_done)
        self.thread.failed.connect(self._on_failed)
        self.thread.finished.connect(lambda: self.run_button.setText("Detect"))
        self.thread.start()
        self.run_button.setText("Cancel")
        self.status.setText(f"Loading {checkpoint.name}…")
        return True

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"{done} of {total} image(s)")

    def _add_result(self, result: FolderImageResult) -> None:
        if not self._class_names and self.thread is not None and self.thread.detector is not None:
            self._class_names = self.thread.detector.class_names
        if result.detections is None:
            text = f"{result.path.name} — unreadable"
        else:
            count = len(result.detections.scores)
            text = f"{result.path.name} — {count} detection{'s' if count != 1 else ''}"
        item = QListWidgetItem(text)
        item.setData(Qt.UserRole, result)
        item.setToolTip(result.error or str(result.path))
        self.results.addItem(item)
        if self.results.count() == 1:
            self.results.setCurrentRow(0)

    def _on_done(self, summary: DetectFolderSummary) -> None:
        self.summary = summary
        found = sum(len(r.detections.scores) for r in self.thread.results if r.detections is not None)
        head = (f"Cancelled after {summary.processed} of {summary.total} images" if summary.cancelled
                else f"Done: {summary.processed} image(s)")
        text = f"{head}, {found} detection(s)."
        if summary.unreadable:
            text += f" {len(summary.unreadable)} unreadable (hover them in the list)."
        if summary.written:
            text += f" Saved to {summary.output_dir}: " + ", ".join(p.name for p in summary.written.values())
        self.status.setText(text)

    def _on_failed(self, message: str) -> None:
        self._say(message)

    def _show_result(self, row: int) -> None:
        item = self.results.item(row) if row >= 0 else None
        if item is None:
            return
        result: FolderImageResult = item.data(Qt.UserRole)
        if result.detections is None:
            self.preview.setText(result.error)
            return
        try:
            image = draw_detections(read_image(result.path), result.detections, self._class_names)
        except ImageReadError as exc:  # changed or removed since it was processed
            self.preview.setText(str(exc))
            return
        self._set_preview(image)

    def _set_preview(self, rgb: np.ndarray) -> None:
        qimage = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format_RGB888)
        pixmap = QPixmap.fromImage(qimage)  # converts (copies) while rgb is alive
        self.preview.setPixmap(pixmap.scaled(self.preview.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def _say(self, message: str) -> bool:
        self.status.setText(message)
        return False

    def closeEvent(self, event) -> None:
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait()
        super().closeEvent(event)


def _with_browse(edit: QLineEdit, caption: str, parent: QWidget) -> QWidget:
    row = QWidget(parent)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    button = QPushButton("Browse…", row)
    button.clicked.connect(lambda: edit.setText(QFileDialog.getExistingDirectory(parent, caption) or edit.text()))
    layout.addWidget(button)
    return row
