"""The file dialog that picks a model file (a ResYOLO checkpoint or an exported ONNX model), shared by the Detect
panel, the live view and detection on a folder.

It opens where the models are, the project's newest run (``PROJECT/.resyolo/runs/<run>/``), and accepts a typed
path: Qt's own dialog greys Open for a typed file its view would hide, and a run's folder is under the hidden
``.resyolo``, so hidden entries are listed, and the name filter names every kind of model file we read.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir
from PySide6.QtWidgets import QFileDialog, QWidget

from engine.training.runs import list_runs, runs_folder

MODEL_SUFFIXES = (".pt", ".pth", ".onnx")
MODEL_FILTER = "Models (*.pt *.pth *.onnx);;All files (*)"


def model_start_folder(project_folder: Path | str | None) -> Path | None:
    """The newest run of the project that holds a checkpoint, else the project's runs folder, else the project."""
    if project_folder is None:
        return None
    runs = list_runs(project_folder)
    for run in runs:
        if run.best_checkpoint is not None or run.last_checkpoint is not None:
            return run.path
    if runs:
        return runs[0].path
    folder = runs_folder(project_folder)
    return folder if folder.is_dir() else Path(project_folder)


def model_file_dialog(parent: QWidget | None, title: str, project_folder: Path | str | None) -> QFileDialog:
    """The dialog, not yet shown (tests type into it); ``ask_model_file`` runs it."""
    start = model_start_folder(project_folder)
    dialog = QFileDialog(parent, title, str(start) if start is not None else "", MODEL_FILTER)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFilter(dialog.filter() | QDir.Filter.Hidden)
    return dialog


def ask_model_file(parent: QWidget | None, title: str, project_folder: Path | str | None) -> str | None:
    dialog = model_file_dialog(parent, title, project_folder)
    try:
        if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        return dialog.selectedFiles()[0]
    finally:
        dialog.deleteLater()
