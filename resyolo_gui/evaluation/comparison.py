"""One image with its labels and the model's predictions together, coloured by what the match made of them.

Labels are solid outlines, predictions dashed; the colour is the outcome (legend below the image)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import (QGraphicsRectItem, QGraphicsSimpleTextItem, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from engine.io.images import ImageReadError, read_image_reduced
from resyolo_gui.canvas.image_view import ImageView

OUTCOME_COLOURS = {
    "true positive": "#2ecc40",
    "false positive": "#ff4136",
    "missed": "#ffdc00",
    "wrong class": "#f012be",
    "difficult / ignored": "#aaaaaa",
}


class ComparisonView(QWidget):
    """``show_image(evaluation, i)`` draws image ``i`` of an evaluation; the button asks to edit its labels."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = ImageView(self)
        self.caption = QLabel("Choose an image from the list", self)
        self.caption.setWordWrap(True)
        self.open_button = QPushButton("Open in labelling view", self)
        self.open_button.setToolTip("Show this image in the main window to correct its labels")
        self.open_button.setEnabled(False)
        # one wrapping line: a row of fixed labels made the pane (and the window) at least 700 px wide
        swatches = " &nbsp; ".join(f"<span style='color:{colour}; font-size:14pt'>■</span>&nbsp;{name.replace(' ', '&nbsp;')}"
                                   for name, colour in OUTCOME_COLOURS.items())
        self.legend = QLabel(f"solid: label, dashed: prediction — {swatches}", self)
        self.legend.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.caption, 1)
        bottom.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)
        layout.addLayout(bottom)
        self.items: list[tuple[str, QGraphicsRectItem]] = []  # (outcome, item) of what is drawn

    def clear(self) -> None:
        self.items = []
        self.view.show_message("Choose an image from the list")
        self.caption.setText("")
        self.open_button.setEnabled(False)

    def show_image(self, evaluation, index: int) -> None:
        ann = evaluation.images[index]
        gt = evaluation.scored_ground_truth[index]
        det = evaluation.detections[index]
        matches = evaluation.analysis.images[index]
        names = evaluation.labels.names
        self.items = []
        try:
            size = self.view.viewport().size()
            pixels, full_size = read_image_reduced(ann.image_path, max(size.width(), 64), max(size.height(), 64))
            self.view.show_image(pixels, full_size)
        except ImageReadError as exc:
            self.view.show_message(str(exc))
            self.caption.setText(str(exc))
            return
        boxes, scores, labels = (det.boxes.tolist(), det.scores.tolist(), det.labels.tolist()) if hasattr(
            det.boxes, "tolist") else (list(det.boxes), list(det.scores), list(det.labels))

        def draw_label(g: int, outcome: str) -> None:
            box = gt.boxes[g]
            self._draw(outcome, box.xyxy(), box.label + (" (difficult)" if box.difficult else ""), dashed=False)

        def draw_prediction(d: int, outcome: str, note: str = "") -> None:
            self._draw(outcome, boxes[d], f"{names[labels[d]]} {scores[d]:.2f}{note}", dashed=True)

        for g, d in matches.true_positives:
            draw_label(g, "true positive")
            draw_prediction(d, "true positive")
        for g, d in matches.wrong_class:
            draw_label(g, "wrong class")
            draw_prediction(d, "wrong class", f" (labelled {gt.boxes[g].label})")
        for g in matches.misses:
            draw_label(g, "missed")
        for d in matches.false_positives:
            draw_prediction(d, "false positive")
        for g, box in enumerate(gt.boxes):
            if box.difficult:
                draw_label(g, "difficult / ignored")
        for d in matches.ignored:
            draw_prediction(d, "difficult / ignored")
        name = Path(ann.image_path).name
        breakable = "".join(c + "\u200b" if c in "_-." else c for c in name)  # a long name wraps, not the pane
        self.caption.setToolTip(str(ann.image_path))
        self.caption.setText(
            f"{breakable}: {len(matches.true_positives)} found, {len(matches.misses)} missed, "
            f"{len(matches.false_positives)} false positive(s), {len(matches.wrong_class)} wrong class "
            f"(predictions scored >= {evaluation.analysis.score_threshold:.2f})")
        self.open_button.setEnabled(True)

    def _draw(self, outcome: str, xyxy, text: str, dashed: bool) -> None:
        x1, y1, x2, y2 = map(float, xyxy)
        colour = QColor(OUTCOME_COLOURS[outcome])
        pen = QPen(colour, 2.5 if not dashed else 2.0, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        pen.setCosmetic(True)  # the same width on screen at any zoom
        rect = self.view.scene().addRect(QRectF(x1, y1, x2 - x1, y2 - y1), pen)
        rect.setToolTip(f"{outcome}: {text}")
        label = QGraphicsSimpleTextItem(text)
        label.setBrush(QBrush(colour))
        label.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)  # readable when zoomed out
        # A label's name inside its top-left corner, a prediction's just under its box: both stay readable.
        label.setPos(x1, y2 if dashed else y1)
        backdrop = self.view.scene().addRect(QRectF(), QPen(Qt.PenStyle.NoPen), QBrush(QColor(0, 0, 0, 150)))
        backdrop.setFlag(QGraphicsRectItem.GraphicsItemFlag.ItemIgnoresTransformations)
        backdrop.setRect(label.boundingRect())
        backdrop.setPos(label.pos())
        self.view.scene().addItem(label)
        self.items.append((outcome, rect))
