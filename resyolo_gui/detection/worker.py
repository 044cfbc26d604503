"""Running the detector off the GUI thread: one image (proposals) or many (auto-labelling a folder).

The worker only computes raw network outputs (:func:`engine.inference.autolabel.raw_outputs`); decoding them into
proposals happens on the GUI thread, where the thresholds live, so slider moves never need the network.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal

from engine.inference.autolabel import raw_outputs
from engine.model.checkpoint import CheckpointError
from resyolo_gui.worker import Worker

BATCH_SIZE = 4


class DetectionWorker(Worker):
    """``result`` per image, ``progress`` (images done, in all); ``failed`` names the file when the model could
    not be loaded or run; ``succeeded(None)`` when every image (or, after ``stop()``, every image before it) is done."""

    detector_loaded = Signal(object)  # the Detector built from the checkpoint (kept by the caller for next time)
    result = Signal(object)  # engine.inference.autolabel.RawResult, one per image, in order
    expected_errors = (CheckpointError,)

    def __init__(self, checkpoint: Path, detector, paths: list[Path], parent=None):
        super().__init__(parent)
        self.checkpoint, self.detector, self.paths = Path(checkpoint), detector, list(paths)
        self.what = f"Detection with {self.checkpoint}"

    def cancel(self) -> None:
        """Stop after the current batch; what was done stays."""
        self.stop()

    def work(self) -> None:
        from engine.inference.loading import load_detector  # deferred: torch model code is only needed once detection starts

        if self.detector is None:
            self.detector = load_detector(self.checkpoint)
            self.detector_loaded.emit(self.detector)
        total = len(self.paths)
        for done, raw in enumerate(raw_outputs(self.detector, self.paths, BATCH_SIZE, should_stop=self.should_stop),
                                   start=1):
            self.result.emit(raw)
            self.progress.emit(done, total)
