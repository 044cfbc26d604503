"""Export a ResYOLO checkpoint to ONNX, for onnxruntime and other runtimes.

The exported graph is the whole network, normalisation included, so it takes exactly what the torch model
takes and gives what it gives (see docs/CONTRACTS.md, "Model input and output"):

    input  ``images``  float32  N x 3 x H x W, RGB in [0, 1]   (H = W = the checkpoint's image size)
    output ``output``  float32  N x S x S x (B*5 + C), after the sigmoid   (S = H / 32; the recipe head)
                                N x A x (4 + C): xyxy fractions, class probabilities   (the anchor-free head)

N is fixed at 1 unless ``dynamic_batch``. What a reader needs to decode the output is stored in the model's
``metadata_props`` (see :data:`METADATA_FORMAT` and :func:`engine.inference.onnx_detector.read_metadata`): class names,
the model configuration (image size, boxes per cell B, classes C, backbone), and the input/output layout.

Exporter: the TorchScript-based one (``torch.onnx.export(..., dynamo=False)``) by default. On this model both
exporters agree with torch to ~2e-7, but the legacy one is ten times faster, writes the opset it is asked for
(the dynamo one falls back to opset 18 with a warning when converting to an older opset fails) and prints
nothing. ``exporter="dynamo"`` (torch's own default since 2.9) is available and checked for the opset it wrote.
"""
from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path

import torch

from engine.model.checkpoint import CheckpointError

METADATA_FORMAT = "resyolo-onnx"
METADATA_VERSION = "1"
DEFAULT_OPSET = 18
MIN_OPSET = 13  # the first with every operator this model needs, in the form both exporters write
EXPORTERS = ("legacy", "dynamo")
INPUT_NAME, OUTPUT_NAME = "images", "output"


class OnnxExportError(ValueError):
    """The export cannot be done; the message names the file and the problem."""


def export_onnx(checkpoint: Path | str, out: Path | str, *, dynamic_batch: bool = False, opset: int = DEFAULT_OPSET,
                exporter: str = "legacy", overwrite: bool = False, use_ema: bool = True) -> Path:
    """Write ``checkpoint`` (its EMA weights when it has them, as :class:`engine.inference.detector.Detector` uses) as an
    ONNX model at ``out``; returns ``out``. The file is written atomically: a failed export leaves no partial
    file and an existing one untouched.

    Raises :class:`engine.model.checkpoint.CheckpointError` for a missing or foreign checkpoint and
    :class:`OnnxExportError` for a bad output path, option or a failed export."""
    from engine.model.checkpoint import model_from_checkpoint

    checkpoint, out = Path(checkpoint), Path(out)
    if exporter not in EXPORTERS:
        raise OnnxExportError(f"unknown exporter {exporter!r}; choose one of {', '.join(EXPORTERS)}")
    if opset < MIN_OPSET:
        raise OnnxExportError(f"opset {opset} is too old for this model; use {MIN_OPSET} or newer")
    check_output_path(out, checkpoint, overwrite)
    model, class_names, _ = model_from_checkpoint(checkpoint, use_ema=use_ema)
    proto = model_to_onnx(model, dynamic_batch=dynamic_batch, opset=opset, exporter=exporter)
    add_metadata(proto, model.config, class_names, source=checkpoint.name)
    from engine.io.atomic import atomic_write_bytes

    try:
        atomic_write_bytes(out, proto.SerializeToString())
    except OSError as exc:
        raise OnnxExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


def check_output_path(out: Path, checkpoint: Path, overwrite: bool) -> None:
    """Refuse, before the slow export, an output that cannot be written or would replace something."""
    if out.is_dir():
        raise OnnxExportError(f"{out} is a folder; give the path of the .onnx file to write")
    if out.exists() and checkpoint.exists() and out.resolve() == checkpoint.resolve():
        raise OnnxExportError(f"{out} is the checkpoint itself; choose another output file")
    if out.exists() and not overwrite:
        raise OnnxExportError(f"{out} already exists; choose another name or allow overwriting (--overwrite)")
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OnnxExportError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OnnxExportError(f"cannot write into {folder}: permission denied")


def model_to_onnx(model: torch.nn.Module, *, dynamic_batch: bool, opset: int, exporter: str):
    """The network as an ``onnx.ModelProto`` with input ``images`` and output ``output``."""
    size = model.config.image_size
    model = model.eval().float().cpu()
    # A batch of 2 for a dynamic export: torch.export specialises a dimension traced at size 1.
    example = torch.rand(2 if dynamic_batch else 1, 3, size, size)
    try:
        if exporter == "dynamo":
            return _export_dynamo(model, example, dynamic_batch, opset)
        return _export_legacy(model, example, dynamic_batch, opset)
    except OnnxExportError:
        raise
    except Exception as exc:  # the exporters fail in many ways (unsupported op, opset); report, do not crash
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OnnxExportError(f"ONNX export ({exporter} exporter, opset {opset}) failed: {first[:300]}") from None


def _export_legacy(model, example, dynamic_batch: bool, opset: int):
    import onnx

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter announces its deprecation on every call; it is chosen on purpose (see above).
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        torch.onnx.export(
            model, (example,), buffer, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], opset_version=opset,
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if dynamic_batch else None,
            do_constant_folding=True, dynamo=False,
        )
    return onnx.load_from_string(buffer.getvalue())


def _export_dynamo(model, example, dynamic_batch: bool, opset: int):
    dynamic_shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    program = torch.onnx.export(
        model, (example,), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], opset_version=opset,
        dynamic_shapes=dynamic_shapes, dynamo=True, verbose=False,
    )
    proto = program.model_proto
    written = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    if written != opset:
        raise OnnxExportError(f"the dynamo exporter wrote opset {written} instead of {opset}; "
                              f"use the legacy exporter or opset {written}")
    return proto


def add_metadata(proto, config, class_names: list[str], source: str = "") -> None:
    """Store what a runtime needs to decode the output in ``metadata_props`` (strings; JSON for lists)."""
    from engine.model.heads import output_shape

    if config.head == "anchor_free":
        output = (f"{OUTPUT_NAME}: float32 N x {config.num_anchors} x {4 + config.num_classes}; per point of the "
                  f"strides {', '.join(map(str, config.strides))} [x1, y1, x2, y2] in fractions of the input, then "
                  f"{config.num_classes} class probabilities")
    else:
        output = (f"{OUTPUT_NAME}: float32 N x {config.grid_size} x {config.grid_size} x {config.channels_per_cell} "
                  f"after sigmoid; per cell [x, y, w, h, conf] x {config.boxes_per_cell} then {config.num_classes} "
                  "class scores")
    entries = {
        "format": METADATA_FORMAT,
        "version": METADATA_VERSION,
        "class_names": json.dumps(list(class_names)),
        "model_config": json.dumps(config.to_dict()),
        "image_size": str(config.image_size),
        "boxes_per_cell": str(config.boxes_per_cell),
        "num_classes": str(config.num_classes),
        "input": f"{INPUT_NAME}: float32 N x 3 x {config.image_size} x {config.image_size}, RGB in [0, 1] "
                 "(ImageNet normalisation is inside the model)",
        "head": config.head,
        "output_shape": json.dumps(list(output_shape(config))),
        "output": output,
        "source_checkpoint": source,
    }
    del proto.metadata_props[:]
    for key, value in entries.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    proto.producer_name = "resyolo"


__all__ = ["CheckpointError", "OnnxExportError", "export_onnx", "DEFAULT_OPSET", "EXPORTERS", "METADATA_FORMAT"]
