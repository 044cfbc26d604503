"""Training settings, with the reference study's recipe as a preset."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class TrainConfig:
    epochs: int = 80
    batch_size: int = 10
    optimizer: str = "sgd"  # "sgd" | "adamw"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_epochs: float = 0.0  # linear warm-up from lr * warmup_start_factor
    warmup_start_factor: float = 0.1
    schedule: str = "multistep"  # "multistep" | "cosine" | "constant"
    milestones: list[int] = field(default_factory=lambda: [40, 60])  # epochs, for "multistep"
    gamma: float = 0.1
    min_lr_factor: float = 0.01  # cosine ends at lr * this
    amp: bool = True  # mixed precision, on CUDA only
    clip_grad_norm: float | None = None
    ema: bool = True
    ema_max_decay: float = 0.9999
    ema_start_step: int = 100
    ema_every: int = 10
    eval_every: int = 5  # epochs; the last epoch is always evaluated when there is validation data
    eval_conf_threshold: float = 0.01
    workers: int = 2
    device: str = "auto"
    seed: int = 0
    conf_target: str = "iou"  # containment target: "iou" (YOLO v1) or "one" (the study)
    checkpoint_every: int = 1  # epochs between `last` checkpoints

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {self.optimizer!r}")
        if self.schedule not in ("multistep", "cosine", "constant"):
            raise ValueError(f"schedule must be multistep, cosine or constant, got {self.schedule!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if self.lr <= 0:
            raise ValueError(f"learning rate must be positive, got {self.lr}")

    @classmethod
    def recipe(cls, **overrides) -> "TrainConfig":
        """The study's settings: SGD 1e-3, momentum 0.9, wd 5e-4, x0.1 at 40 and 60, 80 epochs, batch 10, EMA."""
        return cls(**overrides)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
