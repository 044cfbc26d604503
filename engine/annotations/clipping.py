"""Writers write only what their readers read back: boxes clipped to the image, empty ones dropped, both reported."""
from __future__ import annotations

import math
from pathlib import Path

from engine.annotations.records import AnnotationError, Box, ImageAnnotation


def boxes_to_write(ann: ImageAnnotation, label_path: Path | str, warnings: list | None) -> list[Box]:
    """``ann.boxes`` clipped to ``[0, width] x [0, height]`` (when the size is known). A box changed by clipping
    is reported in ``warnings``; one with no area left (or a non-finite corner) is dropped and reported."""
    kept = []
    for number, box in enumerate(ann.boxes, start=1):
        where = f"box #{number} '{box.label}'"
        if not all(math.isfinite(v) for v in box.xyxy()):
            _warn(warnings, label_path, f"dropped: a corner is not a finite number {box.xyxy()}", where)
            continue
        clipped = box
        if ann.width > 0 and ann.height > 0:
            x1, x2 = (min(max(v, 0.0), float(ann.width)) for v in (box.x1, box.x2))
            y1, y2 = (min(max(v, 0.0), float(ann.height)) for v in (box.y1, box.y2))
            clipped = box.copy(x1=x1, y1=y1, x2=x2, y2=y2)
        if clipped.x2 <= clipped.x1 or clipped.y2 <= clipped.y1:
            _warn(warnings, label_path, f"dropped: box lies outside the {ann.width}x{ann.height} image or has no "
                                        f"area ({box.x1:g}, {box.y1:g}, {box.x2:g}, {box.y2:g})", where)
            continue
        if clipped != box:
            _warn(warnings, label_path, f"clipped to the image: ({box.x1:g}, {box.y1:g}, {box.x2:g}, {box.y2:g}) -> "
                                        f"({clipped.x1:g}, {clipped.y1:g}, {clipped.x2:g}, {clipped.y2:g})", where)
        kept.append(clipped)
    return kept


def _warn(warnings: list | None, path, problem: str, where: str) -> None:
    if warnings is not None:
        warnings.append(AnnotationError(path, problem, where))
