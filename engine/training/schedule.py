"""Learning-rate schedule as a factor of the base lr per optimiser step: linear warm-up, then multi-step or
cosine decay. Stepped every batch (``LambdaLR``), so warm-up is smooth and resuming is exact."""
from __future__ import annotations

import math

from engine.training.config import TrainConfig


def lr_factor(step: int, steps_per_epoch: int, config: TrainConfig) -> float:
    epoch = step / steps_per_epoch
    warmup_steps = config.warmup_epochs * steps_per_epoch
    if step < warmup_steps:
        start = config.warmup_start_factor
        return start + (1 - start) * step / warmup_steps
    if config.schedule == "multistep":
        return config.gamma ** sum(epoch >= m for m in config.milestones)
    if config.schedule == "cosine":
        total = config.epochs * steps_per_epoch
        progress = min(1.0, (step - warmup_steps) / max(1.0, total - warmup_steps))
        return config.min_lr_factor + (1 - config.min_lr_factor) * 0.5 * (1 + math.cos(math.pi * progress))
    return 1.0
