"""The live view's picture: the newest annotated frame, fitted to the widget (aspect kept).

Qt holds Python's GIL while it scales or paints, and the GIL is what the model's streams need between operators.
So the stream that made a frame also fits it to the widget's size in pixels (:func:`frame_for_display`, OpenCV,
which lets go of the GIL, 0.5 ms for 640 x 480) and the GUI thread only copies it to the screen (0.25 ms).
Scaling with Qt at paint time would cost 0.9 ms there, and it is still what happens when the widget changed size
since the frame was made.
"""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

_BACKGROUND = QColor("#202020")
_TEXT = QColor("#d0d0d0")


def fit_for_display(picture: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """An RGB frame fitted (aspect kept) into ``size`` = (width, height) in device pixels; as it is without a size.
    The worker draws the boxes on this, so their tags have a screen size whatever the frame's resolution."""
    height, width = picture.shape[:2]
    if size is not None and size[0] > 0 and size[1] > 0:
        scale = min(size[0] / width, size[1] / height)
        fitted = (max(1, round(width * scale)), max(1, round(height * scale)))
        if fitted != (width, height):
            shrink = scale < 1
            picture = cv2.resize(picture, fitted, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return picture


def frame_for_display(picture: np.ndarray, size: tuple[int, int] | None, pixel_ratio: float = 1.0) -> QImage:
    """An RGB frame -> a QImage (holding its own pixels) in the 32-bit format Qt paints fastest, fitted (aspect
    kept) into ``size`` = (width, height) in device pixels when given. Called on a worker thread."""
    return to_qimage(fit_for_display(picture, size), pixel_ratio)


def to_qimage(picture: np.ndarray, pixel_ratio: float = 1.0) -> QImage:
    """An RGB picture -> a QImage of the same size in ``Format_RGB32``."""
    bgra = cv2.cvtColor(picture, cv2.COLOR_RGB2BGRA)  # Format_RGB32 is 0xffRRGGBB: B, G, R, A bytes in memory
    # No copy: given the array itself, PySide6 keeps a reference to it for as long as the QImage (or any Qt copy
    # of it) lives.
    image = QImage(bgra, bgra.shape[1], bgra.shape[0], bgra.strides[0], QImage.Format_RGB32)
    image.setDevicePixelRatio(pixel_ratio)
    return image


class FrameView(QWidget):
    resized = Signal()  # pixel_size() changed

    def __init__(self, message: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self._message = message
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)  # a frame never grows the window
        self.setAttribute(Qt.WA_OpaquePaintEvent)  # every pixel is painted: Qt need not clear first

    def image(self) -> QImage | None:
        """The frame shown now, or None while a message is shown."""
        return self._image

    def message(self) -> str:
        return self._message

    def pixel_size(self) -> tuple[int, int]:
        """The widget's size in device pixels: what :func:`frame_for_display` should fit frames into."""
        ratio = self.devicePixelRatioF()
        return round(self.width() * ratio), round(self.height() * ratio)

    def set_image(self, image: QImage) -> None:
        self._image = image
        self.update()

    def set_message(self, text: str) -> None:
        """Show ``text`` instead of a frame (before the first frame, or after a failure)."""
        self._image, self._message = None, text
        self.update()

    def image_rect(self) -> QRect:
        """Where the frame is painted: as large as fits, centred, aspect kept."""
        if self._image is None or self._image.isNull():
            return QRect()
        size = self._image.deviceIndependentSize().toSize().scaled(self.size(), Qt.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2, size.width(), size.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self._image is not None and not self._image.isNull():
            target = self.image_rect()
            for band in _bands_around(self.rect(), target):  # not under the frame: fewer pixels to fill
                painter.fillRect(band, _BACKGROUND)
            if target.size() == self._image.deviceIndependentSize().toSize():
                painter.drawImage(target.topLeft(), self._image)  # made to measure: a plain copy
            else:
                painter.setRenderHint(QPainter.SmoothPixmapTransform)
                painter.drawImage(target, self._image)
        else:
            painter.fillRect(self.rect(), _BACKGROUND)
        if self._image is None and self._message:
            painter.setPen(_TEXT)
            painter.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignCenter | Qt.TextWordWrap, self._message)
        painter.end()


def _bands_around(outer: QRect, inner: QRect) -> list[QRect]:
    """The parts of ``outer`` left and right of ``inner``, and above and below it."""
    return [r for r in (QRect(outer.left(), outer.top(), outer.width(), inner.top() - outer.top()),
                        QRect(outer.left(), inner.bottom() + 1, outer.width(), outer.bottom() - inner.bottom()),
                        QRect(outer.left(), inner.top(), inner.left() - outer.left(), inner.height()),
                        QRect(inner.right() + 1, inner.top(), outer.right() - inner.right(), inner.height()))
            if r.width() > 0 and r.height() > 0]
