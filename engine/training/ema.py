"""Exponential moving average of all weights and BatchNorm buffers (``torch.optim.swa_utils.AveragedModel``)
with the reference study's ramped decay: ``min(max_decay, 1 - (1 + t) ** (-2/3))`` after ``t`` updates.

The update is one ``torch._foreach_lerp_`` per device and dtype (a few kernels per step, not one Python call and
one ``.item()`` per tensor: the modern preset updates every step). Integer buffers (BatchNorm's
``num_batches_tracked``) take the model's value."""
from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel


def ramped_decay(updates: int, max_decay: float) -> float:
    return min(max_decay, 1.0 - (1.0 + updates) ** (-2.0 / 3.0))


class ModelEMA:
    def __init__(self, model: torch.nn.Module, max_decay: float = 0.9999, start_step: int = 100, every: int = 10):
        self.max_decay, self.start_step, self.every = max_decay, start_step, every

        def average(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
            # averaged * decay + current * (1 - decay) == lerp(averaged, current, 1 - decay)
            if averaged[0].is_floating_point():
                torch._foreach_lerp_(averaged, current, 1.0 - ramped_decay(int(num_averaged), self.max_decay))
            else:
                torch._foreach_copy_(averaged, current)

        self.averaged = AveragedModel(model, multi_avg_fn=average, use_buffers=True)
        self.averaged.eval()

    @property
    def module(self) -> torch.nn.Module:
        return self.averaged.module

    @property
    def updates(self) -> int:
        return int(self.averaged.n_averaged)

    def step(self, model: torch.nn.Module, global_step: int) -> None:
        """Called after every optimiser step; averages from ``start_step`` on, every ``every`` steps."""
        if global_step >= self.start_step and (global_step - self.start_step) % self.every == 0:
            self.averaged.update_parameters(model)

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict, updates: int) -> None:
        self.module.load_state_dict(state)
        self.averaged.n_averaged.fill_(updates)
