"""A small checkpoint chooser for the live view and folder detection: the project's run checkpoints in a combo,
plus Browse... for any checkpoint or exported ``.onnx`` model on disk."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from engine.training.runs import list_runs
from resyolo_gui.model_dialog import ask_model_file


class CheckpointChoice(QWidget):
    checkpoint_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project_folder: Path | None = None
        self.combo = QComboBox(self)
        self.combo.setMinimumContentsLength(28)
        self.combo.setPlaceholderText("Choose a checkpoint…")
        self.combo.currentIndexChanged.connect(lambda _i: self.checkpoint_changed.emit(str(self.checkpoint() or "")))
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self.browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(browse)
        # Asked for a file by Browse...; tests replace it.
        self.ask_model_file = lambda: ask_model_file(self, "Choose a ResYOLO checkpoint", self.project_folder)

    def set_project_folder(self, folder: Path | None) -> None:
        """List the best and last checkpoints of the project's runs (newest run first); keeps a browsed file."""
        self.project_folder = Path(folder) if folder is not None else None
        kept = [(self.combo.itemText(i), self.combo.itemData(i)) for i in range(self.combo.count())
                if not self.combo.itemText(i).startswith("run ")]
        current = self.checkpoint()
        self.combo.blockSignals(True)
        self.combo.clear()
        for run in list_runs(folder) if folder is not None else []:
            for kind, path in (("best", run.best_checkpoint), ("last", run.last_checkpoint)):
                if path is not None:
                    self.combo.addItem(f"run {run.name} — {kind}.pt", str(path))
        for text, data in kept:
            self.combo.addItem(text, data)
        index = self.combo.findData(str(current)) if current else -1
        self.combo.setCurrentIndex(index if index >= 0 else (0 if self.combo.count() else -1))
        self.combo.blockSignals(False)
        self.checkpoint_changed.emit(str(self.checkpoint() or ""))

    def set_checkpoint(self, path: Path | str) -> None:
        path = str(path)
        index = self.combo.findData(path)
        if index < 0:
            self.combo.addItem(Path(path).name, path)
            index = self.combo.count() - 1
            self.combo.setItemData(index, path, Qt.ToolTipRole)
        self.combo.setCurrentIndex(index)

    def checkpoint(self) -> Path | None:
        data = self.combo.currentData()
        return Path(data) if data else None

    def refresh(self) -> None:
        """List the project's runs again (a run finished); the chosen checkpoint stays chosen."""
        self.set_project_folder(self.project_folder)

    def browse(self) -> None:
        path = self.ask_model_file()
        if path:
            self.set_checkpoint(path)
