"""Precision-recall curve of one class (pyqtgraph): the VOC devkit's points, one per detection."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from engine.inference.scoring import Evaluation


class PRPlot(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setLabel("bottom", "recall")
        self.setLabel("left", "precision")
        self.setXRange(0, 1, padding=0.02)
        self.setYRange(0, 1, padding=0.02)
        self.showGrid(x=True, y=True, alpha=0.3)
        self.getPlotItem().setMenuEnabled(False)
        self.curve = self.plot([], [], pen=pg.mkPen("#0074d9", width=2))
        self.threshold_marker = self.plot([], [], pen=None, symbol="o", symbolBrush="#ff4136", symbolSize=9)
        self.class_name: str | None = None

    def show_class(self, evaluation: Evaluation | None, name: str | None) -> None:
        """The curve of ``name``, with a dot where the detections reach the analysis' score threshold."""
        self.class_name = name
        curve = evaluation.voc07.curves.get(name) if evaluation is not None and name is not None else None
        if curve is None or len(curve.recall) == 0:
            self.curve.setData([], [])
            self.threshold_marker.setData([], [])
            self.setTitle(f"{name}: no detections" if name else "")
            return
        self.curve.setData(np.asarray(curve.recall, float), np.asarray(curve.precision, float))
        ap = evaluation.voc07.per_class[name]
        self.setTitle(f"{name} — AP VOC07 {'—' if math.isnan(ap) else f'{ap:.3f}'}")
        threshold = evaluation.analysis.score_threshold
        above = np.flatnonzero(np.asarray(curve.scores) >= threshold)
        if len(above):
            last = above[-1]
            self.threshold_marker.setData([curve.recall[last]], [curve.precision[last]])
        else:
            self.threshold_marker.setData([], [])
