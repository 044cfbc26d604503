"""Live training charts (pyqtgraph): loss per batch (smoothed) and per epoch, validation mAP, learning rate.

Points are stored as they arrive; the curves are redrawn by a timer at most every ``REDRAW_MS``, so a burst of
events never stalls the GUI thread. The x axis of every chart is the epoch (batches at fractions of it), so a
past run read back from its results.csv draws on the same axes.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.heads import ALL_COMPONENTS

REDRAW_MS = 100
SMOOTHING = 20  # batches: the batch losses are an exponential moving average over about this many
LOSS_NAMES = ("loss", *ALL_COMPONENTS)  # a run has the parts of its head; the others stay empty
LOSS_LABELS = {"loss": "total", "regression": "box", "containment": "object", "no_object": "no object",
               "class": "class", "iou": "CIoU", "dfl": "DFL"}
MAP_LABELS = {"map50": "mAP@0.5", "map": "mAP@[.5:.95]", "ema_map50": "EMA mAP@0.5", "ema_map": "EMA mAP@[.5:.95]"}
COLORS = ("#2f6fd0", "#d0502f", "#2f9d57", "#9a4fd0", "#c99a1e", "#1ea5a5", "#8a5a2b")


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
        self.batch_plot = self._plot(0, 0, "Loss per batch (smoothed)", "loss")
        self.epoch_plot = self._plot(0, 1, "Loss per epoch", "loss")
        self.map_plot = self._plot(1, 0, "Validation mAP", "mAP")
        self.lr_plot = self._plot(1, 1, "Learning rate", "lr")
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
    def _plot(self, row: int, column: int, title: str, y_label: str) -> pg.PlotItem:
        plot = self.view.addPlot(row=row, col=column, title=title)
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", y_label)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.addLegend(offset=(-8, 8), labelTextSize="8pt", verSpacing=-8, brush=(255, 255, 255, 190))
        plot.setDownsampling(auto=True, mode="peak")  # long runs: tens of thousands of batch points
        plot.setClipToView(True)
        return plot

    def _curve(self, plot: pg.PlotItem, key: str, label: str, color: str, width: int = 1, symbol: bool = False,
               dashed: bool = False) -> None:
        pen = pg.mkPen(color, width=width, style=pg.QtCore.Qt.DashLine if dashed else pg.QtCore.Qt.SolidLine)
        options = {"symbol": "o", "symbolSize": 5, "symbolBrush": color, "symbolPen": None} if symbol else {}
        self._curves[key] = plot.plot([], [], pen=pen, name=label, **options)
        self._points[key] = ([], [])

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

    def add_batches(self, payloads: list[dict]) -> None:
        for payload in payloads:
            x = payload["epoch"] - 1 + payload["batch"] / max(1, payload["batches"])
            self._batches_seen += 1
            weight = max(1.0 / SMOOTHING, 1.0 / self._batches_seen)  # a plain mean over the first batches
            for name in LOSS_NAMES:
                value = payload.get(name)
                if value is None or not math.isfinite(value):
                    continue
                previous = self._smoothed.get(name, value)
                self._smoothed[name] = previous + (value - previous) * weight
                self._add(f"batch_{name}", x, self._smoothed[name])
            self._add("lr", x, payload.get("lr"))

    def add_epoch(self, row: dict) -> None:
        for name in LOSS_NAMES:
            self._add(f"epoch_{name}", row["epoch"], row.get(name))

    def add_eval(self, row: dict) -> None:
        for name in MAP_LABELS:
            self._add(name, row["epoch"], row.get(name))

    def load_results(self, rows: list[dict], title: str = "") -> None:
        """A past run's charts from its results.csv rows (per epoch; no per-batch points were kept)."""
        self.reset(title)
        for row in rows:
            self.add_epoch(row)
            self.add_eval(row)
            self._add("lr", row["epoch"], row.get("lr"))
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
