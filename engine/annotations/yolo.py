"""YOLO txt labels (labelImg / Ultralytics) and ``classes.txt``.

One ``.txt`` per image, one line per box: ``class_id cx cy w h`` with the centre and size as
fractions of the image width/height. Converting needs the image size, which the caller
supplies. An empty txt is an image labelled as having no objects; a missing txt is an
unlabelled image (the folder loader makes that distinction, :func:`read_yolo_txt` needs a file).

The format has no "difficult" or "verified" flag; both are lost on writing.

Where the txt lives: beside the image, or, in the Ultralytics layout
(``root/images/…/a.jpg`` with ``root/labels/`` beside it), at ``root/labels/…/a.txt``.
"""
from __future__ import annotations

import math
from pathlib import Path

from engine.annotations.atomic import atomic_write_text
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet

CLASSES_FILE = "classes.txt"
# Normalised values a hair outside [0, 1] come from float rounding in other tools, not from bad data.
_TOLERANCE = 1e-6


def read_classes_txt(path: Path | str) -> LabelSet:
    """One class name per line, id = line number from 0. Blank lines are skipped."""
    path = Path(path)
    text = _read_text(path)
    names: list[str] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if name in names:
            raise AnnotationError(path, f"class {name!r} listed twice", f"line {line_number}")
        names.append(name)
    return LabelSet(names)


def write_classes_txt(labels: LabelSet, path: Path | str) -> Path:
    path = Path(path)
    atomic_write_text(path, "".join(f"{name}\n" for name in labels.names))
    return path


def read_yolo_txt(txt_path: Path | str, image_path: Path | str, width: int, height: int,
                  labels: LabelSet) -> ImageAnnotation:
    """Read one YOLO label file for an image of ``width`` x ``height`` pixels (after EXIF orientation)."""
    txt_path = Path(txt_path)
    if width <= 0 or height <= 0:
        raise ValueError(f"{txt_path}: image size must be known to read YOLO labels, got {width}x{height}")
    boxes = []
    for line_number, line in enumerate(_read_text(txt_path).splitlines(), start=1):
        if line.strip():
            boxes.append(_parse_line(line, txt_path, f"line {line_number}", width, height, labels))
    return ImageAnnotation(image_path=Path(image_path), width=int(width), height=int(height), boxes=boxes)


def write_yolo_txt(ann: ImageAnnotation, labels: LabelSet, txt_path: Path | str | None = None) -> Path:
    """Write ``ann`` (default path: :func:`yolo_label_path`). Every box label must be in ``labels``."""
    if ann.width <= 0 or ann.height <= 0:
        raise ValueError(f"{ann.image_path}: image size must be known to write YOLO labels")
    txt_path = Path(txt_path) if txt_path is not None else yolo_label_path(ann.image_path)
    lines = []
    for box in ann.boxes:
        class_id = labels.index(box.label)
        x1, x2 = (min(max(v, 0.0), ann.width) for v in (box.x1, box.x2))
        y1, y2 = (min(max(v, 0.0), ann.height) for v in (box.y1, box.y2))
        cx, cy = (x1 + x2) / 2 / ann.width, (y1 + y2) / 2 / ann.height
        w, h = (x2 - x1) / ann.width, (y2 - y1) / ann.height
        lines.append(f"{class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    txt_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(txt_path, "".join(lines))
    return txt_path


def yolo_label_path(image_path: Path | str) -> Path:
    """Where an image's txt lives: Ultralytics ``labels/`` tree if the dataset has one, else beside the image.

    Ultralytics swaps the last ``images`` folder of the path for ``labels``; we do that only when that
    ``labels`` folder exists, so an unrelated folder that happens to be called "images" keeps its txt
    files beside the pictures.
    """
    image_path = Path(image_path)
    root = ultralytics_root(image_path)
    if root is not None:
        relative = image_path.relative_to(root / "images")
        return (root / "labels" / relative).with_suffix(".txt")
    return image_path.with_suffix(".txt")


def ultralytics_root(image_path: Path | str) -> Path | None:
    """The dataset root R if the image is under ``R/images/`` and ``R/labels/`` exists, else None."""
    image_path = Path(image_path)
    for parent in image_path.parents:
        if parent.name == "images":
            return parent.parent if (parent.parent / "labels").is_dir() else None
    return None


def _parse_line(line: str, path: Path, where: str, width: int, height: int, labels: LabelSet) -> Box:
    fields = line.split()
    if len(fields) != 5:
        raise AnnotationError(path, f"expected 5 fields 'class cx cy w h', found {len(fields)}", where)
    try:
        class_number = float(fields[0])
        cx, cy, w, h = (float(f) for f in fields[1:])
    except ValueError:
        raise AnnotationError(path, f"not a number in {line.strip()!r}", where) from None
    if not all(math.isfinite(v) for v in (class_number, cx, cy, w, h)):
        raise AnnotationError(path, f"not a finite number in {line.strip()!r}", where)
    if not class_number.is_integer():
        raise AnnotationError(path, f"class id {fields[0]!r} is not a whole number", where)
    class_id = int(class_number)
    if not 0 <= class_id < len(labels):
        known = f"0..{len(labels) - 1}" if len(labels) else f"none: no {CLASSES_FILE} entries"
        raise AnnotationError(path, f"unknown class id {class_id} (known ids: {known})", where)
    for name, value in (("cx", cx), ("cy", cy), ("w", w), ("h", h)):
        if not -_TOLERANCE <= value <= 1 + _TOLERANCE:
            raise AnnotationError(path, f"{name} = {value:g} is outside [0, 1] (values must be normalised)", where)
    if w <= 0 or h <= 0:
        raise AnnotationError(path, f"box has zero size (w = {w:g}, h = {h:g})", where)
    x1, x2 = max((cx - w / 2) * width, 0.0), min((cx + w / 2) * width, float(width))
    y1, y2 = max((cy - h / 2) * height, 0.0), min((cy + h / 2) * height, float(height))
    if x2 <= x1 or y2 <= y1:
        raise AnnotationError(path, "box lies outside the image", where)
    return Box(labels.name(class_id), x1, y1, x2, y2)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: Windows editors add a BOM
    except FileNotFoundError:
        raise AnnotationError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise AnnotationError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise AnnotationError(path, f"cannot read file: {exc.strerror or exc}") from None
