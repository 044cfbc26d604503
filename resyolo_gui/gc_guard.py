"""Run Python's cyclic garbage collector on the GUI thread only.

Automatic collection runs in whichever thread happens to allocate. When that is a worker thread (the trainer
allocates a lot), it can collect Qt wrappers that sit in reference cycles and destroy their QObjects there:
Qt objects must die on their own thread, and PySide6 then deadlocks (the worker waits for the GIL inside
~QObject while the GUI thread waits for a Qt lock the worker holds). We saw exactly that in the training-panel
test. So automatic collection is switched off, and a timer on the GUI thread collects instead, with the same
generation thresholds Python would use.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500


class MainThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds, as Python would."""
        counts = gc.get_count()
        if counts[0] <= self.threshold[0]:
            return
        if counts[1] > self.threshold[1]:
            gc.collect(2 if counts[2] > self.threshold[2] else 1)
        else:
            gc.collect(0)


_installed: MainThreadGarbageCollector | None = None


def collect_garbage_on_gui_thread(app: QObject) -> MainThreadGarbageCollector:
    """Install once per process, owned by the QApplication (call from the GUI thread)."""
    global _installed
    if _installed is None:
        _installed = MainThreadGarbageCollector(app)
    return _installed
