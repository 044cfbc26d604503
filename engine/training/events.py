"""Every event of a training run and its payload, in one place (as Ultralytics' ``utils/callbacks/base.py``
names its events, but a callback gets the payload, never the trainer).

A callback is ``callback(event)``; the event is one of the frozen dataclasses below, in this order per run:
:class:`RunPrepared` (the app's worker, before the trainer starts), :class:`TrainStart`, then per epoch
:class:`BatchEnd` for each batch, :class:`EpochEnd`, :class:`ValidationEnd` (epochs that are evaluated), and
:class:`TrainEnd` once, however the run ends. Readers: the console (``commands/train_console.py``), the app's
training worker, controller and charts, and the results CSV (:func:`result_row`, :data:`RESULT_COLUMNS`).

Loss components differ by head (``regression``, ``containment``, ``no_object``, ``class`` for the recipe head;
``iou``, ``dfl``, ``class`` for the anchor-free one): they travel as a ``components`` mapping whose keys are
those of :data:`engine.model.components.ALL_COMPONENTS` (torch-free).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType

from engine.model.components import ALL_COMPONENTS

STATUSES = ("finished", "stopped", "failed")


def _numbers(components: Mapping[str, float]) -> Mapping[str, float]:
    unknown = set(components) - set(ALL_COMPONENTS)
    if unknown:
        raise ValueError(f"unknown loss component(s): {', '.join(sorted(unknown))}")
    return MappingProxyType({k: float(components[k]) for k in ALL_COMPONENTS if k in components})


@dataclass(frozen=True)
class RunPrepared:
    """The run's data and weights are ready (the app's worker sends it before :class:`TrainStart`)."""
    train_images: int
    val_images: int
    weights_source: str  # "imagenet", "checkpoint", "random", ...
    weights_message: str
    resumed_from: str | None = None  # the checkpoint a resumed run continues
    epochs_done: int = 0


@dataclass(frozen=True)
class TrainStart:
    epochs: int  # the run's last epoch (1-based)
    start_epoch: int  # epochs already done (0 for a new run)
    batches: int  # per epoch
    images: int  # training images
    device: str


@dataclass(frozen=True)
class BatchEnd:
    epoch: int  # 1-based
    batch: int  # 1-based, within the epoch
    batches: int
    step: int  # optimiser steps since the run began
    lr: float
    loss: float  # the total
    images_per_s: float  # this epoch so far, this process
    eta_s: float
    components: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "components", _numbers(self.components))

    @property
    def progress(self) -> float:
        """Epochs done, as a fraction (the charts' x axis)."""
        return self.epoch - 1 + self.batch / max(1, self.batches)


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    lr: float
    loss: float  # mean total over the epoch's images
    images_per_s: float  # all processes
    epoch_seconds: float
    components: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "components", _numbers(self.components))

    def row(self) -> dict[str, float]:
        return {"epoch": self.epoch, "lr": self.lr, "loss": self.loss, **self.components,
                "images_per_s": self.images_per_s, "epoch_seconds": self.epoch_seconds}

    @classmethod
    def from_row(cls, row: Mapping) -> EpochEnd:
        nan = float("nan")  # a column an older results.csv lacks
        return cls(int(row["epoch"]), row.get("lr", nan), row.get("loss", nan), row.get("images_per_s", nan),
                   row.get("epoch_seconds", nan), {k: row[k] for k in ALL_COMPONENTS if _present(row.get(k))})


@dataclass(frozen=True)
class ValidationEnd:
    epoch: int
    map50: float  # VOC07 mAP@0.5 of the trained weights
    map: float  # COCO mAP@[.5:.95]
    ema_map50: float | None = None  # the same for the EMA weights, when there are any
    ema_map: float | None = None

    def row(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_row(cls, row: Mapping) -> ValidationEnd | None:
        """None for an epoch that was not evaluated."""
        if not _present(row.get("map50")):
            return None
        ema = _present(row.get("ema_map50"))
        return cls(int(row["epoch"]), row["map50"], row.get("map", float("nan")), row["ema_map50"] if ema else None,
                   row.get("ema_map") if ema else None)


@dataclass(frozen=True)
class TrainEnd:
    status: str  # one of STATUSES
    message: str
    best_metric: float
    epochs_done: int

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")


Event = RunPrepared | TrainStart | BatchEnd | EpochEnd | ValidationEnd | TrainEnd
EVENTS = (RunPrepared, TrainStart, BatchEnd, EpochEnd, ValidationEnd, TrainEnd)
Callback = Callable[[Event], None]

RESULT_COLUMNS = ("epoch", "lr", "loss", *ALL_COMPONENTS, "images_per_s", "epoch_seconds",
                  *(f.name for f in fields(ValidationEnd) if f.name != "epoch"))


def result_row(epoch: EpochEnd, validation: ValidationEnd | None = None) -> dict[str, float]:
    """One epoch's row of results.csv (and of ``FitResult.history``)."""
    return {**epoch.row(), **(validation.row() if validation is not None else {})}


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))
