"""The anchor-free detector: ResNet C3-C5 -> FPN (top-down) + PAN (bottom-up) neck -> a decoupled head per level.

Input: ``N x 3 x H x W`` RGB floats in [0, 1] (ImageNet normalisation inside, as for the recipe model).

Output, in training mode: the raw ``N x A x (4 * R + C)`` tensor of all levels' points (A = sum of
``(H / s) ** 2`` over the strides 8, 16, 32, level by level, row-major inside a level): per point, the logits of
the distance distributions of the left, top, right and bottom sides (R = ``reg_max`` bins each, in strides;
distribution focal loss) and C class logits. This is what :class:`engine.model.loss_modern.AnchorFreeLoss` takes.

Output, in eval mode (what the Detector, validation and ONNX export see): ``N x A x (4 + C)``, the decoded box
``[x1, y1, x2, y2]`` in fractions of the input and C class probabilities (sigmoid), decoded by
:func:`engine.model.boxes.decode_anchor_free`.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torchvision.ops import Conv2dNormActivation, FeaturePyramidNetwork

from engine.model.config import ModelConfig
from engine.model.network import IMAGENET_MEAN, IMAGENET_STD, build_backbone

C3_C4_C5 = (5, 6, 7)  # indices of layer2, layer3, layer4 in the backbone Sequential (see build_backbone)


def conv_bn_silu(in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1) -> nn.Module:
    return Conv2dNormActivation(in_channels, out_channels, kernel, stride, activation_layer=nn.SiLU)


def backbone_channels(backbone: nn.Sequential) -> list[int]:
    """Output channels of layer2..layer4 (C3, C4, C5): 128/256/512 for ResNet-18/34, 512/1024/2048 for 50/101."""
    channels = []
    for index in C3_C4_C5:
        layer = backbone[index]
        last = layer[-1]
        conv = getattr(last, "conv3", None) or last.conv2
        channels.append(conv.out_channels)
    return channels


class PathAggregation(nn.Module):
    """PAN's bottom-up path after torchvision's FPN: P3 -> down-sample -> merged with P4 -> ... -> P5."""

    def __init__(self, width: int, levels: int = 3):
        super().__init__()
        self.down = nn.ModuleList(conv_bn_silu(width, width, 3, 2) for _ in range(levels - 1))
        self.merge = nn.ModuleList(conv_bn_silu(2 * width, width, 3) for _ in range(levels - 1))

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        outputs = [features[0]]
        for down, merge, lateral in zip(self.down, self.merge, features[1:]):
            outputs.append(merge(torch.cat((down(outputs[-1]), lateral), 1)))
        return outputs


class DecoupledHead(nn.Module):
    """Separate classification and box branches per level (YOLOX / YOLOv8 style): two 3x3 conv-BN-SiLU each,
    then a 1x1 conv to C class logits and to 4 x R distance-bin logits."""

    def __init__(self, width: int, num_classes: int, reg_max: int, strides: tuple[int, ...], image_size: int):
        super().__init__()
        self.num_classes, self.reg_max = num_classes, reg_max
        box_width, cls_width = max(16, width // 2), width
        self.box = nn.ModuleList(
            nn.Sequential(conv_bn_silu(width, box_width), conv_bn_silu(box_width, box_width),
                          nn.Conv2d(box_width, 4 * reg_max, 1)) for _ in strides)
        self.cls = nn.ModuleList(
            nn.Sequential(conv_bn_silu(width, cls_width), conv_bn_silu(cls_width, cls_width),
                          nn.Conv2d(cls_width, num_classes, 1)) for _ in strides)
        with torch.no_grad():  # priors: few objects per image among many points; boxes start mid-sized
            for box, cls, stride in zip(self.box, self.cls, strides):
                box[-1].bias.fill_(1.0)
                cls[-1].bias.fill_(math.log(5 / num_classes / (image_size / stride) ** 2))

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        outputs = []
        for feature, box, cls in zip(features, self.box, self.cls):
            level = torch.cat((box(feature), cls(feature)), 1)  # N x (4R + C) x h x w
            outputs.append(level.flatten(2))
        return torch.cat(outputs, 2).transpose(1, 2)  # N x A x (4R + C)


def anchor_points(image_size: int, strides: tuple[int, ...], device=None, dtype=torch.float32):
    """(points ``A x 2`` as (x, y) input pixels at the cell centres, stride of each point ``A``), level by level."""
    points, point_strides = [], []
    for stride in strides:
        side = image_size // stride
        idx = (torch.arange(side, device=device, dtype=dtype) + 0.5) * stride
        ys, xs = torch.meshgrid(idx, idx, indexing="ij")
        points.append(torch.stack((xs, ys), -1).reshape(-1, 2))
        point_strides.append(torch.full((side * side,), float(stride), device=device, dtype=dtype))
    return torch.cat(points), torch.cat(point_strides)


def expected_distances(box_logits: torch.Tensor, reg_max: int) -> torch.Tensor:
    """``... x 4R`` bin logits -> ``... x 4`` expected distances (in strides): softmax over bins, times 0..R-1."""
    shape = box_logits.shape[:-1]
    probs = box_logits.reshape(*shape, 4, reg_max).softmax(-1)
    bins = torch.arange(reg_max, device=box_logits.device, dtype=probs.dtype)
    return probs @ bins


def distances_to_boxes(distances: torch.Tensor, points: torch.Tensor, strides: torch.Tensor) -> torch.Tensor:
    """(l, t, r, b) in strides around each point -> xyxy input pixels."""
    scaled = distances * strides[..., None]
    return torch.cat((points - scaled[..., :2], points + scaled[..., 2:]), -1)


class AnchorFreeYOLO(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.head != "anchor_free":
            raise ValueError(f"AnchorFreeYOLO needs head 'anchor_free', got {config.head!r}")
        self.config = config
        self.backbone, _ = build_backbone(config.backbone)
        width = config.fpn_width
        self.fpn = FeaturePyramidNetwork(backbone_channels(self.backbone), width, norm_layer=nn.BatchNorm2d)
        self.pan = PathAggregation(width, len(config.strides))
        self.head = DecoupledHead(width, config.num_classes, config.reg_max, config.strides, config.image_size)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        points, strides = anchor_points(config.image_size, config.strides)
        self.register_buffer("points", points, persistent=False)
        self.register_buffer("point_strides", strides, persistent=False)

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = (images - self.mean) / self.std
        levels = {}
        for index, layer in enumerate(self.backbone):
            x = layer(x)
            if index in C3_C4_C5:
                levels[str(index)] = x
        return self.pan(list(self.fpn(levels).values()))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        raw = self.head(self.features(images))
        return raw if self.training else self.decode_raw(raw)

    def decode_raw(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw ``N x A x (4R + C)`` -> ``N x A x (4 + C)``: xyxy in fractions of the input, class probabilities."""
        reg = 4 * self.config.reg_max
        distances = expected_distances(raw[..., :reg].float(), self.config.reg_max)
        boxes = distances_to_boxes(distances, self.points, self.point_strides) / self.config.image_size
        return torch.cat((boxes, raw[..., reg:].float().sigmoid()), -1)

    def backbone_state_keys(self) -> list[str]:
        return [k for k in self.state_dict() if k.startswith("backbone.")]
