"""A folder of images and its labels, whatever the format: find the format, load everything, save one image.

Where images are found: directly in the folder, and anywhere under an ``images/`` subfolder (the
Ultralytics layout ``images/`` + ``labels/``). Files whose name starts with a dot are skipped (macOS
leaves ``._name.jpg`` companions on shared drives). Order is natural: ``img2`` before ``img10``.
Each folder is listed once (:class:`~engine.annotations.listing.FolderListing`); label files are
then found by name in those listings, not by asking the disk about each image.

Which format (:func:`detect_format`):

1. COCO: a ``*.json`` file, directly in the folder or in its ``annotations/`` subfolder, whose top level
   is an object with ``images``, ``annotations`` and ``categories`` lists. If several qualify, the one
   named ``annotations.json`` wins, else the first in name order (:func:`find_coco_json`).
2. YOLO or VOC, by the label files beside the images: ``a.txt`` (or ``labels/…/a.txt``) versus ``a.xml``;
   whichever covers more images wins, a tie goes to VOC (it keeps more: difficult, verified).
3. No label files yet: YOLO if there is a ``classes.txt`` (:func:`find_classes_txt`) or a ``labels/`` folder.
4. A ``*.json`` that is not even JSON: COCO, so that loading reports the broken file.
5. Otherwise ``None``: an unlabelled folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.annotations.coco import load_coco_dict, read_coco_json, update_coco_json
from engine.annotations.listing import IMAGE_EXTENSIONS, FolderListing, natural_sort_key
from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet
from engine.annotations.voc import read_voc_xml, write_voc_xml
from engine.annotations.yolo import (CLASSES_FILE, read_classes_txt, read_yolo_txt, ultralytics_root,
                                     write_classes_txt, write_yolo_txt, yolo_label_path)

__all__ = ["IMAGE_EXTENSIONS", "LoadedFolder", "classes_txt_path", "detect_format", "find_classes_txt",
           "find_coco_json", "list_images", "load_folder", "natural_sort_key", "save_annotation"]
FORMATS = ("voc", "yolo", "coco")
COCO_DEFAULT_NAME = "annotations.json"


@dataclass
class LoadedFolder:
    annotations: list[ImageAnnotation]
    labels: LabelSet
    errors: list[AnnotationError] = field(default_factory=list)
    format: str | None = None


def list_images(folder: Path | str) -> list[Path]:
    return FolderListing(folder).images


def find_coco_json(folder: Path | str) -> Path | None:
    """The folder's COCO file by the rule in the module docstring, or None."""
    qualifying = [path for path, data in _json_candidates(FolderListing(folder)) if data is not None]
    if not qualifying:
        return None
    return next((p for p in qualifying if p.name == COCO_DEFAULT_NAME), qualifying[0])


def find_classes_txt(folder: Path | str) -> Path | None:
    """The dataset's ``classes.txt``: in ``folder``, in ``folder/labels/``, else in a ``labels/<split>/``
    folder (where labelImg writes it for the Ultralytics layout), the first in natural order."""
    folder = Path(folder)
    for candidate in (folder / CLASSES_FILE, folder / "labels" / CLASSES_FILE):
        if candidate.is_file():
            return candidate
    if (folder / "labels").is_dir():
        nested = [p for p in (folder / "labels").glob(f"*/{CLASSES_FILE}") if p.is_file()]
        if nested:
            return min(nested, key=lambda p: natural_sort_key(p.as_posix()))
    return None


def classes_txt_path(folder: Path | str) -> Path:
    """Where the class list of a YOLO dataset rooted at ``folder`` is written: the ``classes.txt`` that
    :func:`load_folder` reads (:func:`find_classes_txt`), else a new one in ``folder`` itself."""
    return find_classes_txt(folder) or Path(folder) / CLASSES_FILE


def detect_format(folder: Path | str) -> str | None:
    return _detect_format(FolderListing(_existing_folder(folder)))


def load_folder(folder: Path | str, format: str | None = None) -> LoadedFolder:
    """Every image in ``folder`` with its labels (none if unlabelled). Bad label files go to ``errors``."""
    folder = _existing_folder(folder)
    if format not in (*FORMATS, None):
        raise ValueError(f"unknown annotation format {format!r}; expected one of {', '.join(FORMATS)}")
    listing = FolderListing(folder)  # listed once; detection and loading both look label files up in it
    format = _detect_format(listing) if format is None else format
    annotations = [ImageAnnotation(image_path=p) for p in listing.images]
    loaded = LoadedFolder(annotations, LabelSet(), [], format)
    if format == "coco":
        _load_coco(listing, loaded)
    else:
        classes_path = find_classes_txt(folder)
        if classes_path is not None:
            try:
                loaded.labels = read_classes_txt(classes_path)
            except AnnotationError as exc:
                loaded.errors.append(exc)
        if format == "voc":
            _load_voc(loaded, listing)
        elif format == "yolo":
            label_paths = _existing(_yolo_label_paths(listing.images), listing)
            if classes_path is None and any(label_paths):
                loaded.errors.append(AnnotationError(folder / CLASSES_FILE, "missing: it names the class ids "
                                                     "used in the YOLO txt files"))
            _load_yolo(loaded, label_paths)
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
        existing = find_classes_txt(dataset_folder)
        if existing is not None:
            _extend_classes_txt(existing, labels, keep_order=False)
        return write_voc_xml(ann)
    if format == "yolo":
        _extend_classes_txt(classes_txt_path(dataset_folder), labels, keep_order=True)
        return write_yolo_txt(ann, labels)
    if format == "coco":
        if coco_path is None:
            root = image_path.parent.parent if image_path.parent.name == "images" else image_path.parent
            coco_path = find_coco_json(root) or find_coco_json(image_path.parent) or root / COCO_DEFAULT_NAME
        return update_coco_json(coco_path, ann, labels)
    raise ValueError(f"unknown annotation format {format!r}; expected one of {', '.join(FORMATS)}")


def _detect_format(listing: FolderListing) -> str | None:
    candidates = _json_candidates(listing)
    if any(data is not None for _, data in candidates):
        return "coco"
    txt_count = sum(map(listing.has_file, _yolo_label_paths(listing.images)))
    xml_count = sum(map(listing.has_file, _voc_label_paths(listing.images)))
    if txt_count or xml_count:
        return "yolo" if txt_count > xml_count else "voc"
    if find_classes_txt(listing.folder) is not None or (listing.folder / "labels").is_dir():
        return "yolo"
    if candidates:  # only unparseable JSON is left: call it COCO so the load names the broken file
        return "coco"
    return None


def _voc_label_paths(images: list[Path]) -> list[str]:
    """``a.xml`` beside each image (``Path.with_suffix`` on strings: no Path objects for 10,000 misses)."""
    return [os.path.splitext(str(image))[0] + ".xml" for image in images]


def _yolo_label_paths(images: list[Path]) -> list[str]:
    """:func:`yolo_label_path` of each image, asking the disk about the Ultralytics layout once per folder."""
    label_dirs: dict[str, str] = {}
    paths = []
    for image in images:
        directory, name = os.path.split(str(image))
        label_dir = label_dirs.get(directory)
        if label_dir is None:
            label_dir = label_dirs[directory] = str(yolo_label_path(Path(directory) / name).parent)
        paths.append(os.path.join(label_dir, os.path.splitext(name)[0] + ".txt"))
    return paths


def _existing(paths: list[str], listing: FolderListing) -> list[Path | None]:
    return [Path(p) if listing.has_file(p) else None for p in paths]


def _load_voc(loaded: LoadedFolder, listing: FolderListing) -> None:
    seen: set[str] = set()
    xml_paths = _existing(_voc_label_paths([a.image_path for a in loaded.annotations]), listing)
    for i, (ann, xml_path) in enumerate(zip(loaded.annotations, xml_paths)):
        if xml_path is None:
            continue
        try:
            read = read_voc_xml(xml_path, image_path=ann.image_path)  # the image we found, whatever <filename> says
            if read.width <= 0 or read.height <= 0:
                read.width, read.height = _image_size(ann.image_path)
        except AnnotationError as exc:
            loaded.errors.append(exc)
            continue
        loaded.annotations[i] = read
        seen |= read.labels()
    for name in sorted(seen - set(loaded.labels.names)):
        loaded.labels.add(name)


def _load_yolo(loaded: LoadedFolder, label_paths: list[Path | None]) -> None:
    for i, (ann, txt_path) in enumerate(zip(loaded.annotations, label_paths)):
        if txt_path is None:
            continue
        try:
            width, height = _image_size(ann.image_path)
            loaded.annotations[i] = read_yolo_txt(txt_path, ann.image_path, width, height, loaded.labels)
        except AnnotationError as exc:
            loaded.errors.append(exc)


def _load_coco(listing: FolderListing, loaded: LoadedFolder) -> None:
    folder = listing.folder
    candidates = _json_candidates(listing)
    qualifying = [path for path, data in candidates if data is not None]
    coco_path = next((p for p in qualifying if p.name == COCO_DEFAULT_NAME), qualifying[0]) if qualifying else None
    if coco_path is None:
        broken = [path for path, data in candidates if data is None]
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


def _json_candidates(listing: FolderListing) -> list[tuple[Path, dict | None]]:
    """Each ``*.json`` in the folder and its ``annotations/``: its data if COCO-shaped, None if not JSON.

    Valid JSON of another shape is not a candidate at all, and a JSON named like an image beside it
    (labelme writes one per image) is not even opened: a labelme folder would otherwise be parsed in full.
    """
    folder = listing.folder
    image_stems = {os.path.splitext(name)[0] for name in listing.top_level_image_names}
    names = [name for name in listing.files_in(str(folder))
             if name.endswith(".json") and name[:-len(".json")] not in image_stems]
    paths = [folder / name for name in sorted(names, key=natural_sort_key)]
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


def _existing_folder(folder: Path | str) -> Path:
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"folder not found: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    return folder
