"""labelme JSON, one file beside each image (as labelme's ``_label_file.py`` reads and writes it).

Keys: ``version``, ``flags``, ``shapes``, ``imagePath``, ``imageData`` (base64 or null), ``imageHeight``,
``imageWidth``; a shape has ``label``, ``points``, ``group_id``, ``description``, ``shape_type``, ``flags``,
``mask``. A ``rectangle`` (two corner points, in any order) is a box; every other shape (polygon, point,
line, circle, mask...) is not a box: it is listed as a problem "not a box" and kept untouched on saving,
together with ``imageData``, ``flags`` and any key we do not know. Saving rewrites only the rectangles.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from engine.io.atomic import atomic_write_text
from engine.annotations.beside import cached_label_paths, count_existing, image_size, load_each, same_stem
from engine.annotations.clipping import boxes_to_write
from engine.annotations.limits import read_label_text
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet, NotABox

SUFFIX = ".json"
VERSION = "5.5.0"  # the labelme file version we write in a new file
label_path = same_stem(SUFFIX)


def load_labelme_dict(path: Path) -> dict:
    text = read_label_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationError(path, f"not valid JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise AnnotationError(path, "not a labelme file (expected an object with a 'shapes' list)")
    return data


def is_labelme_file(path: Path) -> bool:
    try:
        load_labelme_dict(path)
        return True
    except AnnotationError:
        return False


def read_labelme_json(path: Path | str, image_path: Path | str, problems: list | None = None) -> ImageAnnotation:
    path = Path(path)
    data = load_labelme_dict(path)
    boxes = []
    for i, shape in enumerate(data["shapes"]):
        try:
            box = _box(shape, i, path)
        except AnnotationError as exc:
            if problems is None:
                raise
            problems.append(exc)
            continue
        if box is not None:
            boxes.append(box)
        elif problems is not None:
            kind = shape.get("shape_type") or "polygon"
            problems.append(NotABox(path, f"not a box: {kind} '{shape.get('label', '')}' (kept as it is)",
                                            f"shapes[{i}]"))
    return ImageAnnotation(Path(image_path), int(data.get("imageWidth") or 0), int(data.get("imageHeight") or 0), boxes)


def write_labelme_json(ann: ImageAnnotation, path: Path | str | None = None, warnings: list | None = None) -> Path:
    """Write ``ann``'s boxes as rectangles; shapes that are not boxes and every other key of an existing file stay."""
    path = Path(path) if path is not None else label_path(ann.image_path)
    data = load_labelme_dict(path) if path.exists() else {
        "version": VERSION, "flags": {}, "shapes": [], "imagePath": Path(ann.image_path).name, "imageData": None}
    kept = [s for s in data["shapes"] if not _is_rectangle(s)]
    rectangles = [{"label": b.label, "points": [[b.x1, b.y1], [b.x2, b.y2]], "group_id": None, "description": "",
                   "shape_type": "rectangle", "flags": {"difficult": True} if b.difficult else {}, "mask": None}
                  for b in boxes_to_write(ann, path, warnings)]
    data["shapes"] = rectangles + kept
    data["imageHeight"], data["imageWidth"] = int(ann.height), int(ann.width)
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def _is_rectangle(shape) -> bool:
    return isinstance(shape, dict) and shape.get("shape_type") == "rectangle"


def _box(shape, i: int, path: Path) -> Box | None:
    where = f"shapes[{i}]"
    if not isinstance(shape, dict):
        raise AnnotationError(path, f"expected a shape object, found {shape!r}", where)
    if not _is_rectangle(shape):
        return None
    label = str(shape.get("label") or "").strip()
    if not label:
        raise AnnotationError(path, "rectangle without a label", where)
    points = shape.get("points")
    try:
        (xa, ya), (xb, yb) = ((float(x), float(y)) for x, y in points)
    except (TypeError, ValueError):
        raise AnnotationError(path, f"a rectangle needs two [x, y] points, found {points!r}", where) from None
    if not all(math.isfinite(v) for v in (xa, ya, xb, yb)):
        raise AnnotationError(path, f"not a finite number in {points!r}", where)
    x1, x2, y1, y2 = min(xa, xb), max(xa, xb), min(ya, yb), max(ya, yb)
    if x2 <= x1 or y2 <= y1:
        raise AnnotationError(path, f"rectangle has no area: {points!r}", where)
    flags = shape.get("flags") if isinstance(shape.get("flags"), dict) else {}
    return Box(label, x1, y1, x2, y2, difficult=bool(flags.get("difficult", False)))


# ---- the format table entry ---------------------------------------------------------------------------------
def _paths(listing) -> list[str]:
    return cached_label_paths(listing, "labelme", label_path)


def detect(listing) -> int:
    folders = listing.images_by_folder()
    if not any(name.endswith(SUFFIX) for folder in folders for name in listing.files_in(folder)):
        return 0  # no JSON beside any image: not even the label paths are worth computing
    paths = [p for p in _paths(listing) if listing.has_file(p)]
    # only files that are labelme's (a COCO file may share an image's stem): look at the first few
    return count_existing(listing, paths) if any(is_labelme_file(Path(p)) for p in paths[:3]) else 0


def load(listing, loaded) -> None:
    def read_one(path, ann, problems):
        read = read_labelme_json(path, ann.image_path, problems)
        if read.width <= 0 or read.height <= 0:
            read.width, read.height = image_size(ann.image_path)
        return read

    load_each(loaded, listing, _paths(listing), read_one)
    for ann in loaded.annotations:
        for name in sorted(ann.labels()):
            loaded.labels.add(name)


def write(ann: ImageAnnotation, labels: LabelSet, target: Path | None = None, warnings: list | None = None) -> Path:
    return write_labelme_json(ann, target, warnings)


def _format():
    from engine.annotations.formats import LabelFormat
    from engine.annotations.yolo import classes_txt_path_if_any, read_class_names, write_class_names

    return LabelFormat(
        name="labelme", title="labelme JSON", detect=detect, load=load, write=write, label_path=label_path,
        class_list_path=classes_txt_path_if_any, read_class_list=read_class_names, write_class_list=write_class_names,
        keeps="rectangles as boxes (float pixels), difficult (a shape flag); other shapes, imageData, flags and "
              "unknown keys untouched", loses="verified (kept in .resyolo/project.json)")


FORMAT = _format()
