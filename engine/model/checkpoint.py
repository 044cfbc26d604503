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
    weights       only in an inference-only checkpoint (a run's ``best.pt``): "ema" or "plain", saying which
                  weights ``model`` holds; ``ema`` and the resume state are then absent, and ``model`` may be
                  half precision (``precision``: "float16"), cast back to float32 on load

A run writes its full resume state (plain weights, EMA, optimiser) only to ``last.pt``; ``best.pt`` holds one
set of weights in half precision, about a sixth of the size.

Which weights detect (:func:`inference_weights`): the set that earned the checkpoint's validation figures, so
evaluating a run's ``best.pt`` gives the mAP its run lists for it. That is the EMA unless the EMA was never
updated (a run shorter than ``ema_start_step``: the EMA is then the initial weights) or the checkpoint's own
figures (``metrics``: ``map50`` and ``ema_map50``) show the plain weights scored higher.
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from engine.model.config import ModelConfig

if TYPE_CHECKING:
    import torch

# torch is imported by the functions that need it: CheckpointError and the format's names load without it.

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
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, ValueError, OSError, IndexError, KeyError,
            TypeError, AttributeError) as exc:  # the safe unpickler fails in many ways on foreign input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path} is not a readable PyTorch file ({first[:200]})") from None


def save_checkpoint(path: Path | str, model: torch.nn.Module, class_names: list[str], *, ema=None, epoch: int = 0,
                    metrics: dict | None = None, **extra) -> Path:
    """Write a checkpoint atomically (temporary file, then rename): a crash leaves the old file intact."""
    config: ModelConfig = model.config
    if len(class_names) != config.num_classes:
        raise ValueError(f"{len(class_names)} class names for a model with {config.num_classes} classes")
    return _write(path, {
        "format": FORMAT,
        "version": VERSION,
        "model_config": config.to_dict(),
        "class_names": list(class_names),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "ema": None if ema is None else {k: v.detach().cpu() for k, v in ema.items()},
        "epoch": int(epoch),
        "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        **extra,
    })


def save_inference_checkpoint(path: Path | str, config: ModelConfig, class_names: list[str], weights: dict,
                              which: str, *, epoch: int = 0, metrics: dict | None = None, half: bool = True,
                              **extra) -> Path:
    """Write an inference-only checkpoint: one set of weights (``which``: "ema" or "plain"), in half precision
    when ``half``, no optimiser and no second copy. It detects, evaluates, exports and starts a fine-tune like a
    full one; it cannot resume a run."""
    if len(class_names) != config.num_classes:
        raise ValueError(f"{len(class_names)} class names for a model with {config.num_classes} classes")
    if which not in ("ema", "plain"):
        raise ValueError(f"which must be 'ema' or 'plain', got {which!r}")
    return _write(path, {
        "format": FORMAT,
        "version": VERSION,
        "model_config": config.to_dict(),
        "class_names": list(class_names),
        "model": {k: _stored(v, half) for k, v in weights.items()},
        "ema": None,
        "weights": which,
        "precision": "float16" if half else "float32",
        "epoch": int(epoch),
        "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        **extra,
    })


def _stored(tensor: torch.Tensor, half: bool) -> torch.Tensor:
    tensor = tensor.detach().cpu()
    return tensor.half() if half and tensor.is_floating_point() else tensor


def _as_float(weights: dict) -> dict:
    """Half-precision weights back to float32 (the model's own type); other tensors as they are."""
    import torch

    return {k: v.float() if v.is_floating_point() and v.dtype != torch.float32 else v for k, v in weights.items()}


def _write(path: Path | str, payload: dict) -> Path:
    import io

    import torch

    from engine.io.atomic import atomic_write_bytes

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


def inference_weights(state: dict, use_ema: bool = True) -> tuple[dict, str]:
    """(state dict to detect with, ``"ema"`` or ``"plain"``): the weights that earned the checkpoint's figures.

    The trainer keeps as "best" the higher of the plain and the EMA weights' mAP@0.5 (the EMA on a tie); its
    checkpoints record both figures of that epoch and how often the EMA was updated, so the choice is made
    again here. ``use_ema=False`` asks for the plain weights."""
    if state.get("weights") in ("ema", "plain"):  # inference-only: the one set it holds, chosen when written
        return _as_float(state["model"]), state["weights"]
    ema = state.get("ema")
    if not use_ema or not ema:
        return _as_float(state["model"]), "plain"
    if int(state.get("ema_updates", 1)) <= 0:  # never averaged: a copy of the weights the run started from
        return _as_float(state["model"]), "plain"
    metrics = state.get("metrics") or {}
    plain_score, ema_score = metrics.get("map50"), metrics.get("ema_map50")
    if plain_score is not None and ema_score is not None and ema_score < plain_score:
        return _as_float(state["model"]), "plain"
    return _as_float(ema), "ema"


def model_from_checkpoint(path: Path | str, use_ema: bool = True):
    """(model in eval mode, class names, checkpoint dict), with the weights :func:`inference_weights` picks."""
    from engine.model.heads import build_network

    state = load_checkpoint(path)
    model = build_network(state["model_config"])
    weights, _ = inference_weights(state, use_ema)
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not match its configuration ({str(exc).splitlines()[0]})") from None
    model.eval()
    return model, list(state["class_names"]), state
