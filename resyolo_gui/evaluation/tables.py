"""Table models of the evaluation window: per-class AP, the confusion matrix, and the images behind a choice.

The AP and image tables sort themselves (``sort``), so a click on a header orders by the numbers."""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from engine.inference.scoring import Evaluation

DISPLAY, BACKGROUND, TOOLTIP, ALIGN = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole,
                                       Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole)
FOREGROUND = Qt.ItemDataRole.ForegroundRole
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
CENTER = int(Qt.AlignmentFlag.AlignCenter)


def relative_luminance(color: QColor) -> float:
    """WCAG 2 relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(color.redF()) + 0.7152 * linear(color.greenF()) + 0.0722 * linear(color.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio, 1 to 21 (4.5 is enough for text)."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_color_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background``."""
    black, white = QColor(Qt.GlobalColor.black), QColor(Qt.GlobalColor.white)
    return black if contrast_ratio(black, background) >= contrast_ratio(white, background) else white


def _ap_text(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.3f}"


class _SortedTable(QAbstractTableModel):
    """Rows are Python tuples of values; column ``c`` sorts by ``row[c]`` (NaN and text last)."""

    headers: list[str] = []
    tooltips: list[str] = []

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple] = []

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section, orientation, role=DISPLAY):
        if orientation == Qt.Orientation.Horizontal:
            if role == DISPLAY:
                return self.headers[section]
            if role == TOOLTIP and section < len(self.tooltips):
                return self.tooltips[section]
        return None

    def row_id(self, row: int) -> int:
        """The hidden last value of each row: what the row stands for (a class id, an image index)."""
        return self.rows[row][-1]

    def display_text(self, column: int, value) -> str:
        return str(value)

    def data(self, index, role=DISPLAY):
        if not index.isValid():
            return None
        if role == DISPLAY:
            return self.display_text(index.column(), self.rows[index.row()][index.column()])
        if role == ALIGN and index.column() > 0:
            return RIGHT
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        def key(row):
            value = row[column]
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            return (missing, value if not missing and not isinstance(value, str) else 0, str(value))

        self.layoutAboutToBeChanged.emit()
        order_of = sorted(range(len(self.rows)), key=lambda r: key(self.rows[r]),
                          reverse=order == Qt.SortOrder.DescendingOrder)
        self.rows = [self.rows[r] for r in order_of]
        # The layout-change contract: persistent indexes (the view's selection and current cell) follow their rows.
        new_row = {old: new for new, old in enumerate(order_of)}
        before = self.persistentIndexList()
        self.changePersistentIndexList(before, [self.index(new_row[i.row()], i.column()) for i in before])
        self.layoutChanged.emit()


class APTableModel(_SortedTable):
    """One row per class. AP counts every detection scored at least 0.01 (the whole precision-recall curve);
    TP, FP and Missed count those at the score threshold. Both detection counts are shown, so 16 detections
    with TP 0 and FP 0 reads as what it is: none scored up to the threshold."""

    headers = ["Class", "VOC07", "COCO", "GT", "Det", "Det ≥ 0.25", "TP", "FP", "Missed"]
    tooltips = ["", "AP, Pascal VOC 2007 11-point, IoU 0.5", "AP, COCO, averaged over IoU 0.5:0.95",
                "ground-truth boxes (difficult ones not counted)",
                "detections scored for AP (score ≥ 0.01): the whole precision-recall curve",
                "detections at the score threshold: the ones TP and FP judge",
                "true positives at the score threshold", "false positives and wrong-class predictions at the threshold",
                "boxes not found, or found under another class, at the threshold"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headers = list(APTableModel.headers)
        self.tooltips = list(APTableModel.tooltips)

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        self.beginResetModel()
        self.rows = []
        if evaluation is not None:
            voc, coco, analysis = evaluation.voc07, evaluation.coco, evaluation.analysis
            self.headers[5] = f"Det ≥ {analysis.score_threshold:.2f}"
            self.tooltips[5] = f"detections scored at least {analysis.score_threshold:.2f} (the score threshold): " \
                               "the ones TP and FP judge"
            for class_id, name in enumerate(evaluation.labels.names):
                counts = analysis.class_counts(class_id)
                self.rows.append((name, voc.per_class[name], coco.per_class[name], voc.num_gt[name], voc.num_det[name],
                                  counts["detections"], counts["tp"], counts["fp"], counts["fn"], class_id))
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.headers) - 1)

    def class_id(self, row: int) -> int:
        return self.row_id(row)

    def display_text(self, column: int, value) -> str:
        return _ap_text(value) if column in (1, 2) else str(value)

    def data(self, index, role=DISPLAY):
        if role == TOOLTIP and index.isValid() and index.column() in (4, 5, 6, 7):
            row = self.rows[index.row()]
            return (f"{row[0]}: {row[4]} detection(s) scored ≥ 0.01 make its AP; {row[5]} of them score at least "
                    f"the threshold ({self.headers[5][len('Det ≥ '):]}): {row[6]} TP, {row[7]} FP")
        return super().data(index, role)


class ConfusionMatrixModel(QAbstractTableModel):
    """Rows: ground-truth classes then background; columns: predicted classes then background. Agreement
    (the diagonal) is green, confusion red, each as dark as its share of the row's ground truth (the
    background row: of all its false positives)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.evaluation: Evaluation | None = None
        self.names: list[str] = []

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        self.beginResetModel()
        self.evaluation = evaluation
        self.names = (list(evaluation.labels.names) + ["background"]) if evaluation else []
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.names)

    columnCount = rowCount

    def count(self, row: int, column: int) -> int:
        return int(self.evaluation.analysis.matrix[row, column])

    def headerData(self, section, orientation, role=DISPLAY):
        if role == DISPLAY and section < len(self.names):
            return self.names[section]
        if role == TOOLTIP:
            return "rows: what the labels say" if orientation == Qt.Orientation.Vertical else \
                "columns: what the model predicted"
        return None

    def describe(self, row: int, column: int) -> str:
        """What a cell means, in words."""
        bg = len(self.names) - 1
        if row == bg and column == bg:
            return "nothing (background found as background is not counted)"
        if row == bg:
            return f"false positives: {self.names[column]} predicted where no box is labelled"
        if column == bg:
            return f"missed: {self.names[row]} labelled, nothing predicted"
        if row == column:
            return f"true positives: {self.names[row]} found"
        return f"wrong class: {self.names[row]} labelled, {self.names[column]} predicted"

    def data(self, index, role=DISPLAY):
        if not index.isValid() or self.evaluation is None:
            return None
        row, column = index.row(), index.column()
        count = self.count(row, column)
        if role == DISPLAY:
            return str(count)
        if role == ALIGN:
            return CENTER
        if role == TOOLTIP:
            return f"{self.describe(row, column)}: {count}"
        if role == BACKGROUND and count:
            return self.cell_color(row, column)
        if role == FOREGROUND and count:  # dark numbers on a dark red cell could not be read
            return text_color_on(self.cell_color(row, column))
        return None

    def cell_color(self, row: int, column: int) -> QColor:
        matrix = self.evaluation.analysis.matrix
        total = matrix[row].sum() or 1
        share = min(1.0, self.count(row, column) / total)
        hue = 120 if row == column else 0  # green agreement, red confusion
        return QColor.fromHsv(hue, 40 + int(200 * share), 255 - int(60 * share))


class ImageListModel(_SortedTable):
    headers = ["Image", "Disagree", "Missed", "FP", "Wrong", "TP"]
    tooltips = ["", "missed + false positives + wrong class (ties: the model's most confident mistakes first)",
                "labelled boxes nothing found", "predictions where nothing is labelled",
                "found at the right place under another class", "labelled boxes found"]

    def set_images(self, evaluation: Evaluation | None, indices: list[int]) -> None:
        """``indices`` into ``evaluation.images``, in the order to show (worst first from ``ranked``)."""
        self.beginResetModel()
        self.rows = []
        if evaluation is not None:
            for rank, i in enumerate(indices):
                m = evaluation.analysis.images[i]
                # The disagreement column sorts by (count, confidence of the mistakes) through a float key.
                key = m.disagreement + min(m.error_confidence, 999.0) / 1000.0
                self.rows.append((Path(evaluation.images[i].image_path).name, key, len(m.misses),
                                  len(m.false_positives), len(m.wrong_class), len(m.true_positives), i))
        self.endResetModel()

    def image_index(self, row: int) -> int:
        return self.row_id(row)

    def display_text(self, column: int, value) -> str:
        return str(int(value)) if column == 1 else str(value)

    def data(self, index, role=DISPLAY):
        if role == TOOLTIP and index.isValid() and index.column() == 0:  # long file names are cut in the column
            return str(self.rows[index.row()][0])
        return super().data(index, role)
