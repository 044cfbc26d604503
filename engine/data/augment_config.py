"""The settings of both training augmentations, torch-free: a training configuration
(:class:`engine.training.config.TrainConfig`) checks them when it is made, also where no model is loaded (the
app's Train panel while labelling). The augmentations themselves are :mod:`engine.data.augment` (the recipe's)
and :mod:`engine.data.augment_modern`, which import these from here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of the training augmentation; defaults follow the reference recipe."""

    flip_p: float = 0.5
    width_scale_p: float = 0.5
    width_scale_range: tuple[float, float] = (0.8, 1.2)
    shift_p: float = 0.5
    shift_fraction: float = 0.2  # of the image's width and height, each direction
    crop_p: float = 0.5
    crop_range: tuple[float, float] = (0.6, 1.0)  # fraction of each side kept
    colour_p: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02  # fraction of the hue circle, as in v2.ColorJitter

    def __post_init__(self):
        for name in ("flip_p", "width_scale_p", "shift_p", "crop_p", "colour_p"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"AugmentConfig.{name} must be a probability in [0, 1], got {getattr(self, name)}")
        low, high = self.width_scale_range
        if not 0 < low <= high:
            raise ValueError(f"AugmentConfig.width_scale_range must be 0 < low <= high, got {self.width_scale_range}")
        low, high = self.crop_range
        if not 0 < low <= high <= 1:
            raise ValueError(f"AugmentConfig.crop_range must be 0 < low <= high <= 1, got {self.crop_range}")
        if not 0 <= self.shift_fraction < 1:
            raise ValueError(f"AugmentConfig.shift_fraction must be in [0, 1), got {self.shift_fraction}")
        if not 0 <= self.hue <= 0.5:
            raise ValueError(f"AugmentConfig.hue must be in [0, 0.5], got {self.hue}")


@dataclass(frozen=True)
class ModernAugmentConfig:
    mosaic: float = 1.0  # probability of a mosaic
    scale: float = 0.5  # scale gain range +- this
    translate: float = 0.1  # shift, fraction of the side
    hsv_h: float = 0.015  # hue gain range, fraction of the hue circle
    hsv_s: float = 0.7
    hsv_v: float = 0.4
    flip: float = 0.5

    def __post_init__(self):
        for name in ("mosaic", "flip"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {getattr(self, name)}")
        if not 0 <= self.scale < 1 or not 0 <= self.translate < 0.5:
            raise ValueError(f"scale must be in [0, 1) and translate in [0, 0.5), got {self.scale}, {self.translate}")
        for name in ("hsv_h", "hsv_s", "hsv_v"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
