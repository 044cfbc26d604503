"""The Runs panel: the project's training runs (name, date, epochs, best mAP@0.5, size, status); a past run's
charts are redrawn from its results.csv in a window of their own, so a live run's charts stay where they are.
A run with a ``last.pt`` is resumed from here ("Resume run…", or the context menu: the training feature asks
until which epoch and plans it with the run planner). Old runs are deleted from here (Delete key, the button or
the context menu), after a question, never the one training (:func:`engine.training.runs.delete_run`)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QMessageBox, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from engine.training.runs import RunInfo, RunInUse, delete_run, list_runs, run_size
from resyolo_gui.training.charts import TrainingCharts
from resyolo_gui.screen_fit import fit_to_screen

COLUMNS = ("Run", "Date", "Epochs", "Best mAP@0.5", "Size", "Status")
STATUS = COLUMNS.index("Status")


def ask_delete_run(parent: QWidget, run: RunInfo, size: int) -> bool:
    """The question before a run is deleted: True to delete."""
    box = QMessageBox(QMessageBox.Warning, "Delete run",
                      f"Delete run {run.name} and its checkpoints ({_megabytes(size)})?\n\n{run.path}\n\n"
                      "This cannot be undone.", QMessageBox.Cancel, parent)
    delete = box.addButton("Delete", QMessageBox.DestructiveRole)
    box.setDefaultButton(QMessageBox.Cancel)
    box.exec()
    return box.clickedButton() is delete


def run_status(run: RunInfo, active_run: Path | None = None) -> str:
    if active_run is not None and Path(run.path) == Path(active_run):
        return "training"
    recorded = run.config.get("status")
    if recorded and recorded != "running":
        return recorded
    planned = run.config.get("train", {}).get("epochs")
    if planned and len(run.results) >= planned:
        return "finished"
    return "interrupted" if recorded == "running" else ("incomplete" if run.results else "no results")


class RunsPanel(QWidget):
    charts_shown = Signal(str)  # run name, after its charts window opened
    run_deleted = Signal(str)  # the deleted run's folder
    resume_requested = Signal(object)  # the run (RunInfo) to continue

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.folder: Path | None = None
        self.active_run: Path | None = None
        self.runs: list[RunInfo] = []
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.itemDoubleClicked.connect(lambda item, _column: self.show_charts(self.tree.indexOfTopLevelItem(item)))
        show = QPushButton("Show charts", self, clicked=lambda: self.show_charts(self._selected_row()))
        refresh = QPushButton("Refresh", self, clicked=lambda: self.refresh())
        self.delete_action = QAction("Delete Run…", self.tree)
        self.delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.WidgetShortcut)  # only while the list has focus
        self.delete_action.setStatusTip("Delete the chosen run's folder and checkpoints (not the run training)")
        self.delete_action.triggered.connect(lambda: self.delete_run(self._selected_row()))
        self.resume_action = QAction("Resume This Run…", self.tree)
        self.resume_action.setStatusTip("Continue the chosen run from its last checkpoint (last.pt)")
        self.resume_action.triggered.connect(lambda: self.resume_run(self._selected_row()))
        self.tree.addActions([self.resume_action, self.delete_action])
        self.tree.setContextMenuPolicy(Qt.ActionsContextMenu)
        self.resume_button = QPushButton("Resume run…", self, clicked=self.resume_action.trigger)
        self.delete_button = QPushButton("Delete run…", self, clicked=self.delete_action.trigger)
        self.tree.currentItemChanged.connect(lambda *_: self._update_actions())
        buttons = QHBoxLayout()
        buttons.addWidget(show)
        buttons.addWidget(refresh)
        buttons.addWidget(self.resume_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._dialogs: list[QDialog] = []

    def set_project_folder(self, folder: Path | None) -> None:
        self.folder = folder
        self.refresh()

    def refresh(self, active_run: Path | None | bool = False) -> None:
        """Re-read the runs; ``active_run`` (when given) is the run training now, or None."""
        if active_run is not False:
            self.active_run = active_run
        current = self.tree.currentItem()
        chosen = current.text(0) if current is not None else None  # kept across the refreshes during a run
        self.runs = list_runs(self.folder) if self.folder is not None else []
        self.tree.clear()
        for run in self.runs:
            best = run.best_map50()
            planned = run.config.get("train", {}).get("epochs")
            epochs = f"{len(run.results)}/{planned}" if planned else str(len(run.results))
            item = QTreeWidgetItem([run.name, _run_date(run), epochs, "" if best is None else f"{best:.3f}",
                                    _megabytes(run_size(run.path)), run_status(run, self.active_run)])
            item.setToolTip(0, str(run.path))
            item.setToolTip(STATUS, run.config.get("message", ""))
            for column in (2, 3, 4):
                item.setTextAlignment(column, Qt.AlignRight | Qt.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if run.name == chosen:
                self.tree.setCurrentItem(item)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self._update_actions()

    def _update_actions(self) -> None:
        row = self._selected_row()
        enabled = 0 <= row < len(self.runs) and not self._is_active(self.runs[row])
        self.delete_action.setEnabled(enabled)
        self.delete_button.setEnabled(enabled)
        resumable = enabled and self.active_run is None and self.runs[row].last_checkpoint is not None
        self.resume_action.setEnabled(resumable)
        self.resume_button.setEnabled(resumable)
        self.resume_button.setToolTip("" if resumable else "Choose a run that has a last.pt, while none trains")

    def resume_run(self, row: int) -> None:
        if 0 <= row < len(self.runs) and self.resume_action.isEnabled():
            self.resume_requested.emit(self.runs[row])

    def _is_active(self, run: RunInfo) -> bool:
        return self.active_run is not None and Path(run.path).resolve() == Path(self.active_run).resolve()

    def delete_run(self, row: int) -> bool:
        """Ask, then delete run ``row`` (never the run training). True when it was deleted."""
        if not 0 <= row < len(self.runs) or self.folder is None:
            return False
        run = self.runs[row]
        if self._is_active(run):
            QMessageBox.information(self, "Delete run", f"Run {run.name} is training. Stop it first.")
            return False
        if not ask_delete_run(self, run, run_size(run.path)):
            return False
        try:
            freed = delete_run(self.folder, run.path, self.active_run)
        except (RunInUse, ValueError, OSError) as error:
            QMessageBox.warning(self, "Run not deleted", str(error))
            self.refresh()
            return False
        for dialog in list(self._dialogs):  # its charts window shows a run that is gone
            if dialog.run_path == Path(run.path):
                dialog.close()
        self.refresh()
        self.run_deleted.emit(str(run.path))
        top = self.window()
        if hasattr(top, "statusBar"):
            top.statusBar().showMessage(f"Deleted run {run.name}: {_megabytes(freed)} freed", 8000)
        return True

    def run_names(self) -> list[str]:
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    def status_of(self, name: str) -> str:
        for i in range(self.tree.topLevelItemCount()):
            if self.tree.topLevelItem(i).text(0) == name:
                return self.tree.topLevelItem(i).text(STATUS)
        raise KeyError(name)

    def _selected_row(self) -> int:
        item = self.tree.currentItem()
        return self.tree.indexOfTopLevelItem(item) if item is not None else -1

    def show_charts(self, row: int) -> QDialog | None:
        if not 0 <= row < len(self.runs):
            return None
        dialog = RunChartsDialog(self.runs[row], self)
        dialog.finished.connect(lambda _result, d=dialog: self._dialogs.remove(d) if d in self._dialogs else None)
        self._dialogs.append(dialog)
        dialog.show()
        self.charts_shown.emit(self.runs[row].name)
        return dialog


class RunChartsDialog(QDialog):
    def __init__(self, run: RunInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Run {run.name} — charts")
        self.run_path = Path(run.path)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.charts = TrainingCharts(self)
        self.charts.load_results(run.results, run.name)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        save = buttons.addButton("Save as PNG…", QDialogButtonBox.ActionRole)
        save.clicked.connect(lambda: _ask_and_save_png(self, self.charts, Path(run.path) / "charts.png"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.charts, 1)
        layout.addWidget(buttons)
        fit_to_screen(self, 900, 600)


def _ask_and_save_png(parent: QWidget, charts: TrainingCharts, suggested: Path) -> None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save charts as PNG", str(suggested), "PNG image (*.png)")
    if path:
        charts.save_png(path)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


def _run_date(run: RunInfo) -> str:
    started = run.config.get("started")
    if started:
        try:
            return datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            pass
    try:
        return datetime.fromtimestamp(Path(run.path).stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError:
        return ""
