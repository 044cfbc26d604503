"""The training thread: carries out a run planned by :func:`engine.training.plan.plan_run` (builds its datasets and
model, runs its trainer, writes its config.json), reports by signals.

It is a :class:`resyolo_gui.worker.Worker`: a run that finished or was stopped is ``succeeded(RunOutcome)``, one
that failed in any way (diverged, out of GPU memory, refused by the set-up, any other error) is ``failed(message)``
with :attr:`TrainingWorker.outcome` holding its checkpoints; the thread never dies with an uncaught exception.
Nothing here touches a widget. The trainer's typed events (:mod:`engine.training.events`) are queued to the GUI
thread as they are; batch events in groups, at most one signal per ``BATCH_EMIT_S``, so a fast loop cannot flood
the GUI's event queue.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Signal

from engine.training.events import BatchEnd, Event, RunPrepared
from engine.training.plan import RunPlan
from resyolo_gui.worker import Worker

log = logging.getLogger("resyolo")

BATCH_EMIT_S = 0.05


@dataclass
class TrainingJob:
    """Everything the thread needs: the run's plan (copies of the labels: the GUI may go on editing its own)."""
    plan: RunPlan
    threads: int = max(1, (os.cpu_count() or 2) - 1)  # one core left for the GUI thread

    @property
    def out_dir(self) -> Path:
        return self.plan.out


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, for the panel and for features that list runs (``TrainingFeature.run_finished``)."""
    status: str  # "finished" | "stopped" | "failed"
    message: str
    out_dir: Path
    epochs_done: int = 0
    best_metric: float = -1.0
    last_checkpoint: Path | None = None
    best_checkpoint: Path | None = None

    @property
    def kept_checkpoint(self) -> Path | None:
        return self.best_checkpoint or self.last_checkpoint


class RunFailed(Exception):
    """The run ended as failed; its message is the user's, its outcome is on the worker."""


class TrainingWorker(Worker):
    event = Signal(object)  # RunPrepared, TrainStart, EpochEnd, ValidationEnd, TrainEnd (engine.training.events)
    batches = Signal(list)  # BatchEnd events, in order, grouped

    what = "Training"
    expected_errors = (RunFailed,)

    def __init__(self, job: TrainingJob, parent=None):
        super().__init__(parent)
        self.job = job
        self.trainer = None
        self.outcome: RunOutcome | None = None  # set before succeeded / failed is sent
        self._stop = threading.Event()
        self._pending: list[BatchEnd] = []
        self._pending_lock = threading.Lock()
        self._last_emit = 0.0
        self._recording = False  # config.json is written from the moment the run folder is made

    # ---- control, called from the GUI thread ----------------------------------------------------------------
    def request_stop(self) -> None:
        """Stop after the current batch, keeping a checkpoint; before the trainer exists: do not start it."""
        self._stop.set()
        trainer = self.trainer  # read once: the thread drops it when the run ends
        if trainer is not None:
            trainer.request_stop()

    def pause(self) -> None:
        trainer = self.trainer
        if trainer is not None:
            trainer.pause()
        self._flush()  # the batches done so far, shown while paused

    def resume(self) -> None:
        trainer = self.trainer
        if trainer is not None:
            trainer.resume()

    @property
    def paused(self) -> bool:
        trainer = self.trainer
        return trainer is not None and trainer.paused

    def stop(self) -> None:
        self.request_stop()

    # ---- the thread ---------------------------------------------------------------------------------------
    def work(self) -> RunOutcome:
        import torch

        threads_before = torch.get_num_threads()
        torch.set_num_threads(max(1, self.job.threads))
        outcome = RunOutcome("failed", "", self.job.out_dir)
        out_of_memory = False
        try:
            outcome = self._train()
        except torch.cuda.OutOfMemoryError:
            out_of_memory = True
            outcome = replace(outcome, message=(
                f"The GPU ran out of memory (batch {self.job.plan.train_config.batch_size}, "
                f"{self.job.plan.model_config.image_size} px). Try a smaller batch size or input size. {self._kept_note()}"))
        except Exception as error:  # noqa: BLE001 - any failure is reported to the user, never a dead thread
            from engine.training.setup import SetupError

            if isinstance(error, SetupError):
                outcome = replace(outcome, message=str(error))
            else:
                log.exception("training failed")
                outcome = replace(outcome, message=f"Training stopped by an error: {type(error).__name__}: {error}. "
                                                   f"{self._kept_note()}")
        finally:
            torch.set_num_threads(threads_before)
            self._flush()
            self.trainer = None  # its model and optimiser: freed before the next run
        if out_of_memory:
            self._free_gpu_memory()
        if outcome.status == "failed" and outcome.last_checkpoint is None:
            last = self.job.out_dir / "last.pt"
            outcome = replace(outcome, last_checkpoint=last if last.is_file() else None)
        self.outcome = self._record_outcome(outcome)
        if self.outcome.status == "failed":
            raise RunFailed(self.outcome.message)
        return self.outcome

    def _train(self) -> RunOutcome:
        plan = self.job.plan
        built = plan.build()
        self.event.emit(RunPrepared(len(built.train_set), len(built.val_set) if built.val_set else 0,
                                    built.weights.source, built.weights.message,
                                    str(plan.resume) if plan.resume else None, plan.epochs_done))
        plan.prepare_folder()
        # A new run's folder is its from now on (a failure is recorded in it); a resumed run's config.json is
        # only rewritten once its checkpoint has been taken up.
        self._recording = plan.resume is None
        self.trainer = plan.make_trainer(built, callbacks=[self._on_trainer_event])
        plan.record(built=built)
        self._recording = True
        if self._stop.is_set():  # stop asked while setting up: one batch, then a checkpoint
            self.trainer.request_stop()
        result = self.trainer.fit()
        last = result.last_checkpoint
        return RunOutcome(result.status, result.message, plan.out, result.epochs_done, result.best_metric,
                          last if last and last.is_file() else None, result.best_checkpoint)

    def _on_trainer_event(self, event: Event) -> None:
        """On the training thread: must be quick (the trainer waits for it)."""
        if isinstance(event, BatchEnd):
            with self._pending_lock:
                self._pending.append(event)
            if time.monotonic() - self._last_emit >= BATCH_EMIT_S:
                self._flush()
            return
        self._flush()  # keep the order: a batch before the epoch it ends
        self.event.emit(event)

    def _flush(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, []
            self._last_emit = time.monotonic()
        if pending:
            self.batches.emit(pending)

    # ---- the run's record ------------------------------------------------------------------------------------
    def _record_outcome(self, outcome: RunOutcome) -> RunOutcome:
        if not self._recording:  # refused before its folder was made: nothing to record
            return outcome
        try:
            self.job.plan.record(outcome.status, outcome.message)
        except OSError as error:
            return replace(outcome, message=f"{outcome.message} (could not update "
                                            f"{self.job.out_dir / 'config.json'}: {error})")
        return outcome

    def _kept_note(self) -> str:
        last = self.job.out_dir / "last.pt"
        return f"The last checkpoint is kept: {last}." if last.is_file() else "No checkpoint was saved yet."

    @staticmethod
    def _free_gpu_memory() -> None:
        import gc

        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
