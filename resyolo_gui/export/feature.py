"""File > Export Model to ONNX…: pick a checkpoint and an output file, export on a worker thread.

The export itself is :func:`engine.inference.export.export_onnx` (the same as ``resyolo export --dynamic-batch``);
this package only asks for the two paths, keeps the window responsive and reports the result.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox

from resyolo_gui.menu_bar import feature_menu
from resyolo_gui.worker import Worker

MENU_TEXT = "Export Model to &ONNX…"


class ExportWorker(Worker):
    """Runs one export: ``succeeded(out_path)`` or ``failed(message)``."""

    what = "The export"

    def __init__(self, checkpoint: Path, out: Path, parent=None):
        super().__init__(parent)
        self.checkpoint, self.out = checkpoint, out
        from engine.model.checkpoint import CheckpointError
        from engine.inference.export import OnnxExportError

        self.expected_errors = (CheckpointError, OnnxExportError)

    def work(self) -> str:
        from engine.inference.export import export_onnx

        # Overwrite: the save dialog has already asked the user before replacing an existing file.
        return str(export_onnx(self.checkpoint, self.out, dynamic_batch=True, overwrite=True))


class ExportFeature(QObject):
    export_done = Signal(str, str)  # (out path, error message): for tests and anyone who waits on an export

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.project = getattr(window, "project", None)
        self.worker: ExportWorker | None = None
        self.action = QAction(MENU_TEXT, window)
        self.action.setStatusTip("Write a trained checkpoint as an ONNX model (runs with onnxruntime and "
                                 "`resyolo predict --weights MODEL.onnx`)")
        self.action.triggered.connect(self.export_model)
        _add_to_file_menu(window, self.action)

    # ----------------------------------------------------------------- the feature seam
    def project_changed(self, project) -> None:
        self.project = project

    def can_close(self) -> bool:
        if self.worker is not None and self.worker.isRunning():
            self.window.statusBar().showMessage("An ONNX export is still being written; close again in a moment.", 5000)
            return False
        return True

    # ----------------------------------------------------------------- the action
    def export_model(self) -> None:
        if self.worker is not None and self.worker.isRunning():
            return
        checkpoint, _ = QFileDialog.getOpenFileName(self.window, "Checkpoint to Export", str(self._start_folder()),
                                                    "ResYOLO checkpoints (*.pt);;All files (*)")
        if not checkpoint:
            return
        checkpoint = Path(checkpoint)
        suggested = self._suggested_output(checkpoint)
        out, _ = QFileDialog.getSaveFileName(self.window, "Save ONNX Model", str(suggested), "ONNX models (*.onnx)")
        if not out:
            return
        out = Path(out) if out.lower().endswith(".onnx") else Path(out + ".onnx")
        if out.resolve() == checkpoint.resolve():
            QMessageBox.warning(self.window, "Export Model to ONNX", f"{out} is the checkpoint itself.")
            return
        self.start_export(checkpoint, out)

    def start_export(self, checkpoint: Path, out: Path) -> ExportWorker:
        self.action.setEnabled(False)
        self.window.statusBar().showMessage(f"Exporting {checkpoint.name} to {out.name}…")
        self.worker = ExportWorker(checkpoint, out, self)
        self.worker.succeeded.connect(lambda out: self._on_finished(out, ""))
        self.worker.failed.connect(lambda error: self._on_finished("", error))
        self.worker.start()
        return self.worker

    def _on_finished(self, out: str, error: str) -> None:
        self.action.setEnabled(True)
        self.worker.wait()
        if error:
            self.window.statusBar().showMessage("ONNX export failed", 5000)
            QMessageBox.warning(self.window, "Export Model to ONNX", f"The export failed:\n{error}")
        else:
            size_mb = Path(out).stat().st_size / 1e6
            self.window.statusBar().showMessage(f"Exported {out} ({size_mb:.1f} MB)", 8000)
            QMessageBox.information(self.window, "Export Model to ONNX",
                                    f"Saved {out} ({size_mb:.1f} MB).\n\nUse it with:\n"
                                    f"resyolo predict IMAGES --weights \"{out}\"")
        self.export_done.emit(out, error)

    def _start_folder(self) -> Path:
        """The project's runs (where best.pt / last.pt live), else the project folder, else home."""
        folder = getattr(self.project, "folder", None)
        if folder is None:
            return Path.home()
        runs = Path(folder) / ".resyolo" / "runs"
        return runs if runs.is_dir() else Path(folder)

    @staticmethod
    def _suggested_output(checkpoint: Path) -> Path:
        # runs/exp3/best.pt -> runs/exp3/exp3-best.onnx: the run's name travels with the file when it is copied.
        return checkpoint.with_name(f"{checkpoint.parent.name}-{checkpoint.stem}.onnx")


def _add_to_file_menu(window, action: QAction) -> None:
    """Right after File > Export COCO JSON…, else at the end of the File menu (or a menu of its own)."""
    file_menu = feature_menu(window, "&File")
    entries = file_menu.actions()
    coco = next((i for i, a in enumerate(entries) if "COCO" in a.text()), None)
    if coco is not None and coco + 1 < len(entries):
        file_menu.insertAction(entries[coco + 1], action)
    else:
        file_menu.addAction(action)

