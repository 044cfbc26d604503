"""The detector: torchvision ResNet backbone, DetNet-style dilated neck, YOLO v1-style head.

Input: ``N x 3 x H x W`` RGB floats in [0, 1] (normalised inside, as the backbone's ImageNet weights expect).
Output: ``N x S x S x (B*5 + C)`` after a sigmoid; per cell ``[x, y, w, h, conf] * B`` then ``C`` class scores.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torchvision import models

from engine.model.config import ModelConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class DilatedBottleneck(nn.Module):
    """DetNet bottleneck: 1x1 -> 3x3 dilated (dilation 2, stride 1) -> 1x1, with a residual connection.

    The first block of the neck projects its input with a 1x1 conv + BN shortcut; the others are identity.
    """

    def __init__(self, in_channels: int, width: int, project: bool):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, width, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=2, dilation=2, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 1, bias=False),
            nn.BatchNorm2d(width),
        )
        self.shortcut = (
            nn.Sequential(nn.Conv2d(in_channels, width, 1, bias=False), nn.BatchNorm2d(width)) if project else nn.Identity()
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def build_backbone(name: str) -> tuple[nn.Module, int]:
    """ResNet stem + layer1..layer4 (no pooling, no classifier), with random weights, and its output channels."""
    resnet = getattr(models, name)(weights=None)
    body = nn.Sequential(
        resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool, resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4
    )
    return body, resnet.fc.in_features


class ResYOLO(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.backbone, backbone_channels = build_backbone(config.backbone)
        blocks = [
            DilatedBottleneck(backbone_channels if i == 0 else config.neck_width, config.neck_width, project=i == 0)
            for i in range(config.neck_blocks)
        ]
        self.neck = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Conv2d(config.neck_width, config.channels_per_cell, 3, padding=1, bias=False),
            nn.BatchNorm2d(config.channels_per_cell),
        )
        self._init_confidence_prior()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _init_confidence_prior(self, prior: float = 0.05) -> None:
        """Start every box confidence near ``prior`` instead of sigmoid(0) = 0.5 (RetinaNet's prior trick).

        Nearly all predictors are background, so the no-object term otherwise dominates the first thousands
        of steps while the head's BatchNorm bias slowly drifts down; the recipe's head (conv, BN, sigmoid) is
        kept, only its BN bias starts lower for the confidence channels."""
        bias = self.head[1].bias
        with torch.no_grad():
            bias[4 : 5 * self.config.boxes_per_cell : 5] = math.log(prior / (1 - prior))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = (images - self.mean) / self.std
        x = self.head(self.neck(self.backbone(x)))
        return torch.sigmoid(x).permute(0, 2, 3, 1)

    def backbone_state_keys(self) -> list[str]:
        return [k for k in self.state_dict() if k.startswith("backbone.")]


def resnet_to_backbone_keys(resnet_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a torchvision ResNet state dict to this model's ``backbone.N...`` keys (fc dropped)."""
    order = ["conv1", "bn1", None, None, "layer1", "layer2", "layer3", "layer4"]
    index = {name: i for i, name in enumerate(order) if name}
    renamed = {}
    for key, value in resnet_state.items():
        head, _, rest = key.partition(".")
        if head in index:
            renamed[f"backbone.{index[head]}.{rest}"] = value
    return renamed
