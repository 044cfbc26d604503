"""Model configuration: the plain values that, with the weights, define a detector."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

BACKBONES = ("resnet18", "resnet34", "resnet50", "resnet101")
HEADS = ("recipe", "anchor_free")  # the study's YOLO v1 head; the FPN/PAN anchor-free decoupled head
DEFAULT_HEAD = "anchor_free"  # what new training runs get; a stored configuration without ``head`` is "recipe"
STRIDE = 32  # ResNet's total downsampling: the grid is image_size / 32


@dataclass(frozen=True)
class ModelConfig:
    num_classes: int = 20
    backbone: str = "resnet50"
    image_size: int = 448
    boxes_per_cell: int = 2
    neck_width: int = 256
    neck_blocks: int = 3
    # "recipe" by default so that checkpoints written before the field existed load as what they are.
    head: str = "recipe"
    fpn_width: int = 128  # anchor_free: channels of the FPN/PAN levels and of the head's branches
    reg_max: int = 16  # anchor_free: bins of each side's distance distribution (DFL), in strides

    def __post_init__(self):
        if self.backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {self.backbone!r}; choose one of {', '.join(BACKBONES)}")
        if self.image_size <= 0 or self.image_size % STRIDE:
            raise ValueError(f"image size must be a positive multiple of {STRIDE}, got {self.image_size}")
        if self.num_classes < 1:
            raise ValueError(f"need at least one class, got {self.num_classes}")
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; choose one of {', '.join(HEADS)}")
        if self.fpn_width < 8 or self.reg_max < 2:
            raise ValueError(f"fpn_width must be at least 8 and reg_max at least 2, got {self.fpn_width}, {self.reg_max}")
        if self.boxes_per_cell < 1:
            raise ValueError(f"need at least one box per cell, got {self.boxes_per_cell}")

    @property
    def grid_size(self) -> int:
        return self.image_size // STRIDE

    @property
    def strides(self) -> tuple[int, ...]:
        """The anchor_free head's levels (C3, C4, C5 of the ResNet)."""
        return (8, 16, 32)

    @property
    def num_anchors(self) -> int:
        """anchor_free: the points of all levels, ``sum((image_size / s) ** 2)``."""
        return sum((self.image_size // s) ** 2 for s in self.strides)

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
