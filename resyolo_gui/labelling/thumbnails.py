"""Browser thumbnails, made lazily off the GUI thread and only for the rows the list actually paints.

The list model asks :meth:`ThumbnailCache.get` while painting a row; a miss queues the path and
returns None (the row shows a placeholder) and ``ready(path)`` follows. The queue is served newest
first and kept short, so scrolling fast through 10,000 images decodes what is on screen now, not
everything that flew past. Thumbnails use Pillow's JPEG draft mode (decode at 1/8 scale) with the
EXIF orientation applied, like ``engine.io.images.read_image``.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

MAX_QUEUED = 256
MAX_CACHED = 4000


def make_thumbnail(path: str, size: int) -> QImage:
    """A QImage of at most ``size`` x ``size``; raises OSError / ValueError for an unreadable image."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at reduced scale, much faster
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        rgb = image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format_RGB888).copy()


class _Bridge(QObject):
    done = Signal(str, object)  # path, QImage or None (unreadable)


class _ThumbnailJob(QRunnable):
    def __init__(self, cache: "ThumbnailCache"):
        super().__init__()
        self.cache = cache

    def run(self) -> None:
        while (path := self.cache._next_queued()) is not None:
            try:
                image = make_thumbnail(path, self.cache.size)
            except Exception:  # unreadable: the row shows the broken-image icon, the canvas gives the reason
                image = None
            self.cache._bridge.done.emit(path, image)


class ThumbnailCache(QObject):
    ready = Signal(str)

    def __init__(self, size: int = 64, parent: QObject | None = None):
        super().__init__(parent)
        self.size = size
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # the displayed image's decode must not wait for thumbnails
        self._bridge = _Bridge(self)
        self._bridge.done.connect(self._on_done)
        self._pixmaps: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._queue: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._worker_running = False

    def get(self, path: Path | str) -> QPixmap | None:
        """The thumbnail if made (a null QPixmap if the image is unreadable); else None and one is queued."""
        key = str(path)
        if key in self._pixmaps:
            pixmap = self._pixmaps[key]
            return pixmap if pixmap is not None else QPixmap()
        with self._lock:
            self._queue.pop(key, None)
            self._queue[key] = None  # newest last; served first
            while len(self._queue) > MAX_QUEUED:
                self._queue.popitem(last=False)
            if not self._worker_running:
                self._worker_running = True
                self._pool.start(_ThumbnailJob(self))
        return None

    def forget(self, path: Path | str) -> None:
        self._pixmaps.pop(str(path), None)

    def wait_for_done(self, msecs: int = 30000) -> bool:
        return self._pool.waitForDone(msecs)

    def _next_queued(self) -> str | None:
        with self._lock:
            if not self._queue:
                self._worker_running = False
                return None
            return self._queue.popitem(last=True)[0]

    def _on_done(self, path: str, image: QImage | None) -> None:
        self._pixmaps[path] = QPixmap.fromImage(image) if image is not None else None
        while len(self._pixmaps) > MAX_CACHED:
            self._pixmaps.popitem(last=False)
        self.ready.emit(path)
