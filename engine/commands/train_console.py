"""The terminal side of ``resyolo train``: a progress bar per epoch, a summary line per epoch, and Ctrl+C.

Both are trainer callbacks (``callback(event)``, the events of :mod:`engine.training.events`), called on rank 0 only.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import time

from tqdm import tqdm

from engine.model.components import ALL_COMPONENTS
from engine.training.events import BatchEnd, EpochEnd, Event, TrainEnd, TrainStart, ValidationEnd, result_row

SHORT_NAMES = {"regression": "box", "containment": "obj", "no_object": "noobj", "class": "cls", "iou": "ciou",
               "dfl": "dfl"}
REPEAT_WINDOW_S = 2.0  # a second SIGINT within this is the same Ctrl+C (torchrun forwards its own copy)


class EpochProgress:
    """tqdm bar with loss / lr / images per second while an epoch runs; then one line:
    ``epoch 3/80  loss 1.234 (box .. obj .. noobj .. cls ..)  mAP50 0.512 mAP 0.301  41.2 s  38.5 img/s``.
    The line of an evaluated epoch waits for its ``ValidationEnd`` so that it carries the mAP."""

    def __init__(self, epochs: int, world: int = 1, out=None):
        self.epochs, self.world = epochs, world
        self.out = out or sys.stdout
        self.bar: tqdm | None = None
        self.pending: EpochEnd | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrainStart):
            self.epochs = event.epochs
            print(f"training epochs {event.start_epoch + 1}-{self.epochs}, {event.batches} batch(es) per epoch on "
                  f"{event.device}", file=self.out, flush=True)
        elif isinstance(event, BatchEnd):
            self._flush()
            self._update_bar(event)
        elif isinstance(event, EpochEnd):
            self._close_bar()
            self._flush()
            self.pending = event
        elif isinstance(event, ValidationEnd):
            self._flush(event)
        elif isinstance(event, TrainEnd):
            self.close()

    def close(self) -> None:
        self._close_bar()
        self._flush()

    def _update_bar(self, batch: BatchEnd) -> None:
        if self.bar is None:
            self.bar = tqdm(total=batch.batches, initial=batch.batch - 1, desc=f"epoch {batch.epoch}/{self.epochs}",
                            unit="batch", file=sys.stderr, dynamic_ncols=True, leave=False)
        self.bar.set_postfix_str(f"loss {batch.loss:.4g}, lr {batch.lr:.3g}, "
                                 f"{batch.images_per_s * self.world:.1f} img/s", refresh=False)
        self.bar.update(1)

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _flush(self, validation: ValidationEnd | None = None) -> None:
        if self.pending is None:
            return
        print(summary_line(result_row(self.pending, validation), self.epochs), file=self.out, flush=True)
        self.pending = None


def summary_line(row: dict, epochs: int) -> str:
    parts = ", ".join(f"{SHORT_NAMES[k]} {row[k]:.4g}" for k in ALL_COMPONENTS if k in row)
    line = f"epoch {int(row['epoch'])}/{epochs}  loss {row['loss']:.4g} ({parts})"
    if "map50" in row:
        line += f"  mAP50 {row['map50']:.4f} mAP {row['map']:.4f}"
        if "ema_map50" in row:
            line += f" (EMA: {row['ema_map50']:.4f} / {row['ema_map']:.4f})"
    return line + f"  {row['epoch_seconds']:.1f} s  {row['images_per_s']:.1f} img/s"


class StopOnCtrlC:
    """First Ctrl+C: ask the trainer to stop after the current batch (it saves ``last.pt``). A second one, later
    than :data:`REPEAT_WINDOW_S`: quit at once (KeyboardInterrupt).

    DataLoader workers must not see the terminal's SIGINT: a worker that gets it exits, and the next batch then
    fails instead of stopping cleanly. A spawned Python process keeps SIGINT ignored when it starts with it
    ignored, so SIGINT is ignored from ``TrainStart`` (just before the loader starts its workers) until the first
    ``BatchEnd`` (the workers are up and persist between epochs)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.trainer = None
        self.first_at: float | None = None
        self.installed_here = False

    @contextlib.contextmanager
    def installed(self, trainer):
        self.trainer = trainer
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self._handle)
        self.installed_here = True
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)
            self.installed_here = False

    def on_event(self, event: Event) -> None:
        if not self.installed_here:
            return
        if isinstance(event, TrainStart) and self.workers > 0:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        elif isinstance(event, (BatchEnd, TrainEnd)) and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        now = time.monotonic()
        if self.first_at is None:
            self.first_at = now
            self.trainer.request_stop()
            tqdm.write("Stopping after this batch and saving a checkpoint (Ctrl+C again to quit at once)...",
                       file=sys.stderr)
        elif now - self.first_at > REPEAT_WINDOW_S:
            raise KeyboardInterrupt
