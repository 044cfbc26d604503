"""Starting weights: ImageNet backbones through torchvision's weights enum (torch hub cache, works offline once
cached), a local ResNet file the user names, or a ResYOLO checkpoint. When none can be had, one clear warning
and random weights: never a hang, never a bare traceback.
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision import models

from engine.model.config import ModelConfig
from engine.model.network import ResYOLO, resnet_to_backbone_keys

log = logging.getLogger("resyolo")

# Seconds to wait for the weights server before giving up (the machine may be offline).
DOWNLOAD_TIMEOUT_S = 15
OFFLINE_ENV = "RESYOLO_OFFLINE"


@dataclass
class WeightsReport:
    source: str  # "imagenet", "file", "checkpoint" or "random"
    loaded: bool
    message: str


def imagenet_weights_enum(backbone: str) -> models.WeightsEnum:
    return models.get_model_weights(backbone).DEFAULT


def imagenet_cache_path(backbone: str) -> Path:
    """Where torch hub keeps (or would keep) the ImageNet file of ``backbone``: place it there by hand offline."""
    url = imagenet_weights_enum(backbone).url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _download_imagenet(backbone: str) -> dict:
    weights = imagenet_weights_enum(backbone)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return torch.hub.load_state_dict_from_url(weights.url, progress=False, check_hash=True, weights_only=True)
    finally:
        socket.setdefaulttimeout(previous)


def load_imagenet_state(backbone: str) -> dict:
    """The torchvision ImageNet state dict of ``backbone``, from the hub cache or (if online) downloaded."""
    cached = imagenet_cache_path(backbone)
    if cached.is_file():
        return torch.load(cached, map_location="cpu", weights_only=True)
    if os.environ.get(OFFLINE_ENV):
        raise FileNotFoundError(f"{cached} is not there and {OFFLINE_ENV} is set")
    return _download_imagenet(backbone)


def _load_backbone_state(model: ResYOLO, resnet_state: dict, origin: str) -> None:
    renamed = resnet_to_backbone_keys(resnet_state)
    expected = set(model.backbone_state_keys())
    missing, extra = expected - set(renamed), set(renamed) - expected
    if missing or extra or not renamed:
        raise ValueError(
            f"{origin} does not hold {model.config.backbone} weights "
            f"({len(missing)} of {len(expected)} backbone tensors missing, {len(extra)} unexpected)"
        )
    try:
        model.load_state_dict(renamed, strict=False)
    except RuntimeError as exc:  # shape mismatch: another ResNet depth
        raise ValueError(f"{origin} does not fit a {model.config.backbone} backbone: {str(exc).splitlines()[0]}") from None


def build_model(config: ModelConfig, weights: str | Path | None = "imagenet") -> tuple[ResYOLO, WeightsReport]:
    """Build a detector and load its starting weights.

    ``weights``: ``"imagenet"`` (torchvision, cached or downloaded), ``"none"``/``None`` (random), or a path to a
    torchvision ResNet state dict file or a ResYOLO checkpoint (whose matching tensors are loaded: a checkpoint
    with other classes still gives its backbone and neck).
    """
    from engine.model.heads import build_network

    model = build_network(config)
    if weights is None or str(weights).lower() in ("none", "random", ""):
        return model, WeightsReport("random", True, "random initial weights, as asked")
    if str(weights).lower() == "imagenet":
        try:
            state = load_imagenet_state(config.backbone)
            _load_backbone_state(model, state, "the ImageNet weights file")
        except Exception as exc:  # offline, corrupt cache, no such weights: warn once, go on from random
            message = (
                f"ImageNet weights for {config.backbone} could not be loaded ({type(exc).__name__}: {exc}); "
                f"starting from random weights. To use them offline, place the file at {imagenet_cache_path(config.backbone)}"
            )
            log.warning(message)
            return model, WeightsReport("random", False, message)
        return model, WeightsReport("imagenet", True, f"ImageNet weights ({imagenet_weights_enum(config.backbone)})")
    return model, load_weights_file(model, Path(weights))


def load_weights_file(model: ResYOLO, path: Path) -> WeightsReport:
    from engine.model.checkpoint import CheckpointError, inference_weights, is_checkpoint, read_checkpoint_file

    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    state = read_checkpoint_file(path)
    if is_checkpoint(state):
        source, _ = inference_weights(state)  # fine-tune from the weights that earned its figures
        own = model.state_dict()
        fitting = {k: v for k, v in source.items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(fitting, strict=False)
        skipped = len(own) - len(fitting)
        note = f" ({skipped} tensors kept random: other classes or shape)" if skipped else ""
        return WeightsReport("checkpoint", True, f"weights from checkpoint {path}{note}")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} is neither a ResYOLO checkpoint nor a ResNet state dict")
    _load_backbone_state(model, state, str(path))
    return WeightsReport("file", True, f"backbone weights from {path}")
