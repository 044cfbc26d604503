"""Run an exported ResYOLO ONNX model (``resyolo export``) with onnxruntime, behind the same Detector interface.

:class:`OnnxModel` is a callable like the torch model (``N x 3 x H x W`` float tensor in [0, 1] ->
``N x S x S x (B*5 + C)`` tensor); :class:`OnnxDetector` is a :class:`engine.inference.detector.Detector` running it, so
``load_detector("model.onnx")`` decodes exactly as the checkpoint would (same preprocessing, same
:func:`engine.model.boxes.decode_predictions`, settings from the model's metadata).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from engine.model.checkpoint import CheckpointError
from engine.model.config import ModelConfig
from engine.inference.export import INPUT_NAME, METADATA_FORMAT, METADATA_VERSION
from engine.inference.detector import Detector


class OnnxModelError(CheckpointError):
    """Not a readable ResYOLO ONNX model (a CheckpointError, so callers of ``load_detector`` catch one kind)."""


def read_metadata(path: Path, metadata: dict[str, str]) -> tuple[ModelConfig, list[str]]:
    """The model configuration and class names written by :func:`engine.inference.export.add_metadata`."""
    if metadata.get("format") != METADATA_FORMAT:
        raise OnnxModelError(f"{path} is an ONNX model but not one written by `resyolo export` "
                             f"(no '{METADATA_FORMAT}' metadata): its class names and box layout are unknown")
    if metadata.get("version") != METADATA_VERSION:
        raise OnnxModelError(f"{path} has ResYOLO ONNX metadata version {metadata.get('version')}; "
                             f"this ResYOLO reads version {METADATA_VERSION}")
    try:
        config = ModelConfig.from_dict(json.loads(metadata["model_config"]))
        names = json.loads(metadata["class_names"])
    except (KeyError, TypeError, ValueError) as exc:
        raise OnnxModelError(f"{path} has invalid ResYOLO metadata: {exc}") from None
    if not isinstance(names, list) or len(names) != config.num_classes:
        raise OnnxModelError(f"{path}: metadata lists {len(names) if isinstance(names, list) else 'no'} class names "
                             f"for a model with {config.num_classes} classes")
    return config, [str(n) for n in names]


def onnx_providers(device: str | torch.device | None) -> list[str]:
    """onnxruntime execution providers for a ``--device`` value: auto = CUDA when this onnxruntime has it."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    name = str(device or "auto").lower()
    if name == "auto":
        return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    if name.startswith("cuda"):
        if "CUDAExecutionProvider" not in available:
            raise RuntimeError("CUDA was asked for, but this onnxruntime has no CUDA support (install "
                               "onnxruntime-gpu); use --device cpu or auto")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if name == "cpu":
        return ["CPUExecutionProvider"]
    raise RuntimeError(f"unknown device {device!r} for an ONNX model; use auto, cpu or cuda")


class OnnxModel:
    """An exported model in an onnxruntime session, called like the torch network."""

    def __init__(self, path: Path | str, device: str | torch.device | None = "cpu"):
        import onnxruntime

        self.path = Path(path)
        if not self.path.is_file():
            raise OnnxModelError(f"{self.path}: no such file")
        providers = onnx_providers(device)
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types for a foreign or corrupt file
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise OnnxModelError(f"{self.path} is not a readable ONNX model ({first[:200]})") from None
        self.config, self.class_names = read_metadata(self.path, self.session.get_modelmeta().custom_metadata_map)
        batch = self.session.get_inputs()[0].shape[0]
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 else None
        self._check_declared_shapes()

    def _check_declared_shapes(self) -> None:
        """Refuse, on opening, a graph whose input or output does not have the shape its metadata implies (an
        edited file, or metadata copied from another model): decoding it would give nonsense or fail deep inside."""
        from engine.model.heads import output_shape

        size = self.config.image_size
        checks = [("input", self.session.get_inputs()[0].shape, (3, size, size)),
                  ("output", self.session.get_outputs()[0].shape, output_shape(self.config))]
        for what, declared, expected in checks:
            _check_shape(self.path, what, declared, expected, self.config)

    def _check_output(self, output: np.ndarray) -> np.ndarray:
        from engine.model.heads import output_shape

        _check_shape(self.path, "output", output.shape, output_shape(self.config), self.config)
        return output

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(images.detach().cpu().numpy(), dtype=np.float32)
        if self.fixed_batch is None or len(array) == self.fixed_batch:
            return torch.from_numpy(self._run(array))
        # A model exported without --dynamic-batch: run it chunk by chunk, padding the last chunk.
        outputs = []
        for start in range(0, len(array), self.fixed_batch):
            chunk = array[start:start + self.fixed_batch]
            padding = self.fixed_batch - len(chunk)
            if padding:
                chunk = np.concatenate([chunk, np.zeros((padding, *chunk.shape[1:]), np.float32)])
            outputs.append(self._run(chunk)[: self.fixed_batch - padding])
        return torch.from_numpy(np.concatenate(outputs))

    def _run(self, array: np.ndarray) -> np.ndarray:
        return self._check_output(self.session.run(None, {INPUT_NAME: array})[0])


def _check_shape(path: Path, what: str, shape, expected: tuple[int, ...], config: ModelConfig) -> None:
    """``shape`` (batch first; symbolic dimensions, given as strings or None, match anything) against ``expected``."""
    dims = list(shape)[1:]
    fits = len(dims) == len(expected) and all(not isinstance(d, int) or d == e for d, e in zip(dims, expected))
    if not fits:
        shown = " x ".join(str(d) if isinstance(d, int) else "?" for d in dims) or "(none)"
        raise OnnxModelError(
            f"{path}: its {what} is N x {shown}, but its ResYOLO metadata ({config.head} head, {config.backbone}, "
            f"{config.image_size} px, {config.num_classes} classes) implies N x {' x '.join(map(str, expected))}; "
            "the file was edited or its metadata belongs to another model. Export it again with `resyolo export`")


class OnnxDetector(Detector):
    """:class:`Detector` on an :class:`OnnxModel`: same preprocessing and decoding, onnxruntime in between."""

    runs_in_torch = False

    def __init__(self, model: OnnxModel, conf_threshold: float = 0.25, iou_threshold: float = 0.5,
                 max_detections: int = 100, agnostic: bool = False):
        # "cpu": where inputs are prepared and outputs arrive; onnxruntime's own providers choose where it runs.
        super().__init__(model, model.class_names, "cpu", conf_threshold, iou_threshold, max_detections, agnostic)

    def _prepare(self, model: OnnxModel) -> OnnxModel:
        return model  # an onnxruntime session: nothing to move or convert

    def preprocess(self, images: list[np.ndarray]) -> torch.Tensor:
        from engine.data.dataset import model_input_batch

        return model_input_batch(images, self.image_size).contiguous()  # onnxruntime reads plain N x 3 x S x S

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model(batch).float()
