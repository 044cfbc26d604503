"""Decode images off the GUI thread, with a small cache and neighbour prefetch.

``engine.images.read_image`` does the decoding (EXIF orientation, gray/RGBA/16-bit), so the app
shows exactly what training sees. A huge image (20000 x 15000) decodes in a worker and the window
stays responsive; the cache is bounded by bytes, not by count, so such an image cannot pile up.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

CACHE_BYTES = 200 * 1024 * 1024  # ~5 decoded 4000x3000 photos: current, 2 ahead, 2 behind
# Longest side shown on screen. Bigger images are downscaled for display only: boxes stay in
# full-resolution pixels (the canvas scales the pixmap back up in its scene).
MAX_DISPLAY_SIDE = 8192


def display_copy(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` itself, or a copy downscaled so its longest side is :data:`MAX_DISPLAY_SIDE`."""
    height, width = rgb.shape[:2]
    scale = MAX_DISPLAY_SIDE / max(height, width)
    if scale >= 1:
        return rgb
    import cv2

    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


class _Bridge(QObject):
    # Emitted from a worker thread; Qt queues it to the loader's (GUI) thread.
    decoded = Signal(str, object, object, str)


class _DecodeJob(QRunnable):
    def __init__(self, path: str, bridge: _Bridge):
        super().__init__()
        self.path, self.bridge = path, bridge

    def run(self) -> None:
        from engine.images import ImageReadError, read_image

        full_size = (0, 0)
        try:
            rgb, message = read_image(self.path), ""
            full_size = (rgb.shape[1], rgb.shape[0])
            rgb = display_copy(rgb)
        except ImageReadError as exc:
            rgb, message = None, f"Cannot show {Path(self.path).name}: {exc.reason}"
        except MemoryError:
            rgb, message = None, f"Cannot show {Path(self.path).name}: not enough memory to decode it"
        except Exception as exc:  # an unexpected decoder failure must not kill the worker thread silently
            rgb, message = None, f"Cannot show {Path(self.path).name}: {type(exc).__name__}: {exc}"
        self.bridge.decoded.emit(self.path, rgb, full_size, message)


class ImageLoader(QObject):
    """``request(path)`` -> ``loaded(path, rgb | None, (full width, full height), message)``;
    ``prefetch(paths)`` warms the cache. ``rgb`` may be a downscaled display copy (see :func:`display_copy`)."""

    loaded = Signal(str, object, object, str)

    def __init__(self, parent: QObject | None = None, cache_bytes: int = CACHE_BYTES):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._bridge = _Bridge(self)
        self._bridge.decoded.connect(self._on_decoded)
        self._cache: OrderedDict[str, tuple[np.ndarray | None, tuple[int, int], str]] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._pending: set[str] = set()
        self._wanted: str | None = None

    def cached(self, path: Path | str) -> tuple[np.ndarray | None, tuple[int, int], str] | None:
        """The decoded image (or the reason it could not be) if in the cache, else None."""
        key = str(path)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        return None

    def request(self, path: Path | str) -> None:
        """Decode ``path`` for display; ``loaded`` follows (at once if cached)."""
        key = str(path)
        self._wanted = key
        hit = self.cached(key)
        if hit is not None:
            self.loaded.emit(key, *hit)
        elif key not in self._pending:
            self._start(key, priority=1)

    def prefetch(self, paths: list[Path | str]) -> None:
        for path in paths:
            key = str(path)
            if key not in self._cache and key not in self._pending:
                self._start(key, priority=0)

    def wait_for_done(self, msecs: int = 30000) -> bool:
        return self._pool.waitForDone(msecs)

    def clear(self) -> None:
        self._pool.clear()  # drops queued (not running) jobs
        self._cache.clear()
        self._wanted = None

    def _start(self, key: str, priority: int) -> None:
        self._pending.add(key)
        self._pool.start(_DecodeJob(key, self._bridge), priority)

    def _on_decoded(self, key: str, rgb: np.ndarray | None, full_size: tuple[int, int], message: str) -> None:
        self._pending.discard(key)
        self._cache[key] = (rgb, full_size, message)
        self._cache.move_to_end(key)
        self._evict(keep=self._wanted)
        if key == self._wanted:
            self.loaded.emit(key, rgb, full_size, message)

    def _evict(self, keep: str | None) -> None:
        def size() -> int:
            return sum(entry[0].nbytes for entry in self._cache.values() if entry[0] is not None)

        while len(self._cache) > 1 and size() > self._cache_bytes:
            oldest = next(k for k in self._cache if k != keep)
            del self._cache[oldest]
