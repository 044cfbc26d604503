"""`resyolo synth OUT`: write a synthetic shapes dataset (see :mod:`engine.data.synth`)."""
from __future__ import annotations

import argparse
import re
import sys

from engine.data.synth import FORMATS, generate_dataset
from engine.data.synth_shapes import SHAPE_NAMES
from engine.commands.argtypes import positive_int


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth", help="write a synthetic shapes dataset (images + labels) for trying the pipeline",
        description="Write a synthetic detection dataset: coloured shapes on cluttered backgrounds, "
                    "JPEG images with labels. Never overwrites existing files.")
    parser.add_argument("out", metavar="OUT", help="output folder (created if missing)")
    parser.add_argument("--images", type=positive_int, default=100, metavar="N", help="number of images (default 100)")
    parser.add_argument("--classes", type=positive_int, default=4, metavar="K",
                        help=f"number of classes, 1..{len(SHAPE_NAMES)}: {', '.join(SHAPE_NAMES)} (default 4)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed; same seed, same files (default 0)")
    parser.add_argument("--format", choices=FORMATS, default="voc", help="label format (default voc)")
    parser.add_argument("--size", type=_image_size, default=(256, 256), metavar="WxH",
                        help="image size, e.g. 320x240, or 'varied' for a random size per image (default 256x256)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.classes > len(SHAPE_NAMES):
        print(f"resyolo synth: --classes must be at most {len(SHAPE_NAMES)}", file=sys.stderr)
        return 2
    try:
        annotations = generate_dataset(args.out, args.images, args.classes, args.seed, fmt=args.format,
                                       image_size=args.size)
    except (FileExistsError, OSError, ValueError) as exc:
        print(f"resyolo synth: {exc}", file=sys.stderr)
        return 1
    boxes = sum(len(a.boxes) for a in annotations)
    print(f"Wrote {len(annotations)} images with {boxes} boxes ({args.format}, "
          f"classes: {', '.join(SHAPE_NAMES[:args.classes])}) to {args.out}")
    return 0



def _image_size(text: str) -> tuple[int, int] | None:
    if text.strip().lower() == "varied":
        return None
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WxH such as 320x240, or 'varied'; got {text!r}")
    width, height = int(match[1]), int(match[2])
    if min(width, height) < 32 or max(width, height) > 8192:
        raise argparse.ArgumentTypeError(f"image size must be between 32 and 8192 pixels per side, got {text}")
    return width, height
