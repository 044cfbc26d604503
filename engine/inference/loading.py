"""``load_detector``: a detector for a model file, run by torch (a ResYOLO checkpoint, ``.pt``) or by onnxruntime
(an exported ``.onnx`` model). The one place that chooses between them, so neither detector imports the other."""
from __future__ import annotations

from pathlib import Path

import torch

from engine.inference.detector import Detector


def load_detector(path: Path | str, device: str | torch.device = "auto", **options) -> Detector:
    """A detector from a checkpoint or an ONNX model (chosen by the file's suffix); ``options`` are the detector's
    thresholds (``conf_threshold``, ``iou_threshold``, ``max_detections``, ``agnostic``). Raises
    :class:`engine.model.checkpoint.CheckpointError` (ONNX: its subclass ``OnnxModelError``) for a file that is
    neither, naming it."""
    if Path(path).suffix.lower() == ".onnx":
        from engine.inference.onnx_detector import OnnxDetector, OnnxModel

        return OnnxDetector(OnnxModel(path, device), **options)
    from engine.model.checkpoint import model_from_checkpoint

    model, names, _ = model_from_checkpoint(path)
    return Detector(model, names, device, **options)
