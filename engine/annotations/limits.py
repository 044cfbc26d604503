"""Guards every label reader shares: a size limit checked before parsing, and finite numbers only.

A 200 MB XML once made the app grow to 20 GB: no label file of a real dataset is near 64 MB (COCO's
train2017 instances file, the largest common one, is ~450 MB and is refused too: split it, or raise
:data:`MAX_LABEL_FILE_BYTES` on purpose).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from engine.annotations import fingerprints
from engine.annotations.records import AnnotationError

MAX_LABEL_FILE_BYTES = 64 * 1024 * 1024


def check_size(path: Path | str) -> None:
    """Raise :class:`AnnotationError` (file left untouched) if ``path`` is larger than the limit."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise AnnotationError(path, "file not found") from None
    except OSError as exc:
        raise AnnotationError(path, f"cannot read file: {exc.strerror or exc}") from None
    if size > MAX_LABEL_FILE_BYTES:
        raise AnnotationError(path, f"file too large to be a label file ({size / 2**20:.0f} MB, limit "
                              f"{MAX_LABEL_FILE_BYTES / 2**20:.0f} MB); not read, left untouched")


def read_label_bytes(path: Path | str) -> bytes:
    """The bytes of a label file; one above the limit is refused before it is read or parsed (``fstat`` of the
    open file: no second path lookup)."""
    try:
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            size = stat.st_size
            if size > MAX_LABEL_FILE_BYTES:
                raise AnnotationError(path, f"file too large to be a label file ({size / 2**20:.0f} MB, limit "
                                      f"{MAX_LABEL_FILE_BYTES / 2**20:.0f} MB); not read, left untouched")
            data = f.read()
            fingerprints.record(path, stat, data)  # "still what was read" is checked against these very bytes
            return data
    except FileNotFoundError:
        raise AnnotationError(path, "file not found") from None
    except IsADirectoryError:
        raise AnnotationError(path, "a folder, not a label file") from None
    except OSError as exc:
        raise AnnotationError(path, f"cannot read file: {exc.strerror or exc}") from None


def read_label_text(path: Path | str) -> str:
    """The text of a label file (UTF-8, a BOM allowed), size-checked first."""
    data = read_label_bytes(path)
    try:
        return data.decode("utf-8-sig")  # -sig: Windows editors add a BOM
    except UnicodeDecodeError as exc:
        raise AnnotationError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def finite(value: float, path: Path, name: str, where: str | None) -> float:
    if not math.isfinite(value):
        raise AnnotationError(path, f"{name} is not a finite number ({value!r})", where)
    return value
