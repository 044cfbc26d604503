"""The detection pass of an evaluation, off the GUI thread: load the checkpoint, detect on every image with
progress, then score. Stoppable between batches."""
from __future__ import annotations

import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from engine.inference import scoring


class EvaluationThread(QThread):
    progress = Signal(int, int)  # images done, images in all
    succeeded = Signal(object)  # scoring.Evaluation
    failed = Signal(str)

    def __init__(self, checkpoint: Path, images: list, note: str, score_threshold: float, parent=None):
        super().__init__(parent)
        self.checkpoint, self.images, self.note = Path(checkpoint), list(images), note
        self.score_threshold = score_threshold
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            paths = [Path(ann.image_path) for ann in self.images]
            names, results = scoring.run_detection(self.checkpoint, paths, self.progress.emit, self._cancel.is_set)
            if self._cancel.is_set():
                self.failed.emit("Stopped.")
                return
            evaluation = scoring.collect(self.checkpoint, self.images, names, results, [f"Judged on {self.note}."])
            self.succeeded.emit(scoring.score(evaluation, self.score_threshold))
        except (OSError, ValueError) as exc:  # CheckpointError is a ValueError; its message names the file
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a worker must report, never die silently
            traceback.print_exc()
            self.failed.emit(f"Evaluation failed: {type(exc).__name__}: {exc}")
