"""A zoomable, pannable view of one image whose scene coordinates are full-resolution image pixels.

The displayed pixmap may be a downscaled copy of a huge image (``display_scale`` < 1); it is scaled
back up in the scene, so everything drawn on top (boxes, detections) uses the image's own pixels.
Knows nothing about annotations: the labelling canvas and a detection viewer can both build on it.
"""
from __future__ import annotations

import sys

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (QColor, QFont, QImage, QMouseEvent, QPainter, QPixmap, QTextOption, QTransform,
                           QWheelEvent)
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

ZOOM_STEP = 1.25  # per wheel notch
MIN_ZOOM, MAX_ZOOM = 0.01, 50.0


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """An independent ``Format_RGB32`` QImage of an ``H x W x 3`` uint8 RGB array.

    RGB32 is the pixel format of a QPixmap on every raster backend, so ``QPixmap.fromImage`` of the
    result shares its pixels instead of converting them (about 30 ms for 12 megapixels otherwise).
    The loader calls this in its worker thread, which leaves the GUI thread almost nothing to do.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 RGB array, got shape {rgb.shape} dtype {rgb.dtype}")
    height, width = rgb.shape[:2]
    if sys.byteorder != "little":  # RGB32 is 0xffRRGGBB words; the byte shuffle below assumes BGRA order
        rgb = np.ascontiguousarray(rgb)
        packed = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        return packed.convertToFormat(QImage.Format.Format_RGB32)
    import cv2

    image = QImage(width, height, QImage.Format.Format_RGB32)
    if image.isNull():
        raise MemoryError(f"cannot allocate a {width} x {height} image")
    pixels = np.ndarray((height, width, 4), np.uint8, buffer=image.bits(), strides=(image.bytesPerLine(), 4, 1))
    cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA, dst=pixels)  # writes straight into the QImage's memory
    return image


class ImageView(QGraphicsView):
    zoom_changed = Signal(float)
    cursor_moved = Signal(float, float)  # image pixels under the mouse
    space_tapped = Signal()  # Space pressed and released without panning (the window may bind it)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)  # zoom anchors itself
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(QColor(60, 60, 60))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pixmap_item: QGraphicsPixmapItem | None = None
        self._image_rect = QRectF()
        self._fit_mode = True  # keep fitting to the window as it resizes, until the user zooms
        self._space_held = False
        self._panned_while_space_held = False
        self._pan_last: QPointF | None = None

    # ----------------------------------------------------------------- content
    def show_image(self, image: QImage | np.ndarray, full_size: tuple[int, int] | None = None) -> None:
        """Show ``image`` (a QImage, best ``Format_RGB32``, or an RGB array); ``full_size`` (width, height) is
        the original image's size when ``image`` is a downscaled copy of it. Clears everything else in the scene."""
        self.scene().clear()
        pixmap = QPixmap.fromImage(image if isinstance(image, QImage) else rgb_to_qimage(image))
        width, height = full_size if full_size and full_size[0] > 0 else (pixmap.width(), pixmap.height())
        self._pixmap_item = self.scene().addPixmap(pixmap)
        self._pixmap_item.setZValue(-1)
        self._pixmap_item.setTransform(QTransform.fromScale(width / pixmap.width(), height / pixmap.height()))
        self._image_rect = QRectF(0, 0, width, height)
        self.scene().setSceneRect(self._image_rect)
        self.fit_to_window()

    def replace_image(self, image: QImage | np.ndarray) -> None:
        """Swap the shown pixels for another rendition of the same image (the full-resolution decode
        after a quick preview), keeping zoom, scroll position and everything drawn on top."""
        if self._pixmap_item is None:
            return
        pixmap = QPixmap.fromImage(image if isinstance(image, QImage) else rgb_to_qimage(image))
        self._pixmap_item.setPixmap(pixmap)
        self._pixmap_item.setTransform(QTransform.fromScale(self._image_rect.width() / pixmap.width(),
                                                            self._image_rect.height() / pixmap.height()))
        self._zoom_applied()

    def show_message(self, message: str) -> None:
        """A placeholder instead of an image (e.g. why it could not be read)."""
        self.scene().clear()
        self._pixmap_item = None
        self._image_rect = QRectF()
        text = self.scene().addText(message)
        font = QFont()
        font.setPointSize(12)
        text.setFont(font)
        text.setDefaultTextColor(QColor(230, 230, 230))
        text.setTextWidth(480)
        text.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignCenter))
        self.scene().setSceneRect(text.sceneBoundingRect().adjusted(-20, -20, 20, 20))
        self.resetTransform()
        self.centerOn(text)

    def has_image(self) -> bool:
        return self._pixmap_item is not None

    def shown_size(self) -> tuple[int, int]:
        """Width and height of the pixels on screen: smaller than :meth:`image_rect` for a display copy."""
        if self._pixmap_item is None:
            return (0, 0)
        return self._pixmap_item.pixmap().width(), self._pixmap_item.pixmap().height()

    def image_rect(self) -> QRectF:
        """The image in scene coordinates: (0, 0, full width, full height)."""
        return QRectF(self._image_rect)

    # ----------------------------------------------------------------- zoom
    def zoom(self) -> float:
        """Screen pixels per full-resolution image pixel."""
        return self.transform().m11()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom so that the image point under ``anchor`` (viewport pixels; default its centre) stays put."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        anchor_point = QPoint(round(anchor.x()), round(anchor.y()))
        scene_anchor = self.mapToScene(anchor_point)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        drift = self.mapFromScene(scene_anchor) - anchor_point
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        self._fit_mode = False
        self._zoom_applied()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def actual_size(self) -> None:
        """1:1: one image pixel per screen pixel."""
        self.set_zoom(1.0)

    def fit_to_window(self) -> None:
        if self._image_rect.isEmpty():
            return
        self.fitInView(self._image_rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._fit_mode = True
        self._zoom_applied()

    def _zoom_applied(self) -> None:
        if self._pixmap_item is not None:
            # Smooth when shrinking; sharp pixels when zoomed in, so the labeller sees real edges.
            pixmap_zoom = self.zoom() * self._pixmap_item.transform().m11()
            mode = Qt.TransformationMode.SmoothTransformation if pixmap_zoom < 1 else \
                Qt.TransformationMode.FastTransformation
            self._pixmap_item.setTransformationMode(mode)
        self.zoom_changed.emit(self.zoom())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit_to_window()

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120
        if notches == 0 or not self.has_image():
            return
        self.set_zoom(self.zoom() * ZOOM_STEP ** notches, event.position())
        event.accept()

    # ----------------------------------------------------------------- panning (middle button, or space + drag)
    def is_panning(self) -> bool:
        return self._pan_last is not None

    def start_pan(self, event: QMouseEvent) -> bool:
        """Begin a pan if this press asks for one; True when it did."""
        wants_pan = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_held)
        if not wants_pan:
            return False
        self._pan_last = event.position()
        self._panned_while_space_held = self._space_held
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        return True

    def continue_pan(self, event: QMouseEvent) -> None:
        delta = event.position() - self._pan_last
        self._pan_last = event.position()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))

    def end_pan(self) -> None:
        self._pan_last = None
        self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.ArrowCursor)

    def event(self, event: QEvent) -> bool:
        # Space is ours while the view has focus (hold + drag pans), even if the window binds Space to
        # an action: a plain tap is passed on as ``space_tapped`` for the window to use.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Space \
                and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self._panned_while_space_held = False
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            if not self._panned_while_space_held:
                self.space_tapped.emit()
            return
        super().keyReleaseEvent(event)

    def scene_pos(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())
