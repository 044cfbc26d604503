"""The detection pass of an evaluation, off the GUI thread: load the checkpoint, detect on every image with
progress, then score. Stoppable between batches."""
from __future__ import annotations

from pathlib import Path

from engine.inference import scoring
from resyolo_gui.worker import Stopped, Worker


class EvaluationThread(Worker):
    """``succeeded(scoring.Evaluation)``; ``failed("Stopped.")`` after ``cancel()``."""

    what = "Evaluation"
    expected_errors = (OSError, ValueError)  # CheckpointError is a ValueError; its message names the file

    def __init__(self, checkpoint: Path, images: list, note: str, score_threshold: float, parent=None):
        super().__init__(parent)
        self.checkpoint, self.images, self.note = Path(checkpoint), list(images), note
        self.score_threshold = score_threshold

    def cancel(self) -> None:
        self.stop()

    def work(self):
        paths = [Path(ann.image_path) for ann in self.images]
        names, results = scoring.run_detection(self.checkpoint, paths, self.progress.emit, self.should_stop)
        if self.should_stop():
            raise Stopped("Stopped.")
        evaluation = scoring.collect(self.checkpoint, self.images, names, results, [f"Judged on {self.note}."])
        return scoring.score(evaluation, self.score_threshold)
