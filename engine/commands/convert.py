"""`resyolo convert SRC --to FORMAT OUT`: a labelled dataset written in another format (see
:mod:`engine.annotations.convert`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.annotations.convert import CONVERT_TARGETS, ConvertError, convert


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "convert", help="write a labelled dataset in another label format",
        description="Convert a dataset (any format ResYOLO reads: VOC, VOC devkit, YOLO, Ultralytics data.yaml, "
                    "COCO, labelme, CVAT) into a new folder in another format. Images are hard-linked (or copied).")
    parser.add_argument("src", type=Path, metavar="SRC", help="dataset folder (or its data.yaml)")
    parser.add_argument("--to", required=True, choices=CONVERT_TARGETS, help="target format")
    parser.add_argument("out", type=Path, metavar="OUT", help="output folder (new or empty)")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty OUT")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        report = convert(args.src, args.to, args.out, overwrite=args.overwrite)
    except (ConvertError, OSError) as exc:
        print(f"resyolo convert: {exc}", file=sys.stderr)
        return 1
    for label, items in (("problem reading the source", report.problems), ("change on writing", report.warnings)):
        for item in items[:20]:
            print(f"{label}: {item}", file=sys.stderr)
        if len(items) > 20:
            print(f"... and {len(items) - 20} more", file=sys.stderr)
    print(f"Wrote {report.images} images with {report.boxes} boxes as {args.to} to {args.out} "
          f"({len(report.label_files)} label file(s))")
    return 0
