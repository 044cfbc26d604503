"""Training settings, with two presets: ``modern`` (the default of new runs: AdamW, warm-up, cosine decay,
mosaic / affine / HSV / flip augmentation, for the anchor-free head) and ``recipe`` (the reference study's
settings, for its YOLO v1 head). The dataclass defaults are the recipe's, so a stored configuration from before
the presets existed reads back as what it was."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

PRESETS = ("modern", "recipe")
DEFAULT_PRESET = "modern"
PRESET_HEADS = {"modern": "anchor_free", "recipe": "recipe"}  # the head each preset trains


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
    amp: bool = True  # mixed precision: on CUDA, and bfloat16 on CPUs that compute it natively (AVX512-BF16, AMX)
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
    # Augmentation: "recipe" (flip, width scale, shift, crop, colour; engine.data.augment) or "modern" (the fields
    # below; engine.data.augment_modern).
    augment: str = "recipe"
    mosaic: float = 1.0  # modern: probability of a 4-image mosaic
    close_mosaic: int = 10  # modern: no mosaic in the last N epochs (they then see whole, undistorted images)
    scale: float = 0.5  # modern: random scale gain +- this
    translate: float = 0.1  # modern: random shift, fraction of the side
    hsv_h: float = 0.015
    hsv_s: float = 0.7
    hsv_v: float = 0.4
    flip: float = 0.5  # modern: horizontal flip probability

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {self.optimizer!r}")
        if self.schedule not in ("multistep", "cosine", "constant"):
            raise ValueError(f"schedule must be multistep, cosine or constant, got {self.schedule!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if self.lr <= 0:
            raise ValueError(f"learning rate must be positive, got {self.lr}")
        if self.augment not in ("recipe", "modern", "none"):
            raise ValueError(f"augment must be 'recipe', 'modern' or 'none', got {self.augment!r}")
        if self.close_mosaic < 0:
            raise ValueError(f"close_mosaic must be at least 0, got {self.close_mosaic}")
        self.augmentation()  # validates the modern fields

    def augmentation(self):
        """The dataset's augmentation: an ``AugmentConfig`` (recipe), a ``ModernAugmentConfig`` or None (none)."""
        from engine.data.augment_config import AugmentConfig, ModernAugmentConfig  # torch-free

        if self.augment == "recipe":
            return AugmentConfig()
        if self.augment == "none":
            return AugmentConfig(flip_p=0, width_scale_p=0, shift_p=0, crop_p=0, colour_p=0)
        return ModernAugmentConfig(mosaic=self.mosaic, scale=self.scale, translate=self.translate, hsv_h=self.hsv_h,
                                   hsv_s=self.hsv_s, hsv_v=self.hsv_v, flip=self.flip)

    def mosaic_on(self, epoch: int) -> bool:
        """Whether epoch ``epoch`` (0-based) trains with mosaics: not in the last ``close_mosaic`` epochs, and
        never in more than the last quarter of the run (a 12-epoch run keeps 9 epochs of mosaics)."""
        closed = min(self.close_mosaic, self.epochs // 4)
        return self.augment == "modern" and self.mosaic > 0 and epoch < self.epochs - closed

    @classmethod
    def recipe(cls, **overrides) -> "TrainConfig":
        """The study's settings: SGD 1e-3, momentum 0.9, wd 5e-4, x0.1 at 40 and 60, 80 epochs, batch 10, EMA."""
        return cls(**overrides)

    @classmethod
    def modern(cls, **overrides) -> "TrainConfig":
        """The anchor-free head's settings, after YOLOv8's for short runs on small data: AdamW 1e-3 (wd 5e-4),
        3 warm-up epochs, cosine decay to 1%, batch 16, 100 epochs, mosaic (off for the last 10), affine, HSV,
        flip, and an EMA updated every step from the start."""
        values = dict(epochs=100, batch_size=16, optimizer="adamw", lr=1e-3, weight_decay=5e-4, warmup_epochs=3.0,
                      warmup_start_factor=0.1, schedule="cosine", min_lr_factor=0.01, augment="modern",
                      ema_start_step=0, ema_every=1, ema_max_decay=0.9999, clip_grad_norm=10.0)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def preset(cls, name: str, **overrides) -> "TrainConfig":
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
        return cls.modern(**overrides) if name == "modern" else cls.recipe(**overrides)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
