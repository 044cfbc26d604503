"""The training thread: carries out a run planned by :func:`engine.training.plan.plan_run` (builds its datasets and
model, runs its trainer, writes its config.json), reports by signals.

Nothing here touches a widget. The trainer's events become Qt signals carrying plain dicts of numbers, queued
to the GUI thread. Batch events are sent in groups, at most one signal per ``BATCH_EMIT_S``, so a fast loop
cannot flood the GUI's event queue. Every way a run can end (finished, stopped, diverged, out of GPU memory,
any other error) ends in one ``done`` signal: the thread never dies with an uncaught exception.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from engine.training.plan import RunPlan

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


class TrainingWorker(QThread):
    event = Signal(str, dict)  # "setup", "fit_start", "epoch_end", "eval_end", "fit_end" with the trainer's numbers
    batches = Signal(list)  # batch_end payloads, in order, grouped
    done = Signal(dict)  # status ("finished" | "stopped" | "failed"), message, out_dir, checkpoints, epochs_done

    def __init__(self, job: TrainingJob, parent=None):
        super().__init__(parent)
        self.job = job
        self.trainer = None
        self._stop = threading.Event()
        self._pending: list[dict] = []
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

    # ---- the thread ---------------------------------------------------------------------------------------
    def run(self) -> None:
        import torch

        threads_before = torch.get_num_threads()
        torch.set_num_threads(max(1, self.job.threads))
        outcome = {"status": "failed", "message": "", "out_dir": str(self.job.out_dir), "epochs_done": 0,
                   "last_checkpoint": None, "best_checkpoint": None}
        out_of_memory = False
        try:
            outcome.update(self._train())
        except torch.cuda.OutOfMemoryError:
            out_of_memory = True
            outcome["message"] = (
                f"The GPU ran out of memory (batch {self.job.plan.train_config.batch_size}, "
                f"{self.job.plan.model_config.image_size} px). Try a smaller batch size or input size. {self._kept_note()}")
        except Exception as error:  # noqa: BLE001 - any failure is reported to the user, never a dead thread
            from engine.training.setup import SetupError

            if isinstance(error, SetupError):
                outcome["message"] = str(error)
            else:
                log.exception("training failed")
                outcome["message"] = f"Training stopped by an error: {type(error).__name__}: {error}. {self._kept_note()}"
        finally:
            torch.set_num_threads(threads_before)
            self._flush()
            self.trainer = None  # its model and optimiser: freed before the next run
        if out_of_memory:
            self._free_gpu_memory()
        if outcome["status"] == "failed" and outcome["last_checkpoint"] is None:
            last = self.job.out_dir / "last.pt"
            outcome["last_checkpoint"] = str(last) if last.is_file() else None
        self._record_outcome(outcome)
        self.done.emit(outcome)

    def _train(self) -> dict:
        plan = self.job.plan
        built = plan.build()
        self.event.emit("setup", {"weights_source": built.weights.source, "weights_message": built.weights.message,
                                  "train_images": len(built.train_set),
                                  "val_images": len(built.val_set) if built.val_set else 0,
                                  "resumed_from": str(plan.resume) if plan.resume else None,
                                  "epochs_done": plan.epochs_done})
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
        return {"status": result.status, "message": result.message, "epochs_done": result.epochs_done,
                "out_dir": str(plan.out),
                "best_metric": result.best_metric,
                "last_checkpoint": str(result.last_checkpoint) if result.last_checkpoint and
                result.last_checkpoint.is_file() else None,
                "best_checkpoint": str(result.best_checkpoint) if result.best_checkpoint else None}

    def _on_trainer_event(self, name: str, payload: dict) -> None:
        """On the training thread: must be quick (the trainer waits for it)."""
        if name == "batch_end":
            with self._pending_lock:
                self._pending.append(dict(payload))
            if time.monotonic() - self._last_emit >= BATCH_EMIT_S:
                self._flush()
            return
        self._flush()  # keep the order: a batch before the epoch it ends
        self.event.emit(name, dict(payload))

    def _flush(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, []
            self._last_emit = time.monotonic()
        if pending:
            self.batches.emit(pending)

    # ---- the run's record ------------------------------------------------------------------------------------
    def _record_outcome(self, outcome: dict) -> None:
        if not self._recording:  # refused before its folder was made: nothing to record
            return
        try:
            self.job.plan.record(outcome["status"], outcome["message"])
        except OSError as error:
            outcome["message"] += f" (could not update {self.job.out_dir / 'config.json'}: {error})"

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
