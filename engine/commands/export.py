"""``resyolo export CKPT --onnx OUT.onnx``: write a checkpoint as an ONNX model (see :mod:`engine.inference.export`).

Exit code 0 on success, 1 when the export itself fails, 2 for a usage error (missing or foreign checkpoint,
an output path that cannot be written or already exists, a bad option).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from engine.commands.argtypes import positive_int, usage_error

EXIT_OK, EXIT_FAILED = 0, 1


def add_parser(subparsers) -> None:
    from engine.inference.export import DEFAULT_OPSET, EXPORTERS

    parser = subparsers.add_parser(
        "export", help="export a checkpoint to ONNX",
        description="Export a ResYOLO checkpoint (its EMA weights when it has them) to ONNX. The model takes "
        "'images' N x 3 x H x W float RGB in [0, 1] (normalisation is inside) and gives 'output' "
        "N x S x S x (B*5 + C); class names, image size and B are in the model's metadata, so "
        "`resyolo predict --weights OUT.onnx` decodes it.")
    parser.add_argument("checkpoint", type=Path, metavar="CKPT", help="ResYOLO checkpoint (.pt), e.g. a run's best.pt")
    parser.add_argument("--onnx", required=True, type=Path, metavar="OUT.onnx", help="ONNX file to write")
    parser.add_argument("--dynamic-batch", action="store_true",
                        help="accept any batch size N (default: N fixed at 1)")
    parser.add_argument("--opset", type=positive_int, default=DEFAULT_OPSET, metavar="N",
                        help=f"ONNX opset version (default {DEFAULT_OPSET})")
    parser.add_argument("--exporter", choices=EXPORTERS, default="legacy",
                        help="torch's TorchScript-based exporter (legacy, default: fast, exact opset) or its "
                             "torch.export-based one (dynamo)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.onnx if it exists")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.model.checkpoint import CheckpointError
    from engine.inference.export import OnnxExportError, check_output_path, export_onnx

    if args.onnx.suffix.lower() != ".onnx":
        return usage_error(f"--onnx {args.onnx}: the file name must end in .onnx (so `resyolo predict` knows it)")
    try:
        check_output_path(args.onnx, args.checkpoint, args.overwrite)
    except OnnxExportError as exc:
        return usage_error(str(exc))
    started = time.perf_counter()
    try:
        out = export_onnx(args.checkpoint, args.onnx, dynamic_batch=args.dynamic_batch, opset=args.opset,
                          exporter=args.exporter, overwrite=args.overwrite)
    except CheckpointError as exc:
        return usage_error(str(exc))
    except OnnxExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    size_mb = out.stat().st_size / 1e6
    print(f"{out} ({size_mb:.1f} MB, opset {args.opset}, batch {'dynamic' if args.dynamic_batch else 1}) "
          f"in {time.perf_counter() - started:.1f} s")
    return EXIT_OK
