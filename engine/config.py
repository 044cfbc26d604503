"""Model configuration: the plain values that, with the weights, define a detector."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

BACKBONES = ("resnet18", "resnet34", "resnet50", "resnet101")
STRIDE = 32  # ResNet's total downsampling: the grid is image_size / 32


@dataclass(frozen=True)
class ModelConfig:
    num_classes: int = 20
    backbone: str = "resnet50"
    image_size: int = 448
    boxes_per_cell: int = 2
    neck_width: int = 256
    neck_blocks: int = 3

    def __post_init__(self):
        if self.backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {self.backbone!r}; choose one of {', '.join(BACKBONES)}")
        if self.image_size <= 0 or self.image_size % STRIDE:
            raise ValueError(f"image size must be a positive multiple of {STRIDE}, got {self.image_size}")
        if self.num_classes < 1:
            raise ValueError(f"need at least one class, got {self.num_classes}")
        if self.boxes_per_cell < 1:
            raise ValueError(f"need at least one box per cell, got {self.boxes_per_cell}")

    @property
    def grid_size(self) -> int:
        return self.image_size // STRIDE

    @property
    def channels_per_cell(self) -> int:
        return self.boxes_per_cell * 5 + self.num_classes

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model configuration keys: {', '.join(sorted(unknown))}")
        return cls(**data)
