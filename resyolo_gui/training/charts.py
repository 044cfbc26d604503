"""Live training charts (pyqtgraph): loss per batch (smoothed) and per epoch, validation mAP, learning rate.

Points are stored as they arrive; the curves are redrawn by a timer at most every ``REDRAW_MS``, so a burst of
events never stalls the GUI thread. The x axis of every chart is the epoch (batches at fractions of it), so a
past run read back from its results.csv draws on the same axes.

Each chart's legend sits in its own cell below the chart (never over the curves, never outside the window), and
no axis is SI-scaled: mAP reads 0 to 1 as it is, not "mAP (x0.001)".
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.model.components import ALL_COMPONENTS
from engine.training.events import BatchEnd, EpochEnd, ValidationEnd

REDRAW_MS = 100
SMOOTHING = 20  # batches: the batch losses are an exponential moving average over about this many
LOSS_NAMES = ("loss", *ALL_COMPONENTS)  # a run has the parts of its head; the others stay empty
LOSS_LABELS = {"loss": "total", "regression": "box", "containment": "object", "no_object": "no object",
               "class": "class", "iou": "CIoU", "dfl": "DFL"}
MAP_LABELS = {"map50": "mAP@0.5", "map": "mAP@[.5:.95]", "ema_map50": "EMA mAP@0.5", "ema_map": "EMA mAP@[.5:.95]"}
COLORS = ("#2f6fd0", "#d0502f", "#2f9d57", "#9a4fd0", "#c99a1e", "#1ea5a5", "#8a5a2b")


class LegendCell(pg.LegendItem):
    """A legend that is a cell of the charts' layout rather than a box floating over the curves: it asks the
    layout for the room its entries need (pyqtgraph's own legend sets its geometry itself, for floating)."""

    def __init__(self, columns: int):
        self.preferred_columns = columns
        super().__init__(labelTextSize="8pt", verSpacing=-6, horSpacing=6, colCount=columns, frame=False)

    def updateSize(self) -> None:
        hint = self.layout.effectiveSizeHint(Qt.PreferredSize)
        self.setMinimumSize(hint)
        self.setMaximumSize(hint)
        self.updateGeometry()

    def mouseDragEvent(self, ev) -> None:  # it has its place; dragging it over the curves is no help
        ev.ignore()

    def fit_width(self, width: float) -> None:
        """As many entries a row as fit in ``width`` (at least one), so a narrow window never cuts it off."""
        for columns in range(max(1, self.preferred_columns), 0, -1):
            self.setColumnCount(columns)
            if self.minimumWidth() <= width:
                return


class TrainingCharts(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget(self)
        self.view.setBackground(self.palette().color(QPalette.Base))
        self.view.setMinimumHeight(320)  # four readable charts, even in a short dock
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.title = ""
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._points: dict[str, tuple[list[float], list[float]]] = {}
        self._dirty: set[str] = set()
        self._smoothed: dict[str, float] = {}
        self._batches_seen = 0
        self.batch_plot = self._plot(0, 0, "Loss per batch (smoothed)", "loss", legend_columns=3)
        self.epoch_plot = self._plot(0, 1, "Loss per epoch", "loss", legend_columns=3)
        self.map_plot = self._plot(1, 0, "Validation mAP", "mAP", legend_columns=2)
        self.lr_plot = self._plot(1, 1, "Learning rate", "lr", legend_columns=1)
        # mAP is a fraction: always 0 to 1, so a run that scores 0.0004 does not fill the chart with noise
        self.map_plot.enableAutoRange(axis="y", enable=False)
        self.map_plot.setYRange(0, 1, padding=0.05)
        for index, name in enumerate(LOSS_NAMES):
            self._curve(self.batch_plot, f"batch_{name}", LOSS_LABELS[name], COLORS[index], width=2 if index == 0 else 1)
            self._curve(self.epoch_plot, f"epoch_{name}", LOSS_LABELS[name], COLORS[index], symbol=True,
                        width=2 if index == 0 else 1)
        for index, (name, label) in enumerate(MAP_LABELS.items()):
            dashed = name.startswith("ema")
            self._curve(self.map_plot, name, label, COLORS[index % 2], symbol=True, dashed=dashed)
        self._curve(self.lr_plot, "lr", "learning rate", COLORS[0])
        self._timer = QTimer(self, interval=REDRAW_MS, timeout=self._redraw)
        self._timer.start()

    # ---- building ----------------------------------------------------------------------------------------
    def _plot(self, row: int, column: int, title: str, y_label: str, legend_columns: int) -> pg.PlotItem:
        plot = self.view.addPlot(row=2 * row, col=column, title=title)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)  # "mAP (x0.001)" read as a bug; plain numbers do not
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", y_label)
        plot.showGrid(x=True, y=True, alpha=0.2)
        legend = LegendCell(legend_columns)
        self.view.addItem(legend, row=2 * row + 1, col=column)
        self.view.ci.layout.setAlignment(legend, Qt.AlignHCenter | Qt.AlignTop)
        self.view.ci.layout.setRowStretchFactor(2 * row, 1)
        self.view.ci.layout.setRowStretchFactor(2 * row + 1, 0)
        plot.legend = legend  # the plot's named curves go to it, as with plot.addLegend()
        plot.setDownsampling(auto=True, mode="peak")  # long runs: tens of thousands of batch points
        plot.setClipToView(True)
        return plot

    def _curve(self, plot: pg.PlotItem, key: str, label: str, color: str, width: int = 1, symbol: bool = False,
               dashed: bool = False) -> None:
        pen = pg.mkPen(color, width=width, style=pg.QtCore.Qt.DashLine if dashed else pg.QtCore.Qt.SolidLine)
        options = {"symbol": "o", "symbolSize": 5, "symbolBrush": color, "symbolPen": None} if symbol else {}
        self._curves[key] = plot.plot([], [], pen=pen, name=label, **options)
        self._points[key] = ([], [])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        half = event.size().width() / 2 - 24  # one chart column, less the layout's margins and spacing
        for plot in (self.batch_plot, self.epoch_plot, self.map_plot, self.lr_plot):
            plot.legend.fit_width(half)

    # ---- data --------------------------------------------------------------------------------------------
    def reset(self, title: str = "") -> None:
        self.title = title
        for key in self._points:
            self._points[key] = ([], [])
            self._dirty.add(key)
        self._smoothed.clear()
        self._batches_seen = 0
        self.batch_plot.setTitle(f"Loss per batch (smoothed) — {title}" if title else "Loss per batch (smoothed)")
        self._redraw()

    def add_batches(self, batches: list[BatchEnd]) -> None:
        for batch in batches:
            x = batch.progress
            self._batches_seen += 1
            weight = max(1.0 / SMOOTHING, 1.0 / self._batches_seen)  # a plain mean over the first batches
            for name, value in _losses(batch.loss, batch.components):
                if not math.isfinite(value):
                    continue
                previous = self._smoothed.get(name, value)
                self._smoothed[name] = previous + (value - previous) * weight
                self._add(f"batch_{name}", x, self._smoothed[name])
            self._add("lr", x, batch.lr)

    def add_epoch(self, epoch: EpochEnd) -> None:
        for name, value in _losses(epoch.loss, epoch.components):
            self._add(f"epoch_{name}", epoch.epoch, value)

    def add_eval(self, validation: ValidationEnd) -> None:
        for name in MAP_LABELS:
            self._add(name, validation.epoch, getattr(validation, name))

    def load_results(self, rows: list[dict], title: str = "") -> None:
        """A past run's charts from its results.csv rows (per epoch; no per-batch points were kept)."""
        self.reset(title)
        for row in rows:
            epoch = EpochEnd.from_row(row)
            self.add_epoch(epoch)
            validation = ValidationEnd.from_row(row)
            if validation is not None:
                self.add_eval(validation)
            self._add("lr", epoch.epoch, epoch.lr)
        self._redraw()

    def _add(self, key: str, x: float, y) -> None:
        if y is None or not math.isfinite(y):
            return
        xs, ys = self._points[key]
        xs.append(float(x))
        ys.append(float(y))
        self._dirty.add(key)

    def point_count(self, key: str) -> int:
        """How many points curve ``key`` holds (``batch_loss``, ``epoch_loss``, ``map50``, ``lr``, ...)."""
        return len(self._points[key][0])

    def shown_point_count(self, key: str) -> int:
        """How many points curve ``key`` draws now (after the last redraw)."""
        x_data = self._curves[key].xData
        return 0 if x_data is None else len(x_data)

    # ---- drawing and export ------------------------------------------------------------------------------
    def _redraw(self) -> None:
        for key in self._dirty:
            xs, ys = self._points[key]
            self._curves[key].setData(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
            if key == "lr" and ys:  # from 0: a constant rate would otherwise fill the chart with noise-level ticks
                self.lr_plot.setYRange(0, max(ys) * 1.15, padding=0)
        self._dirty.clear()

    def save_png(self, path: Path | str) -> bool:
        self._redraw()
        return self.grab().save(str(path), "PNG")


def _losses(total: float, components) -> list[tuple[str, float]]:
    """(curve name, value) of the total and of each of the head's parts."""
    return [("loss", total), *components.items()]
