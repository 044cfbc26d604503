"""Batched inference: arrays, image files and folders -> detections in original image pixels.

A checkpoint runs in torch; an exported ``.onnx`` model runs in onnxruntime (:mod:`engine.inference.onnx_detector`);
:func:`engine.inference.loading.load_detector` picks one for a file.

On the CPU the network runs in channels-last layout under ``torch.inference_mode``; on CUDA under autocast
(bf16 where supported, else fp16).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from engine.model.boxes import Detections
from engine.model.heads import decode_output
from engine.data.dataset import model_input_batch, resized_pixels
from engine.model.device import resolve_device
from engine.io.images import ImageReadError, read_image


class Detector:
    runs_in_torch = True  # torch's CPU threads run the network (an ONNX model has onnxruntime's own thread pool)

    def __init__(self, model: torch.nn.Module, class_names: list[str], device: str | torch.device = "auto",
                 conf_threshold: float = 0.25, iou_threshold: float = 0.5, max_detections: int = 100,
                 agnostic: bool = False):
        self.device = resolve_device(device)
        self.class_names = list(class_names)
        self.config = model.config
        self.conf_threshold, self.iou_threshold = conf_threshold, iou_threshold
        self.max_detections, self.agnostic = max_detections, agnostic
        self.model = self._prepare(model)

    def _prepare(self, model):
        """The network ready to run on ``self.device``: eval mode, channels-last on the CPU."""
        model = model.eval().to(self.device)
        if self.device.type == "cpu":
            model = model.to(memory_format=torch.channels_last)
        return model

    @property
    def image_size(self) -> int:
        return self.config.image_size

    def _autocast(self):
        if self.device.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.autocast("cuda", dtype=dtype)
        return nullcontext()

    def preprocess(self, images: list[np.ndarray]) -> torch.Tensor:
        """RGB uint8 arrays -> the model's ``N x 3 x S x S`` float input (:func:`engine.data.dataset.model_input_batch`,
        channels-last as the CPU model runs); on CUDA the pixels travel as uint8 and become floats there."""
        if self.device.type == "cpu":
            return model_input_batch(images, self.image_size)
        pixels = torch.from_numpy(resized_pixels(images, self.image_size)).to(self.device, non_blocking=True)
        return pixels.permute(0, 3, 1, 2).float().div_(255).contiguous()

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """The bare network: a preprocessed batch -> its eval-mode output (float32): ``N x S x S x (B*5+C)`` for
        the recipe head, ``N x A x (4 + C)`` for the anchor-free one (see :func:`engine.model.heads.output_shape`)."""
        with self._autocast():
            return self.model(batch).float()

    @torch.inference_mode()
    def decode(self, output: torch.Tensor, image_sizes: list[tuple[int, int]], conf_threshold: float | None = None,
               iou_threshold: float | None = None) -> list[Detections]:
        return decode_output(
            self.config, output, image_sizes,
            conf_threshold=self.conf_threshold if conf_threshold is None else conf_threshold,
            iou_threshold=self.iou_threshold if iou_threshold is None else iou_threshold,
            max_detections=self.max_detections, agnostic=self.agnostic,
        )

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        """RGB uint8 arrays -> detections in each image's own pixels (on the CPU)."""
        if not images:
            return []
        output = self.forward(self.preprocess(images))
        sizes = [(im.shape[1], im.shape[0]) for im in images]
        return [d.to("cpu") for d in self.decode(output, sizes)]

    def detect_files(self, paths: Iterable[Path | str], batch_size: int = 8) -> Iterator[tuple[Path, Detections | ImageReadError]]:
        """Yield ``(path, detections)`` for each file, in order; an unreadable file yields its ImageReadError."""
        pending: list[tuple[Path, np.ndarray]] = []
        for path in paths:
            path = Path(path)
            try:
                pending.append((path, read_image(path)))
            except ImageReadError as exc:
                yield from self._flush(pending)
                pending = []
                yield path, exc
                continue
            if len(pending) == batch_size:
                yield from self._flush(pending)
                pending = []
        yield from self._flush(pending)

    def _flush(self, pending):
        if pending:
            yield from zip([p for p, _ in pending], self.detect([im for _, im in pending]))

    def to_records(self, detections: Detections):
        """Detections -> ``Box`` records with class names (scores dropped), e.g. for auto-labelling."""
        from engine.annotations.records import Box

        return [
            Box(self.class_names[int(label)], *map(float, box))
            for box, label in zip(detections.boxes.tolist(), detections.labels.tolist())
        ]
