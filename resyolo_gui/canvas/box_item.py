"""How one ground-truth box looks on the canvas: its rectangle, class colour, name tag and resize handles.

Items only draw and answer geometry questions; the canvas decides what a mouse gesture means and
changes the :class:`~engine.annotations.records.Box` records through undo commands. The item's rect is
kept in scene coordinates (= full-resolution image pixels) with the item at position (0, 0).
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QStyleOptionGraphicsItem, QWidget

from engine.annotations.records import Box

HANDLE_PX = 8.0  # side of a resize handle on screen, whatever the zoom
HANDLES = ("top_left", "top", "top_right", "right", "bottom_right", "bottom", "bottom_left", "left")
HANDLE_CURSORS = {
    "top_left": Qt.CursorShape.SizeFDiagCursor, "bottom_right": Qt.CursorShape.SizeFDiagCursor,
    "top_right": Qt.CursorShape.SizeBDiagCursor, "bottom_left": Qt.CursorShape.SizeBDiagCursor,
    "top": Qt.CursorShape.SizeVerCursor, "bottom": Qt.CursorShape.SizeVerCursor,
    "left": Qt.CursorShape.SizeHorCursor, "right": Qt.CursorShape.SizeHorCursor,
}


def box_rect(box: Box) -> QRectF:
    return QRectF(QPointF(box.x1, box.y1), QPointF(box.x2, box.y2))


def handle_points(rect: QRectF) -> dict[str, QPointF]:
    """Scene position of each resize handle: four corners and four edge middles."""
    cx, cy = rect.center().x(), rect.center().y()
    return {
        "top_left": rect.topLeft(), "top": QPointF(cx, rect.top()), "top_right": rect.topRight(),
        "right": QPointF(rect.right(), cy), "bottom_right": rect.bottomRight(),
        "bottom": QPointF(cx, rect.bottom()), "bottom_left": rect.bottomLeft(), "left": QPointF(rect.left(), cy),
    }


def resized_rect(start: QRectF, handle: str, point: QPointF, bounds: QRectF, min_size: float) -> QRectF:
    """``start`` with the edges that ``handle`` drags moved to ``point``, kept inside ``bounds``.

    An edge stops ``min_size`` short of the opposite edge instead of crossing it, so a resize never
    turns a box inside out or below the minimum size.
    """
    x = min(max(point.x(), bounds.left()), bounds.right())
    y = min(max(point.y(), bounds.top()), bounds.bottom())
    left, top, right, bottom = start.left(), start.top(), start.right(), start.bottom()
    if "left" in handle:
        left = min(x, right - min_size)
    if "right" in handle:
        right = max(x, left + min_size)
    if handle.startswith("top"):
        top = min(y, bottom - min_size)
    if handle.startswith("bottom"):
        bottom = max(y, top + min_size)
    return QRectF(QPointF(left, top), QPointF(right, bottom))


def readable_text_color(background: QColor) -> QColor:
    """Black on light class colours, white on dark ones (ITU-R BT.601 luma)."""
    luma = 0.299 * background.red() + 0.587 * background.green() + 0.114 * background.blue()
    return QColor("black") if luma > 150 else QColor("white")


class BoxLabelTag(QGraphicsItem):
    """The class name above a box's top-left corner, the same size on screen at every zoom."""

    PADDING = 3.0

    def __init__(self, parent: QGraphicsItem):
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._text = ""
        self._color = QColor("white")
        self._font = QFont()
        self._font.setPointSizeF(9)

    def set_text(self, text: str, color: QColor) -> None:
        self.prepareGeometryChange()
        self._text = text
        self._color = QColor(color)
        self.update()

    def text(self) -> str:
        return self._text

    def boundingRect(self) -> QRectF:
        metrics = QFontMetricsF(self._font)
        width = metrics.horizontalAdvance(self._text) + 2 * self.PADDING
        height = metrics.height() + self.PADDING
        return QRectF(0, -height, width, height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        rect = self.boundingRect()
        painter.fillRect(rect, self._color)
        painter.setPen(readable_text_color(self._color))
        painter.setFont(self._font)
        painter.drawText(rect.adjusted(self.PADDING, 0, -self.PADDING, 0),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self._text)


class BoxItem(QGraphicsRectItem):
    """One :class:`Box` on the canvas. ``item.box`` is the record it mirrors."""

    def __init__(self, box: Box):
        super().__init__()
        self.box = box
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self._color = QColor("red")
        self._scene_per_pixel = 1.0  # scene units per screen pixel, set by the canvas when it zooms
        self._tag = BoxLabelTag(self)

    def show_box(self, color: str, text: str) -> None:
        """Mirror ``self.box`` (after an edit of the record) in the given class colour and tag text."""
        self._color = QColor(color)
        self.set_preview_rect(box_rect(self.box))
        self._tag.set_text(text, self._color)
        self.update()

    def set_preview_rect(self, rect: QRectF) -> None:
        """Show ``rect`` without touching the record (while a move or resize is being dragged)."""
        self.prepareGeometryChange()
        self.setRect(rect)
        self._place_tag()

    def _place_tag(self) -> None:
        """Above the top-left corner; inside the box when it touches the image top, to stay in view."""
        rect, tag_height = self.rect(), self._tag.boundingRect().height() * self._scene_per_pixel
        self._tag.setPos(rect.left(), rect.top() + (tag_height if rect.top() < tag_height else 0))

    def tag_text(self) -> str:
        return self._tag.text()

    def set_scene_per_pixel(self, value: float) -> None:
        self.prepareGeometryChange()
        self._scene_per_pixel = value
        self._place_tag()

    def boundingRect(self) -> QRectF:
        margin = HANDLE_PX * self._scene_per_pixel
        return self.rect().adjusted(-margin, -margin, margin, margin)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pen = QPen(self._color, 3 if self.isSelected() else 2)
        pen.setCosmetic(True)  # line width in screen pixels, not image pixels
        if self.box.difficult:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        fill = QColor(self._color)
        fill.setAlpha(60 if self.isSelected() else 0)
        painter.setBrush(QBrush(fill))
        painter.drawRect(self.rect())
        if self.isSelected():
            self._paint_handles(painter)

    def _paint_handles(self, painter: QPainter) -> None:
        half = HANDLE_PX * self._scene_per_pixel / 2
        outline = QPen(QColor("black"), 1)
        outline.setCosmetic(True)
        painter.setPen(outline)
        painter.setBrush(QBrush(QColor("white")))
        for point in handle_points(self.rect()).values():
            painter.drawRect(QRectF(point.x() - half, point.y() - half, 2 * half, 2 * half))
