"""The trainer: loop, EMA, validation, checkpoints, resume, stop/pause, and events for live charts.

Events are ``callback(event)`` calls with the typed payloads of :mod:`engine.training.events` (``TrainStart``,
``BatchEnd``, ``EpochEnd``, ``ValidationEnd``, ``TrainEnd``). A GUI turns them into signals; the CLI into a progress
bar. Callbacks run on the training thread and must be quick.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from engine.training import distributed as dist_utils
from engine.model.checkpoint import inference_weights, load_checkpoint, save_checkpoint, save_inference_checkpoint
from engine.data.dataset import DetectionDataset, make_dataloader
from engine.model.device import cpu_has_native_bf16, resolve_device
from engine.training.ema import ModelEMA
from engine.training.events import BatchEnd, Callback, EpochEnd, Event, TrainEnd, TrainStart, ValidationEnd, result_row
from engine.model.heads import build_loss
from engine.training.results_csv import read_results, write_results
from engine.training.schedule import lr_factor
from engine.training.config import TrainConfig
from engine.training.validation import evaluate_model, original_sizes

class TrainingError(RuntimeError):
    pass


@dataclass
class FitResult:
    status: str  # "finished", "stopped" or "failed"
    message: str
    epochs_done: int
    best_metric: float
    last_checkpoint: Path | None
    best_checkpoint: Path | None
    history: list[dict] = field(default_factory=list)


class Trainer:
    def __init__(self, model: torch.nn.Module, class_names: list[str], train_set: DetectionDataset,
                 val_set: DetectionDataset | None = None, config: TrainConfig | None = None,
                 out_dir: Path | str | None = None, callbacks: list[Callback] | None = None):
        self.config = config or TrainConfig()
        self.class_names = list(class_names)
        self.train_set, self.val_set = train_set, val_set
        self.out_dir = Path(out_dir) if out_dir else None
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        self.callbacks = list(callbacks or [])
        self.device = resolve_device(self.config.device)
        if dist_utils.launched_by_torchrun():
            self.device = dist_utils.init_distributed(self.device)
        # Channels-last: on the CPU, PyTorch's dilated convolutions of the neck are ~8x slower in NCHW.
        self.model = model.to(self.device, memory_format=torch.channels_last)
        self.loss_fn = build_loss(model.config, self.config.conf_target).to(self.device)
        self.components = tuple(self.loss_fn.components)
        self.optimizer = self._make_optimizer()
        self.ema = ModelEMA(model, self.config.ema_max_decay, self.config.ema_start_step, self.config.ema_every) if self.config.ema else None
        self.start_epoch, self.global_step, self.skip_batches = 0, 0, 0
        self.best_metric = -1.0
        self.history: list[dict] = []
        self._partial_epoch: dict | None = None  # loss sums of an epoch stopped midway
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.amp_dtype = None
        if self.device.type == "cuda" and self.config.amp:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        elif self.device.type == "cpu" and self.config.amp and cpu_has_native_bf16():
            self.amp_dtype = torch.bfloat16  # convolutions in bfloat16, ~2x faster there; the loss stays float32
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

    # ---- control, safe to call from another thread -------------------------------------------------------
    def request_stop(self) -> None:
        """Stop after the current batch, keeping a checkpoint."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # ---- set-up ------------------------------------------------------------------------------------------
    def _make_optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)  # no weight decay on BatchNorm and biases
        groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        if cfg.optimizer == "adamw":
            # On the CPU the fused kernel updates all tensors in one pass: ~3x faster than the per-tensor loop.
            return torch.optim.AdamW(groups, lr=cfg.lr, fused=self.device.type == "cpu" or None)
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)

    def load_resume_state(self, path: Path | str) -> None:
        """Continue the run saved in checkpoint ``path`` (weights, EMA, optimiser, step, history)."""
        state = load_checkpoint(path)
        if state["model_config"] != self.model.config or list(state["class_names"]) != self.class_names:
            raise TrainingError(f"{path} was trained with another model configuration or class list; cannot resume")
        if "optimizer" not in state:
            raise TrainingError(f"{path} holds no optimiser state (not a `last` checkpoint of a run); cannot resume")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"], int(state.get("ema_updates", 0)))
        self.start_epoch = int(state["epoch"])
        self.global_step = int(state.get("global_step", 0))
        self.skip_batches = int(state.get("batch_in_epoch", 0))
        self.best_metric = float(state.get("best_metric", -1.0))
        self._partial_epoch = state.get("partial_epoch")
        if self.out_dir:
            self.history = read_results(self.out_dir / "results.csv")[: self.start_epoch]

    def _statistics_overflowed(self) -> bool:
        """Whether a BatchNorm running mean or variance is inf or NaN: a diverging run shows it there first, often
        while its loss is still finite (train-mode BatchNorm normalises with the batch's own statistics). Cheap:
        a few thousand numbers."""
        for module in self.model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and module.running_var is not None:
                if not (torch.isfinite(module.running_var).all() and torch.isfinite(module.running_mean).all()):
                    return True
        return False

    def _emit(self, event: Event) -> None:
        if dist_utils.is_main_process():
            for callback in self.callbacks:
                callback(event)

    # ---- the loop ----------------------------------------------------------------------------------------
    def fit(self) -> FitResult:
        cfg = self.config
        model = self.model
        ddp, sampler = None, None
        if dist_utils.is_distributed():
            if self.device.type == "cuda":  # small per-process batches: normalise over all processes
                model = self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
            ddp = DistributedDataParallel(model)
            sampler = DistributedSampler(self.train_set, shuffle=True, seed=cfg.seed)
        per_process = len(self.train_set) // dist_utils.world_size()

        def new_loader():
            return make_dataloader(self.train_set, cfg.batch_size, shuffle=sampler is None, workers=cfg.workers,
                                   seed=cfg.seed, drop_last=per_process > cfg.batch_size,
                                   pin_memory=self.device.type == "cuda", sampler=sampler)

        mosaic_switch = getattr(self.train_set, "uses_mosaic", False)
        if mosaic_switch:
            self.train_set.mosaic_enabled = cfg.mosaic_on(self.start_epoch)
        loader = new_loader()
        steps_per_epoch = max(1, len(loader))
        scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda step: lr_factor(step, steps_per_epoch, cfg))
        if self.global_step:  # resuming: put the schedule where the run stopped
            scheduler.last_epoch = self.global_step
            factor = lr_factor(self.global_step, steps_per_epoch, cfg)
            for group, base_lr in zip(self.optimizer.param_groups, scheduler.base_lrs):
                group["lr"] = base_lr * factor
        val_sizes = original_sizes(self.val_set) if self.val_set is not None else None
        self._emit(TrainStart(cfg.epochs, self.start_epoch, steps_per_epoch, len(self.train_set), str(self.device)))
        status, message = "finished", f"trained {cfg.epochs} epochs"
        fit_start = time.perf_counter()
        steps_at_start = self.global_step
        epoch = self.start_epoch
        try:
            for epoch in range(self.start_epoch, cfg.epochs):
                torch.manual_seed(cfg.seed * 1000 + epoch)  # per-epoch randomness: a resumed run sees the same
                if sampler is not None:
                    sampler.set_epoch(epoch)
                else:
                    loader.generator.manual_seed(cfg.seed * 1000 + epoch)
                if mosaic_switch:  # the last epochs without mosaics (a flag the loader's workers share)
                    self.train_set.mosaic_enabled = cfg.mosaic_on(epoch)
                model.train()
                sums = {k: 0.0 for k in (*self.components, "total")}
                # The epoch's time starts once its loader runs: the workers' start (first epoch) is not an epoch's.
                batches = iter(loader)
                seen, epoch_start = 0, time.perf_counter()
                if self.skip_batches and self._partial_epoch:  # resuming mid-epoch: keep that epoch's sums
                    sums.update(self._partial_epoch["sums"])
                    seen = int(self._partial_epoch["seen"])
                for batch_index, (images, targets) in enumerate(batches):
                    if batch_index < self.skip_batches:
                        continue
                    self._running.wait()
                    images = images.to(self.device, non_blocking=True, memory_format=torch.channels_last)
                    targets = [{k: v.to(self.device) for k, v in t.items()} for t in targets]
                    with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
                        output = (ddp or model)(images)
                    parts = self.loss_fn(output.float(), targets)
                    if not torch.isfinite(parts["total"]) or self._statistics_overflowed():
                        finite = bool(torch.isfinite(parts["total"]))
                        what = "the BatchNorm statistics overflowed" if finite else f"the loss became {parts['total'].item()}"
                        raise TrainingError(
                            f"{what} at epoch {epoch + 1}, batch {batch_index + 1}; training stopped (try a lower "
                            "learning rate). The last good checkpoint is kept.")
                    self.optimizer.zero_grad(set_to_none=True)
                    self.scaler.scale(parts["total"]).backward()
                    if cfg.clip_grad_norm:
                        self.scaler.unscale_(self.optimizer)
                        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
                    self.scaler.step(self.optimizer)
                    self.scaler.update()
                    scheduler.step()
                    self.global_step += 1
                    if self.ema is not None:
                        self.ema.step(model, self.global_step)
                    values = {k: float(v.detach()) for k, v in parts.items()}
                    for k in sums:
                        sums[k] += values[k] * len(images)
                    seen += len(images)
                    elapsed = time.perf_counter() - fit_start
                    done = self.global_step - steps_at_start
                    remaining = (cfg.epochs - epoch) * steps_per_epoch - batch_index - 1
                    self._emit(BatchEnd(
                        epoch + 1, batch_index + 1, steps_per_epoch, self.global_step,
                        lr=self.optimizer.param_groups[0]["lr"], loss=values["total"],
                        images_per_s=seen / max(1e-9, time.perf_counter() - epoch_start),
                        eta_s=elapsed / max(1, done) * remaining,
                        components={k: values[k] for k in self.components}))
                    stopping = dist_utils.broadcast_flag(self._stop.is_set())
                    if stopping and batch_index + 1 < steps_per_epoch:  # on the last batch: end the epoch first
                        self._partial_epoch = {"sums": dict(sums), "seen": seen}
                        self._save_last(epoch, batch_index + 1)
                        raise _Stopped(f"stopped by request at epoch {epoch + 1}, batch {batch_index + 1}")
                self.skip_batches = 0
                ended = self._end_epoch(epoch, sums, seen, time.perf_counter() - epoch_start)
                validation, candidate = None, None
                if self.val_set is not None and ((epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs):
                    validation, candidate = self._evaluate(epoch, val_sizes)
                self._save_epoch(epoch, result_row(ended, validation), candidate)
                if dist_utils.broadcast_flag(self._stop.is_set()) and epoch + 1 < cfg.epochs:
                    raise _Stopped(f"stopped by request after epoch {epoch + 1}")
        except _Stopped as stop:
            status, message = "stopped", str(stop)
        except TrainingError as error:
            status, message = "failed", str(error)
        finally:
            dist_utils.barrier()
        best = self._path("best.pt")
        result = FitResult(status, message, len(self.history), self.best_metric, self._path("last.pt"),
                           best if best is not None and best.exists() else None, self.history)
        self._emit(TrainEnd(status, message, self.best_metric, result.epochs_done))
        return result

    # ---- epoch end: metrics, results, checkpoints --------------------------------------------------------
    def _end_epoch(self, epoch: int, sums: dict, seen: int, seconds: float) -> EpochEnd:
        means = {k: sums[k] / max(1, seen) for k in sums}
        means = {k: float(v) for k, v in zip(means, dist_utils.all_reduce_mean(torch.tensor(list(means.values()))))}
        ended = EpochEnd(epoch + 1, self.optimizer.param_groups[0]["lr"], means["total"],
                         seen * dist_utils.world_size() / max(1e-9, seconds), seconds,
                         {k: means[k] for k in self.components})
        self._emit(ended)
        return ended

    def _evaluate(self, epoch: int, sizes) -> tuple[ValidationEnd | None, float | None]:
        """The validation scores (on rank 0; other processes: None) and the figure that decides best.pt."""
        validation, metric = None, None
        if dist_utils.is_main_process():
            batch = max(1, self.config.batch_size)
            plain = evaluate_model(self.model, self.val_set, self.device, batch, self.config.eval_conf_threshold, sizes)
            ema = None
            if self.ema is not None and self.ema.updates > 0:
                ema = evaluate_model(self.ema.module, self.val_set, self.device, batch, self.config.eval_conf_threshold, sizes)
            validation = ValidationEnd(epoch + 1, plain["map50"], plain["map"], ema["map50"] if ema else None,
                                       ema["map"] if ema else None)
            metric = max(plain["map50"], ema["map50"]) if ema else plain["map50"]
            self._emit(validation)
        dist_utils.barrier()
        return validation, metric

    def _save_epoch(self, epoch: int, row: dict, candidate: float | None) -> None:
        self.history.append(row)
        if not dist_utils.is_main_process() or self.out_dir is None:
            return
        write_results(self.out_dir / "results.csv", self.history)
        improved = candidate is not None and candidate > self.best_metric
        if improved:
            self.best_metric = candidate
        self._save_last(epoch + 1, 0)
        if improved:
            self._write_best(epoch + 1)

    def _save_last(self, epochs_done: int, batch_in_epoch: int) -> Path | None:
        if not dist_utils.is_main_process() or self.out_dir is None:
            return None
        return self._write_checkpoint(self._path("last.pt"), epochs_done, batch_in_epoch)

    def _write_best(self, epochs_done: int) -> Path:
        """best.pt: inference only, the weights that earned the best score, half precision (resume: last.pt)."""
        metrics = self._last_metrics()
        weights, which = inference_weights({"model": self.model.state_dict(), "metrics": metrics,
                                            "ema": self.ema.state_dict() if self.ema else None,
                                            "ema_updates": self.ema.updates if self.ema else 0})
        return save_inference_checkpoint(self._path("best.pt"), self.model.config, self.class_names, weights, which,
                                         epoch=epochs_done, metrics=metrics, best_metric=self.best_metric,
                                         train_config=self.config.to_dict())

    def _last_metrics(self) -> dict:
        return {k: v for k, v in (self.history[-1] if self.history else {}).items() if isinstance(v, float) and not math.isnan(v)}

    def _write_checkpoint(self, path: Path, epochs_done: int, batch_in_epoch: int) -> Path:
        # A diverging run can keep a finite loss for a while after its weights or BatchNorm statistics have
        # overflowed; such a state must never replace the last good checkpoint (resuming it fails at once).
        for what, state in (("weights", self.model.state_dict()), ("EMA weights", self.ema.state_dict() if self.ema else {})):
            bad = non_finite_tensors(state)
            if bad:
                kept = f" The last good checkpoint ({path.name}) is kept." if path.exists() else ""
                raise TrainingError(
                    f"the {what} became non-finite by epoch {epochs_done} ({len(bad)} tensor(s), e.g. {bad[0]}); "
                    f"training stopped without saving them (try a lower learning rate).{kept}")
        metrics = self._last_metrics()
        return save_checkpoint(
            path, self.model, self.class_names, ema=self.ema.state_dict() if self.ema else None, epoch=epochs_done,
            metrics=metrics, optimizer=self.optimizer.state_dict(), global_step=self.global_step,
            batch_in_epoch=batch_in_epoch, best_metric=self.best_metric,
            partial_epoch=self._partial_epoch if batch_in_epoch else None, train_config=self.config.to_dict(),
            ema_updates=self.ema.updates if self.ema else 0,
        )

    def _path(self, name: str) -> Path | None:
        return None if self.out_dir is None else self.out_dir / name


class _Stopped(Exception):
    pass


def non_finite_tensors(state: dict) -> list[str]:
    """Names of the floating-point tensors of a state dict holding an inf or a NaN."""
    return [name for name, value in state.items()
            if torch.is_tensor(value) and value.is_floating_point() and not torch.isfinite(value).all()]
