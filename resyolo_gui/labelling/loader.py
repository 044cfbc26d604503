"""Decode images off the GUI thread, with a small cache and neighbour prefetch.

``engine.io.images`` does the decoding (EXIF orientation, gray/RGBA/16-bit), so the app shows exactly
what training sees. The worker also turns the pixels into a ``Format_RGB32`` QImage, the format a
QPixmap uses, so that showing a 12-megapixel photo costs the GUI thread next to nothing (it used to
spend 60-90 ms converting). A huge image (20000 x 15000) decodes in a worker and the window stays
responsive; the cache is bounded by bytes, not by count, so such an image cannot pile up.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

CACHE_BYTES = 200 * 1024 * 1024  # 4 decoded 4000x3000 photos (48 MB each as RGB32): current, 2 ahead, 1 behind
# Longest side shown on screen. Bigger images are downscaled for display only: boxes stay in
# full-resolution pixels (the canvas scales the pixmap back up in its scene).
MAX_DISPLAY_SIDE = 8192
JPEG_SUFFIXES = (".jpg", ".jpeg")  # decoders with DCT scaling: a reduced decode is several times quicker


def display_copy(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` itself, or a copy downscaled so its longest side is :data:`MAX_DISPLAY_SIDE`."""
    height, width = rgb.shape[:2]
    scale = MAX_DISPLAY_SIDE / max(height, width)
    if scale >= 1:
        return rgb
    import cv2

    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def decode_for_display(path: Path | str) -> tuple[QImage, tuple[int, int]]:
    """The image as a QImage for the canvas, and its full upright ``(width, height)``.

    An image larger than :data:`MAX_DISPLAY_SIDE` is shown downscaled; a JPEG is then decoded at 1/2,
    1/4 or 1/8 scale directly (libjpeg's DCT scaling), which for a 20000 x 15000 photo is several
    times faster and a quarter of the memory. Raises ``ImageReadError`` / ``MemoryError``.
    """
    from engine.io.images import read_image, read_image_reduced, read_image_size
    from resyolo_gui.canvas.image_view import rgb_to_qimage

    width, height = read_image_size(path)
    scale = MAX_DISPLAY_SIDE / max(width, height)
    if scale < 1:
        rgb, full_size = read_image_reduced(path, math.ceil(width * scale), math.ceil(height * scale))
        rgb = display_copy(rgb)
    else:
        rgb = read_image(path)
        full_size = (rgb.shape[1], rgb.shape[0])
    return rgb_to_qimage(rgb), full_size


def decode_preview(path: Path | str, min_size: tuple[int, int]) -> tuple[QImage, tuple[int, int]] | None:
    """A quick, reduced decode of a JPEG at least twice ``min_size`` (width, height): each side stays at least
    ``min_size``, so a window of that many device pixels shows it as sharp as the full image when fitted.
    None when no such shortcut exists (not a JPEG, or not that large): the full decode is as quick."""
    from engine.io.images import read_image_reduced, read_image_size
    from resyolo_gui.canvas.image_view import rgb_to_qimage

    if Path(path).suffix.lower() not in JPEG_SUFFIXES:
        return None
    width, height = read_image_size(path)
    min_width, min_height = max(min_size[0], 1), max(min_size[1], 1)
    if width < 2 * min_width or height < 2 * min_height:
        return None
    rgb, full_size = read_image_reduced(path, min_width, min_height)
    return rgb_to_qimage(display_copy(rgb)), full_size


class _Bridge(QObject):
    # Emitted from a worker thread; Qt queues them to the loader's (GUI) thread.
    decoded = Signal(str, object, object, str)
    preview_decoded = Signal(str, object, object)


class _DecodeJob(QRunnable):
    def __init__(self, path: str, bridge: _Bridge, preview_size: tuple[int, int] | None = None):
        super().__init__()
        self.path, self.bridge, self.preview_size = path, bridge, preview_size

    def run(self) -> None:
        from engine.io.images import ImageReadError

        full_size = (0, 0)
        try:
            if self.preview_size is not None:
                preview = decode_preview(self.path, self.preview_size)
                if preview is not None:
                    self.bridge.preview_decoded.emit(self.path, *preview)
            (image, full_size), message = decode_for_display(self.path), ""
        except ImageReadError as exc:
            image, message = None, f"Cannot show {Path(self.path).name}: {exc.reason}"
        except MemoryError:
            image, message = None, f"Cannot show {Path(self.path).name}: not enough memory to decode it"
        except Exception as exc:  # an unexpected decoder failure must not kill the worker thread silently
            image, message = None, f"Cannot show {Path(self.path).name}: {type(exc).__name__}: {exc}"
        self.bridge.decoded.emit(self.path, image, full_size, message)


class ImageLoader(QObject):
    """``request(path)`` -> ``loaded(path, image: QImage | None, (full width, full height), message)``;
    ``prefetch(paths)`` warms the cache. ``image`` may be a downscaled display copy (see :func:`display_copy`).

    ``request(path, preview_size)`` of an image not in the cache may first emit ``preview_loaded(path,
    image, full size)``: a reduced decode, sharp at ``preview_size`` device pixels, shown while the
    full-resolution one (for zooming in) is still decoding. Only ``loaded`` images are cached.
    """

    loaded = Signal(str, object, object, str)
    preview_loaded = Signal(str, object, object)

    def __init__(self, parent: QObject | None = None, cache_bytes: int = CACHE_BYTES):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._bridge = _Bridge(self)
        self._bridge.decoded.connect(self._on_decoded)
        self._bridge.preview_decoded.connect(self._on_preview_decoded)
        self._cache: OrderedDict[str, tuple[QImage | None, tuple[int, int], str]] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._pending: set[str] = set()
        self._wanted: str | None = None
        # Prefetch waits until the wanted image is decoded: on two cores, a neighbour decoding beside it
        # would roughly double the time to show the image the user is waiting for.
        self._prefetch_queue: list[str] = []

    def cached(self, path: Path | str) -> tuple[QImage | None, tuple[int, int], str] | None:
        """The decoded image (or the reason it could not be) if in the cache, else None."""
        key = str(path)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        return None

    def request(self, path: Path | str, preview_size: tuple[int, int] | None = None) -> None:
        """Decode ``path`` for display; ``loaded`` follows (at once if cached), maybe after ``preview_loaded``."""
        key = str(path)
        self._wanted = key
        hit = self.cached(key)
        if hit is not None:
            self.loaded.emit(key, *hit)
        elif key not in self._pending:
            self._start(key, priority=1, preview_size=preview_size)

    def prefetch(self, paths: list[Path | str]) -> None:
        """Decode ``paths`` into the cache (replacing an earlier wish list) once the wanted image is in."""
        self._prefetch_queue = [str(path) for path in paths]
        if self._wanted not in self._pending:
            self._start_prefetch()

    def wait_for_done(self, msecs: int = 30000) -> bool:
        return self._pool.waitForDone(msecs)

    def clear(self) -> None:
        self._pool.clear()  # drops queued (not running) jobs
        self._pending.clear()  # a dropped job must not block a later request of its image
        self._cache.clear()
        self._wanted = None
        self._prefetch_queue = []

    def _start(self, key: str, priority: int, preview_size: tuple[int, int] | None = None) -> None:
        self._pending.add(key)
        self._pool.start(_DecodeJob(key, self._bridge, preview_size), priority)

    def _start_prefetch(self) -> None:
        queue, self._prefetch_queue = self._prefetch_queue, []
        for key in queue:
            if key not in self._cache and key not in self._pending:
                self._start(key, priority=0)

    def _on_decoded(self, key: str, image: QImage | None, full_size: tuple[int, int], message: str) -> None:
        self._pending.discard(key)
        self._cache[key] = (image, full_size, message)
        self._cache.move_to_end(key)
        self._evict(keep=self._wanted)
        if key == self._wanted:
            self.loaded.emit(key, image, full_size, message)
            self._start_prefetch()

    def _on_preview_decoded(self, key: str, image: QImage, full_size: tuple[int, int]) -> None:
        if key == self._wanted:
            self.preview_loaded.emit(key, image, full_size)

    def _evict(self, keep: str | None) -> None:
        def size() -> int:
            return sum(entry[0].sizeInBytes() for entry in self._cache.values() if entry[0] is not None)

        while len(self._cache) > 1 and size() > self._cache_bytes:
            oldest = next(k for k in self._cache if k != keep)
            del self._cache[oldest]
