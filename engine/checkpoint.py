"""Checkpoint format (version 1).

A checkpoint is a ``torch.save`` of a dict holding plain types and tensors only, so that it loads with
``weights_only=True`` (nothing arbitrary is unpickled):

    format        "resyolo-checkpoint"
    version       1
    model_config  ModelConfig as a dict (head, backbone, image_size, num_classes, boxes_per_cell, ...); a
                  configuration without ``head`` (written before the anchor-free head) is the recipe head
    class_names   list of class names, index = class id
    model         state dict of the plain weights
    ema           state dict of the EMA weights, or None
    epoch         completed epochs
    metrics       dict of floats (e.g. val mAP)
    optimizer, scheduler, train_config, ema_updates   for resuming a run (optional)
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from engine.config import ModelConfig

FORMAT = "resyolo-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    pass


def is_checkpoint(obj) -> bool:
    return isinstance(obj, dict) and obj.get("format") == FORMAT


def read_checkpoint_file(path: Path | str):
    """``torch.load(weights_only=True)`` with errors that say what is wrong with which file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, ValueError, OSError, IndexError, KeyError,
            TypeError, AttributeError) as exc:  # the safe unpickler fails in many ways on foreign input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path} is not a readable PyTorch file ({first[:200]})") from None


def save_checkpoint(path: Path | str, model: torch.nn.Module, class_names: list[str], *, ema=None, epoch: int = 0,
                    metrics: dict | None = None, **extra) -> Path:
    """Write a checkpoint atomically (temporary file, then rename): a crash leaves the old file intact."""
    from engine.annotations.atomic import atomic_write_bytes
    import io

    config: ModelConfig = model.config
    if len(class_names) != config.num_classes:
        raise ValueError(f"{len(class_names)} class names for a model with {config.num_classes} classes")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": config.to_dict(),
        "class_names": list(class_names),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "ema": None if ema is None else {k: v.detach().cpu() for k, v in ema.items()},
        "epoch": int(epoch),
        "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        **extra,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_checkpoint(path: Path | str) -> dict:
    """Read and validate a checkpoint; returns the dict with ``model_config`` turned into a :class:`ModelConfig`."""
    state = read_checkpoint_file(path)
    if not is_checkpoint(state):
        raise CheckpointError(f"{path} is not a ResYOLO checkpoint (no 'format: {FORMAT}' entry)")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')}; this ResYOLO reads version {VERSION}")
    for key in ("model_config", "class_names", "model"):
        if key not in state:
            raise CheckpointError(f"{path} lacks the {key!r} entry")
    try:
        state["model_config"] = ModelConfig.from_dict(state["model_config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has an invalid model configuration: {exc}") from None
    return state


def model_from_checkpoint(path: Path | str, use_ema: bool = True):
    """(model in eval mode, class names, checkpoint dict). Uses the EMA weights when the checkpoint has them."""
    from engine.heads import build_network

    state = load_checkpoint(path)
    model = build_network(state["model_config"])
    weights = state["ema"] if use_ema and state.get("ema") else state["model"]
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not match its configuration ({str(exc).splitlines()[0]})") from None
    model.eval()
    return model, list(state["class_names"]), state
