"""YOLO txt labels (labelImg / Ultralytics) and ``classes.txt``.

One ``.txt`` per image, one line per box: ``class_id cx cy w h`` with the centre and size as
fractions of the image width/height. Converting needs the image size, which the caller
supplies. An empty txt is an image labelled as having no objects; a missing txt is an
unlabelled image (the folder loader makes that distinction, :func:`read_yolo_txt` needs a file).

The format has no "difficult" or "verified" flag; both are lost on writing. A line of more than 5
fields with an odd count after the class is an Ultralytics segmentation polygon (``class x1 y1 x2 y2
...``): it reads as the polygon's bounding box, as Ultralytics reads it for detection.

Where the txt lives: beside the image, or, in the Ultralytics layout
(``root/images/…/a.jpg`` with ``root/labels/`` beside it), at ``root/labels/…/a.txt``.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from engine.io.atomic import atomic_write_text
from engine.annotations.beside import count_label_files, first_label_paths, image_size, load_each
from engine.annotations.clipping import boxes_to_write
from engine.annotations.limits import read_label_text
from engine.annotations.listing import natural_sort_key
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
                  labels: LabelSet, problems: list | None = None) -> ImageAnnotation:
    """Read one YOLO label file for an image of ``width`` x ``height`` pixels (after EXIF orientation).
    ``problems``: a list to receive each bad line (then skipped, the others kept); without it the first raises."""
    txt_path = Path(txt_path)
    if width <= 0 or height <= 0:
        raise ValueError(f"{txt_path}: image size must be known to read YOLO labels, got {width}x{height}")
    boxes = []
    for line_number, line in enumerate(_read_text(txt_path).splitlines(), start=1):
        if line.strip():
            try:
                boxes.append(_parse_line(line, txt_path, f"line {line_number}", width, height, labels))
            except AnnotationError as exc:
                if problems is None:
                    raise
                problems.append(exc)
    return ImageAnnotation(image_path=Path(image_path), width=int(width), height=int(height), boxes=boxes)


def write_yolo_txt(ann: ImageAnnotation, labels: LabelSet, txt_path: Path | str | None = None,
                   warnings: list | None = None) -> Path:
    """Write ``ann`` (default path: :func:`yolo_label_path`). Every box label must be in ``labels``. Boxes are
    clipped to the image and empty ones dropped (each reported in ``warnings``): the file always reads back."""
    if ann.width <= 0 or ann.height <= 0:
        raise ValueError(f"{ann.image_path}: image size must be known to write YOLO labels")
    txt_path = Path(txt_path) if txt_path is not None else yolo_label_path(ann.image_path)
    _refuse_class_list(txt_path, ann.image_path)
    lines = []
    for box in boxes_to_write(ann, txt_path, warnings):
        class_id = labels.index(box.label)
        x1, y1, x2, y2 = box.xyxy()
        cx, cy = (x1 + x2) / 2 / ann.width, (y1 + y2) / 2 / ann.height
        w, h = (x2 - x1) / ann.width, (y2 - y1) / ann.height
        lines.append(f"{class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    txt_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(txt_path, "".join(lines))
    return txt_path


def _refuse_class_list(txt_path: Path, image_path: Path | str) -> None:
    """An image named ``classes.jpg`` would have the class list as its label file: reading it as boxes, or
    writing boxes over the class names (every id renumbered), is refused by name."""
    if txt_path.name.lower() == CLASSES_FILE:
        raise AnnotationError(Path(image_path), f"its YOLO label file would be {txt_path}, the class list of the "
                                                "folder; rename the image to label it")


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
    polygon = len(fields) > 5 and len(fields) % 2 == 1
    if len(fields) != 5 and not polygon:
        raise AnnotationError(path, f"expected 5 fields 'class cx cy w h' (or a polygon 'class x1 y1 x2 y2 x3 y3 "
                              f"...'), found {len(fields)}", where)
    try:
        values = [float(f) for f in fields]
    except ValueError:
        raise AnnotationError(path, f"not a number in {line.strip()!r}", where) from None
    if not all(math.isfinite(v) for v in values):
        raise AnnotationError(path, f"not a finite number in {line.strip()!r}", where)
    class_number = values[0]
    if polygon:
        xs, ys = values[1::2], values[2::2]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        w, h = max(xs) - min(xs), max(ys) - min(ys)
    else:
        cx, cy, w, h = values[1:]
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
    return read_label_text(path)


# ---- classes.txt: where it is, read and written as a plain list of names ------------------------------------
def find_classes_txt(folder: Path | str, listing=None) -> Path | None:
    """The dataset's ``classes.txt``: in ``folder``, in ``folder/labels/``, else in a ``labels/<split>/``
    folder (where labelImg writes it for the Ultralytics layout), the first in natural order.
    ``listing``: the folder's FolderListing, to look in it rather than ask the disk."""
    folder = Path(folder)
    is_file = listing.has_file if listing is not None else os.path.isfile
    is_dir = listing.has_dir if listing is not None else os.path.isdir
    for candidate in (folder / CLASSES_FILE, folder / "labels" / CLASSES_FILE):
        if is_file(candidate):
            return candidate
    if is_dir(folder / "labels"):
        nested = [p for p in (folder / "labels").glob(f"*/{CLASSES_FILE}") if p.is_file()]
        if nested:
            return min(nested, key=lambda p: natural_sort_key(p.as_posix()))
    return None


def classes_txt_path(folder: Path | str, listing=None) -> Path:
    """Where the class list of a YOLO dataset rooted at ``folder`` is written: the ``classes.txt`` the loader
    reads (:func:`find_classes_txt`), else a new one in ``folder`` itself."""
    return find_classes_txt(folder, listing) or Path(folder) / CLASSES_FILE


def classes_txt_path_if_any(folder: Path | str, listing=None) -> Path | None:
    return find_classes_txt(folder, listing)


def read_class_names(path: Path) -> list[str]:
    return read_classes_txt(path).names


def write_class_names(path: Path, names: list[str]) -> None:
    wanted = "".join(f"{n}\n" for n in names)
    if not Path(path).exists() or Path(path).read_text(encoding="utf-8") != wanted:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_classes_txt(LabelSet(list(names)), path)


# ---- the format table entry ---------------------------------------------------------------------------------
def detect(listing) -> int:
    count = count_label_files(listing, yolo_label_path)
    if count:
        return count
    return 1 if find_classes_txt(listing.folder, listing) is not None or listing.has_dir(listing.folder / "labels") else 0


def load(listing, loaded, paths: list[str] | None = None, classes_path: Path | None = None) -> None:
    """Read every image's txt. The class list is ``loaded.labels`` if set (data.yaml), else ``classes.txt``."""
    paths = first_label_paths(listing, loaded, yolo_label_path) if paths is None else paths
    if not loaded.labels.names:
        classes_path = classes_path or find_classes_txt(listing.folder, listing)
        if classes_path is not None:
            try:
                loaded.labels = read_classes_txt(classes_path)
            except AnnotationError as exc:
                loaded.errors.append(exc)
        elif count_label_files(listing, yolo_label_path) if len(paths) < len(listing.image_texts) else \
                any(listing.has_file(p) for p in paths):
            loaded.errors.append(AnnotationError(listing.folder / CLASSES_FILE, "missing: it names the class ids "
                                                 "used in the YOLO txt files"))

    def read_one(path, ann, problems):
        _refuse_class_list(path, ann.image_path)
        width, height = image_size(ann.image_path)
        return read_yolo_txt(path, ann.image_path, width, height, loaded.labels, problems)

    load_each(loaded, listing, paths, read_one)


def write(ann: ImageAnnotation, labels: LabelSet, target: Path | None = None, warnings: list | None = None) -> Path:
    return write_yolo_txt(ann, labels, target, warnings)


def _format():
    from engine.annotations.formats import LabelFormat

    return LabelFormat(
        name="yolo", title="YOLO txt + classes.txt (labelImg)", detect=detect, load=load, write=write,
        label_path=yolo_label_path, class_list_path=classes_txt_path, read_class_list=read_class_names,
        write_class_list=write_class_names, numbered_classes=True,
        keeps="class ids, boxes (6 decimals of the image size)",
        loses="difficult, verified (kept in .resyolo/project.json), segmentation polygons (read as their box)")


FORMAT = _format()
