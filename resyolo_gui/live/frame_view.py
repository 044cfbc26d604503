"""The live view's picture: the newest annotated frame, scaled to fit (aspect kept) as it is painted.

A QLabel would need a scaled QPixmap made for every frame (1.5 ms per 640 x 480 frame here); painting the
frame's QImage straight into the widget, in the 32-bit format the raster engine scales fastest, takes about
half of that, on the GUI thread, for every frame the model finishes.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

_BACKGROUND = QColor("#202020")
_TEXT = QColor("#d0d0d0")


class FrameView(QWidget):
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
        size = self._image.size().scaled(self.size(), Qt.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2, size.width(), size.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        if self._image is not None and not self._image.isNull():
            painter.setRenderHint(QPainter.SmoothPixmapTransform)
            painter.drawImage(self.image_rect(), self._image)
        elif self._message:
            painter.setPen(_TEXT)
            painter.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignCenter | Qt.TextWordWrap, self._message)
        painter.end()
