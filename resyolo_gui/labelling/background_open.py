"""Opening a large folder: its first image on screen at once, every other label file read on a worker thread.

Reading 100,000 label files takes seconds. A folder of more than :data:`BACKGROUND_OPEN_IMAGES` images with one
label file per image is opened in two steps (:class:`engine.project.project.Opening`): the lock is taken and the
first image's labels read on the GUI thread, and that image is shown, boxes included, *view only* (a preview
project: nothing can be edited or saved, so nothing typed can be lost when the real project replaces it); the
whole folder is read on a worker thread meanwhile, then its project is opened in the window exactly as a small
folder's is (same class list, problems, fingerprints). The status bar says how far it is. A dataset file (COCO,
CVAT) is read whole before anything is shown: its first image is only known once the file is parsed.
"""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

BACKGROUND_OPEN_IMAGES = 5_000  # more images than this: first image first, the rest read in the background


class BackgroundOpen(QObject):
    """Runs :meth:`Opening.read` on a worker thread; ``read_done(token, loaded or exception)`` on the GUI thread."""

    read_done = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._token = 0
        self.opening = None  # the opening in flight, or None

    def start(self, opening) -> int:
        self.cancel()
        self._token += 1
        token, self.opening = self._token, opening

        def work():
            try:
                result = opening.read()
            except Exception as exc:  # handed to the GUI thread, which shows it
                result = exc
            try:
                self.read_done.emit(token, result)
            except RuntimeError:  # the window is gone (closed while this was read): nobody is waiting
                pass

        threading.Thread(target=work, name=f"read labels {Path(opening.folder).name}", daemon=True).start()
        return token

    def take(self, token: int):
        """The opening ``token`` belongs to, if it is still the one wanted (None: it was cancelled or replaced;
        its lock is then let go here)."""
        if token != self._token or self.opening is None:
            return None
        opening, self.opening = self.opening, None
        return opening

    def cancel(self) -> None:
        """Forget the opening in flight (another folder, the window closing): its lock is let go; what its
        worker reads is dropped when it arrives."""
        if self.opening is not None:
            self.opening.abandon()
            self.opening = None
        self._token += 1

    def pending(self) -> bool:
        return self.opening is not None
