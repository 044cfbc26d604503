"""Argument types and error reporting shared by the `resyolo` subcommands."""
from __future__ import annotations

import argparse
import sys

EXIT_USAGE = 2


def usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _bounded_int(text: str, minimum: int, wording: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {wording}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _bounded_int(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    return _bounded_int(text, 0, "0 or more")


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value:g}")
    return value
