"""The Runs panel: the project's training runs (name, date, epochs, best mAP@0.5, status); a past run's charts
are redrawn from its results.csv in a window of their own, so a live run's charts stay where they are."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from engine.runs import RunInfo, list_runs
from resyolo_gui.training.charts import TrainingCharts
from resyolo_gui.screen_fit import fit_to_screen

COLUMNS = ("Run", "Date", "Epochs", "Best mAP@0.5", "Status")


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
        refresh = QPushButton("Refresh", self, clicked=self.refresh)
        buttons = QHBoxLayout()
        buttons.addWidget(show)
        buttons.addWidget(refresh)
        buttons.addStretch(1)
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
        self.runs = list_runs(self.folder) if self.folder is not None else []
        self.tree.clear()
        for run in self.runs:
            best = run.best_map50()
            planned = run.config.get("train", {}).get("epochs")
            epochs = f"{len(run.results)}/{planned}" if planned else str(len(run.results))
            item = QTreeWidgetItem([run.name, _run_date(run), epochs, "" if best is None else f"{best:.3f}",
                                    run_status(run, self.active_run)])
            item.setToolTip(0, str(run.path))
            item.setToolTip(4, run.config.get("message", ""))
            for column in (2, 3):
                item.setTextAlignment(column, Qt.AlignRight | Qt.AlignVCenter)
            self.tree.addTopLevelItem(item)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)

    def run_names(self) -> list[str]:
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    def status_of(self, name: str) -> str:
        for i in range(self.tree.topLevelItemCount()):
            if self.tree.topLevelItem(i).text(0) == name:
                return self.tree.topLevelItem(i).text(4)
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
