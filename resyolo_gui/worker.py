"""The common base of the app's background threads: ``progress(done, total)``, ``succeeded(result)``,
``failed(message)``, and a stop request the job polls.

A subclass implements :meth:`Worker.work` and returns its result. An exception of ``expected_errors`` (errors
whose messages already name the file and the problem, e.g. ``CheckpointError``) is reported as its own message;
:class:`Stopped` (raised by the job when :meth:`should_stop`) with its reason; anything else as "<what> failed:
Type: message", with the traceback on stderr. A worker reports exactly one of succeeded / failed, never dies
silently, and ``QThread.finished`` follows either.
"""
from __future__ import annotations

import traceback

from PySide6.QtCore import QThread, Signal


class Stopped(Exception):
    """Raised by a job that was asked to stop; its message (e.g. "Stopped.") is what ``failed`` carries."""


class Worker(QThread):
    progress = Signal(int, int)  # units done, units in all
    succeeded = Signal(object)  # what work() returned
    failed = Signal(str)  # a message for the user, naming the file where there is one

    what = "The job"  # the start of an unexpected failure's message: "Evaluation", "Detection with x.pt"...
    expected_errors: tuple[type[BaseException], ...] = ()

    def work(self):
        raise NotImplementedError

    def run(self) -> None:
        try:
            result = self.work()
        except Stopped as stop:
            self.failed.emit(str(stop))
        except self.expected_errors as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a worker must report, never die silently
            traceback.print_exc()
            self.failed.emit(f"{self.what} failed: {type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(result)

    def stop(self) -> None:
        """Ask the job to stop at its next check; what it finished stays."""
        self.requestInterruption()

    def should_stop(self) -> bool:
        return self.isInterruptionRequested()
