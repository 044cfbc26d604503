"""A folder of images and its labels, whatever the format: find the format, load everything, save one image.

Where images are found: directly in the folder, and anywhere under an ``images/`` subfolder (the
Ultralytics layout ``images/`` + ``labels/``). Files whose name starts with a dot are skipped (macOS
leaves ``._name.jpg`` companions on shared drives). Order is natural: ``img2`` before ``img10``.

Which format (:func:`detect_format`):

1. COCO: a ``*.json`` file, directly in the folder or in its ``annotations/`` subfolder, whose top level
   is an object with ``images``, ``annotations`` and ``categories`` lists. If several qualify, the one
   named ``annotations.json`` wins, else the first in name order (:func:`find_coco_json`).
2. YOLO or VOC, by the label files beside the images: ``a.txt`` (or ``labels/…/a.txt``) versus ``a.xml``;
   whichever covers more images wins, a tie goes to VOC (it keeps more: difficult, verified).
3. No label files yet: YOLO if there is a ``classes.txt`` or a ``labels/`` folder.
4. A ``*.json`` that is not even JSON: COCO, so that loading reports the broken file.
5. Otherwise ``None``: an unlabelled folder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.annotations.coco import load_coco_dict, read_coco_json, update_coco_json
from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet
from engine.annotations.voc import read_voc_xml, write_voc_xml
from engine.annotations.yolo import (CLASSES_FILE, read_classes_txt, read_yolo_txt, ultralytics_root,
                                     write_classes_txt, write_yolo_txt, yolo_label_path)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})  # compared lower-case
FORMATS = ("voc", "yolo", "coco")
COCO_DEFAULT_NAME = "annotations.json"


@dataclass
class LoadedFolder:
    annotations: list[ImageAnnotation]
    labels: LabelSet
    errors: list[AnnotationError] = field(default_factory=list)
    format: str | None = None


def natural_sort_key(text: str) -> tuple:
    """``img2`` before ``img10``; case-insensitive."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(text).lower()))


def list_images(folder: Path | str) -> list[Path]:
    folder = Path(folder)
    found = [p for p in folder.iterdir() if _is_image(p)]
    if (folder / "images").is_dir():
        found += [p for p in (folder / "images").rglob("*") if _is_image(p)]
    return sorted(found, key=lambda p: natural_sort_key(p.relative_to(folder).as_posix()))


def find_coco_json(folder: Path | str) -> Path | None:
    """The folder's COCO file by the rule in the module docstring, or None."""
    qualifying = [path for path, data in _json_candidates(Path(folder)) if data is not None]
    if not qualifying:
        return None
    return next((p for p in qualifying if p.name == COCO_DEFAULT_NAME), qualifying[0])


def detect_format(folder: Path | str) -> str | None:
    folder = _existing_folder(folder)
    candidates = _json_candidates(folder)
    if any(data is not None for _, data in candidates):
        return "coco"
    images = list_images(folder)
    txt_count = sum(yolo_label_path(p).is_file() for p in images)
    xml_count = sum(p.with_suffix(".xml").is_file() for p in images)
    if txt_count or xml_count:
        return "yolo" if txt_count > xml_count else "voc"
    if _classes_txt(folder) is not None or (folder / "labels").is_dir():
        return "yolo"
    if candidates:  # only unparseable JSON is left: call it COCO so the load names the broken file
        return "coco"
    return None


def load_folder(folder: Path | str, format: str | None = None) -> LoadedFolder:
    """Every image in ``folder`` with its labels (none if unlabelled). Bad label files go to ``errors``."""
    folder = _existing_folder(folder)
    format = detect_format(folder) if format is None else format
    if format not in (*FORMATS, None):
        raise ValueError(f"unknown annotation format {format!r}; expected one of {', '.join(FORMATS)}")
    annotations = [ImageAnnotation(image_path=p) for p in list_images(folder)]
    loaded = LoadedFolder(annotations, LabelSet(), [], format)
    if format == "coco":
        _load_coco(folder, loaded)
    else:
        classes_path = _classes_txt(folder)
        if classes_path is not None:
            try:
                loaded.labels = read_classes_txt(classes_path)
            except AnnotationError as exc:
                loaded.errors.append(exc)
        if format == "voc":
            _load_voc(loaded)
        elif format == "yolo":
            if classes_path is None and any(yolo_label_path(a.image_path).is_file() for a in annotations):
                loaded.errors.append(AnnotationError(folder / CLASSES_FILE, "missing: it names the class ids "
                                                     "used in the YOLO txt files"))
            _load_yolo(loaded)
    return loaded


def save_annotation(ann: ImageAnnotation, labels: LabelSet, format: str, *, coco_path: Path | str | None = None) -> Path:
    """Write one image's labels in ``format``; returns the file written.

    YOLO also keeps ``classes.txt`` in step with ``labels`` (adding new classes at the end). It refuses
    a ``labels`` that would renumber the classes already in ``classes.txt``: every other txt file in the
    folder would silently change meaning. COCO updates that image's entry in the dataset's JSON
    (``coco_path``, else :func:`find_coco_json` of the image's dataset folder, else a new
    ``annotations.json`` there).
    """
    image_path = Path(ann.image_path)
    dataset_folder = ultralytics_root(image_path) or image_path.parent
    if format == "voc":
        existing = _classes_txt(dataset_folder)
        if existing is not None:
            _extend_classes_txt(existing, labels, keep_order=False)
        return write_voc_xml(ann)
    if format == "yolo":
        _extend_classes_txt(_classes_txt(dataset_folder) or dataset_folder / CLASSES_FILE, labels, keep_order=True)
        return write_yolo_txt(ann, labels)
    if format == "coco":
        if coco_path is None:
            root = image_path.parent.parent if image_path.parent.name == "images" else image_path.parent
            coco_path = find_coco_json(root) or find_coco_json(image_path.parent) or root / COCO_DEFAULT_NAME
        return update_coco_json(coco_path, ann, labels)
    raise ValueError(f"unknown annotation format {format!r}; expected one of {', '.join(FORMATS)}")


def _load_voc(loaded: LoadedFolder) -> None:
    seen: set[str] = set()
    for i, ann in enumerate(loaded.annotations):
        xml_path = ann.image_path.with_suffix(".xml")
        if not xml_path.is_file():
            continue
        try:
            read = read_voc_xml(xml_path)
            if read.width <= 0 or read.height <= 0:
                read.width, read.height = _image_size(ann.image_path)
        except AnnotationError as exc:
            loaded.errors.append(exc)
            continue
        read.image_path = ann.image_path  # the image we found, whatever <filename> says
        loaded.annotations[i] = read
        seen |= read.labels()
    for name in sorted(seen - set(loaded.labels.names)):
        loaded.labels.add(name)


def _load_yolo(loaded: LoadedFolder) -> None:
    for i, ann in enumerate(loaded.annotations):
        txt_path = yolo_label_path(ann.image_path)
        if not txt_path.is_file():
            continue
        try:
            width, height = _image_size(ann.image_path)
            loaded.annotations[i] = read_yolo_txt(txt_path, ann.image_path, width, height, loaded.labels)
        except AnnotationError as exc:
            loaded.errors.append(exc)


def _load_coco(folder: Path, loaded: LoadedFolder) -> None:
    coco_path = find_coco_json(folder)
    if coco_path is None:
        broken = [path for path, data in _json_candidates(folder) if data is None]
        for path in broken:
            try:
                load_coco_dict(path)
            except AnnotationError as exc:
                loaded.errors.append(exc)
        if not broken:
            loaded.errors.append(AnnotationError(folder, "no COCO JSON file found (a *.json with images, "
                                                 "annotations and categories)"))
        return
    try:
        records, loaded.labels = read_coco_json(coco_path)
    except AnnotationError as exc:
        loaded.errors.append(exc)
        return
    position = {ann.image_path.resolve(): i for i, ann in enumerate(loaded.annotations)}
    by_name: dict[str, list[int]] = {}
    for i, ann in enumerate(loaded.annotations):
        by_name.setdefault(ann.image_path.name, []).append(i)
    for record in records:
        i = position.get(record.image_path.resolve())
        if i is None and len(by_name.get(record.image_path.name, [])) == 1:
            i = by_name[record.image_path.name][0]  # file_name relative to another root: match by name
        if i is None:
            if record.image_path.is_file():  # an image outside the places we scan: still part of the dataset
                loaded.annotations.append(record)
            else:
                loaded.errors.append(AnnotationError(coco_path, f"image file not found: {record.image_path}",
                                                     f"images: {record.image_path.name}"))
            continue
        record.image_path = loaded.annotations[i].image_path
        if record.width <= 0 or record.height <= 0:
            try:
                record.width, record.height = _image_size(record.image_path)
            except AnnotationError as exc:
                loaded.errors.append(exc)
        loaded.annotations[i] = record


def _json_candidates(folder: Path) -> list[tuple[Path, dict | None]]:
    """Each ``*.json`` in the folder and its ``annotations/``: its data if COCO-shaped, None if not JSON.

    Valid JSON of another shape is not a candidate at all, and a JSON named like an image beside it
    (labelme writes one per image) is not even opened: a labelme folder would otherwise be parsed in full.
    """
    image_stems = {p.stem for p in folder.iterdir() if _is_image(p)}
    paths = sorted((p for p in folder.glob("*.json") if p.stem not in image_stems), key=lambda p: natural_sort_key(p.name))
    if (folder / "annotations").is_dir():
        paths += sorted((folder / "annotations").glob("*.json"), key=lambda p: natural_sort_key(p.name))
    result = []
    for path in paths:
        try:
            result.append((path, load_coco_dict(path)))
        except AnnotationError as exc:
            if exc.problem.startswith("not valid JSON") or exc.problem.startswith("cannot read"):
                result.append((path, None))
    return result


def _classes_txt(folder: Path) -> Path | None:
    for candidate in (folder / CLASSES_FILE, folder / "labels" / CLASSES_FILE):
        if candidate.is_file():
            return candidate
    return None


def _extend_classes_txt(path: Path, labels: LabelSet, keep_order: bool) -> None:
    """Add the classes of ``labels`` that ``path`` lacks; never remove or (if ``keep_order``) renumber one."""
    existing = read_classes_txt(path).names if path.is_file() else []
    if keep_order:
        shorter, longer = sorted((existing, labels.names), key=len)
        if longer[: len(shorter)] != shorter:
            raise AnnotationError(path, f"class list {labels.names} would renumber the classes in this file "
                                  f"({existing}); YOLO label files refer to classes by number")
        wanted = longer
    else:
        wanted = existing + [n for n in labels.names if n not in existing]
    if wanted != existing:
        write_classes_txt(LabelSet(list(wanted)), path)


def _image_size(image_path: Path) -> tuple[int, int]:
    from engine.images import read_image_size  # deferred: image decoding is not needed to detect a format

    try:
        return read_image_size(image_path)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        raise AnnotationError(image_path, f"cannot read the image size: {reason}") from None


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".") and path.is_file()


def _existing_folder(folder: Path | str) -> Path:
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"folder not found: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    return folder
