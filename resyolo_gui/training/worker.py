"""The training thread: builds the datasets and model, runs :class:`engine.training.trainer.Trainer`, reports by signals.

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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from engine.annotations.records import ImageAnnotation
from engine.model.config import DEFAULT_HEAD

log = logging.getLogger("resyolo")

BATCH_EMIT_S = 0.05


@dataclass
class TrainingJob:
    """Everything the thread needs, as plain values and copies: the GUI may change its own state meanwhile."""
    out_dir: Path
    train: list[ImageAnnotation]
    val: list[ImageAnnotation]
    class_names: list[str]
    data_record: dict
    backbone: str = "resnet50"
    image_size: int = 448
    weights: str = "imagenet"  # "imagenet", "none" or a checkpoint path
    settings: dict = field(default_factory=dict)  # preset and TrainConfig overrides: epochs, batch_size, lr, ...
    head: str = DEFAULT_HEAD
    threads: int = max(1, (os.cpu_count() or 2) - 1)  # one core left for the GUI thread


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
        self._config_args: tuple | None = None

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
                f"The GPU ran out of memory (batch {self.job.settings.get('batch_size')}, "
                f"{self.job.image_size} px). Try a smaller batch size or input size. {self._kept_note()}")
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
        from engine.annotations.records import LabelSet
        from engine.training.trainer import Trainer
        from engine.training.setup import (TrainingData, build_datasets, build_model_config, build_train_config,
                                           prepare_model)

        job = self.job
        data = TrainingData(job.train, job.val, LabelSet(list(job.class_names)))
        train_config = build_train_config(**job.settings)
        train_set, val_set = build_datasets(data, job.image_size, train_config.augmentation())
        model_config = build_model_config(job.backbone, job.image_size, len(job.class_names), head=job.head)
        model, report = prepare_model(model_config, job.weights)
        self.event.emit("setup", {"weights_source": report.source, "weights_message": report.message,
                                  "train_images": len(train_set), "val_images": len(val_set) if val_set else 0})
        self._config_args = (model_config, train_config, job.class_names, job.data_record, job.weights,
                             {"started": datetime.now().isoformat(timespec="seconds"),
                              "weights_loaded": report.message, "app": "resyolo_gui"})
        job.out_dir.mkdir(parents=True, exist_ok=True)
        self._write_config({"status": "running"})
        self.trainer = Trainer(model, job.class_names, train_set, val_set, train_config, job.out_dir,
                               callbacks=[self._on_trainer_event])
        if self._stop.is_set():  # stop asked while setting up: one batch, then a checkpoint
            self.trainer.request_stop()
        result = self.trainer.fit()
        return {"status": result.status, "message": result.message, "epochs_done": result.epochs_done,
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
    def _write_config(self, extra: dict) -> None:
        from engine.training.setup import write_run_config

        if self._config_args is None:
            return
        model_config, train_config, class_names, data, weights, base_extra = self._config_args
        write_run_config(self.job.out_dir, model_config, train_config, class_names, data, weights,
                         {**base_extra, **extra})

    def _record_outcome(self, outcome: dict) -> None:
        try:
            self._write_config({"status": outcome["status"], "message": outcome["message"],
                                "ended": datetime.now().isoformat(timespec="seconds")})
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
