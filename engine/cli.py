"""`resyolo` command line. Each subcommand lives in ``engine/commands/<name>.py`` and exposes
``add_parser(subparsers)`` (which sets ``func``) so commands stay small and independent."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["train", "eval", "predict", "synth", "export", "convert"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="resyolo", description="ResNet-backbone YOLO detector: train, evaluate, predict.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"engine.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
