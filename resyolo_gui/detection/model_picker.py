"""Choosing the detector: a checkpoint of one of the project's runs, or any checkpoint or exported ONNX file.

Shows what the user needs to judge the choice before running it: the classes, the input size and backbone,
the epoch and the validation figures (the checkpoint's own metrics, else the best mAP50 in its run's results).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.model.checkpoint import CheckpointError, load_checkpoint
from engine.training.runs import list_runs
from resyolo_gui.model_dialog import ask_model_file

METRIC_NAMES = {"map50": "mAP50", "map": "mAP50-95", "ema_map50": "EMA mAP50", "ema_map": "EMA mAP50-95",
                "voc07_map": "VOC07 mAP"}


@dataclass
class CheckpointInfo:
    path: Path
    class_names: list[str]
    image_size: int
    backbone: str
    epoch: int | None  # None: an exported ONNX model, which does not record it
    metrics: dict = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path | str) -> "CheckpointInfo":
        """Raises CheckpointError (naming the file and the problem) for anything that is not a usable checkpoint."""
        if Path(path).suffix.lower() == ".onnx":
            from engine.inference.onnx_detector import OnnxModel  # onnxruntime is only loaded for an ONNX file

            model = OnnxModel(path, "cpu")
            return cls(Path(path), list(model.class_names), model.config.image_size, model.config.backbone, None)
        state = load_checkpoint(path)
        config = state["model_config"]
        metrics = {k: float(v) for k, v in (state.get("metrics") or {}).items() if isinstance(v, (int, float))}
        return cls(Path(path), list(state["class_names"]), config.image_size, config.backbone,
                   int(state.get("epoch", 0)), metrics)

    def summary(self, run_best_map50: float | None = None) -> str:
        figures = [f"{METRIC_NAMES.get(k, k)} {v:.3f}" for k, v in self.metrics.items() if k in METRIC_NAMES]
        if not figures and run_best_map50 is not None:
            figures = [f"best mAP50 of its run {run_best_map50:.3f}"]
        return "\n".join([
            f"{self.path.name}: {self.backbone}, input {self.image_size} x {self.image_size}, "
            + (f"epoch {self.epoch}" if self.epoch is not None else "exported ONNX model"),
            f"{len(self.class_names)} classes: {', '.join(self.class_names)}",
            "validation: " + (", ".join(figures) if figures else "no figures recorded"),
        ])


class ModelPicker(QWidget):
    """A list of the project's run checkpoints plus "Browse..." for any file. ``model_chosen(path)`` is emitted
    when a readable checkpoint is chosen; an unreadable one is reported in the widget and not chosen."""

    model_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._current: CheckpointInfo | None = None
        self._project_folder: Path | None = None
        self._run_best: dict[Path, float | None] = {}
        self.combo = QComboBox(self)
        self.combo.setToolTip("Checkpoints of this project's training runs")
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.setToolTip("Choose any ResYOLO checkpoint (.pt) or exported model (.onnx)")
        self.info_label = QLabel("No model chosen.", self)
        self.info_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.browse_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.info_label)
        self.combo.activated.connect(self._on_combo_activated)
        self.browse_button.clicked.connect(self.browse)
        # Asked for a file by "Browse..."; tests replace it.
        self.ask_checkpoint_file = self._ask_checkpoint_file_dialog
        self._fill([])

    # ----------------------------------------------------------------- public
    def current_checkpoint(self) -> Path | None:
        return self._current.path if self._current is not None else None

    def current_info(self) -> CheckpointInfo | None:
        return self._current

    def refresh(self) -> None:
        """List the project's runs again (a run finished, or was deleted); the chosen model stays."""
        self.set_project_folder(self._project_folder)

    def set_project_folder(self, folder: Path | str | None) -> None:
        """List the checkpoints of ``folder``'s runs (newest run first, best.pt before last.pt)."""
        self._project_folder = Path(folder) if folder is not None else None
        entries = []
        self._run_best.clear()
        for run in list_runs(folder) if folder is not None else []:
            for checkpoint in (run.best_checkpoint, run.last_checkpoint):
                if checkpoint is not None:
                    entries.append((f"{run.name} / {checkpoint.name}", checkpoint))
                    self._run_best[checkpoint] = run.best_map50()
        self._fill(entries)

    def choose(self, path: Path | str) -> bool:
        """Make ``path`` the model: read it, show its details and emit ``model_chosen``. False if unreadable."""
        path = Path(path)
        try:
            info = CheckpointInfo.read(path)
        except CheckpointError as exc:
            self.info_label.setText(f"Cannot use this model: {exc}")
            self.info_label.setStyleSheet("color: #d04040")
            return False
        self._current = info
        self.info_label.setStyleSheet("")
        self.info_label.setText(info.summary(self._run_best.get(path)))
        index = self.combo.findData(str(path))
        if index < 0:
            self.combo.addItem(path.name, str(path))
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)
        self.model_chosen.emit(str(path))
        return True

    def browse(self) -> bool:
        path = self.ask_checkpoint_file()
        return self.choose(path) if path else False

    # ----------------------------------------------------------------- internals
    def _fill(self, entries: list[tuple[str, Path]]) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem("Choose a checkpoint…" if entries else "No trained runs in this project", None)
        for text, path in entries:
            self.combo.addItem(text, str(path))
        if self._current is not None:
            index = self.combo.findData(str(self._current.path))
            if index < 0:
                self.combo.addItem(self._current.path.name, str(self._current.path))
                index = self.combo.count() - 1
            self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)

    def _on_combo_activated(self, index: int) -> None:
        path = self.combo.itemData(index)
        if path:
            self.choose(path)

    def _ask_checkpoint_file_dialog(self) -> str | None:
        return ask_model_file(self, "Choose a ResYOLO checkpoint", self._project_folder)
