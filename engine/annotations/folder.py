"""A folder of images and its labels, whatever the format: find the format, load everything, save one image.

The formats themselves are the table in :mod:`engine.annotations.formats`; this module only asks it.

Where images are found: directly in the folder, and anywhere under an ``images/`` subfolder (the
Ultralytics layout ``images/`` + ``labels/``); layouts that say where their images are (a ``data.yaml``, a
VOC devkit) list their own. Files whose name starts with a dot are skipped (macOS leaves ``._name.jpg``
companions on shared drives). Order is natural: ``img2`` before ``img10``. Each folder is listed once
(:class:`~engine.annotations.listing.FolderListing`); label files are then found by name in those listings.
An entry that cannot be looked at (a symlink loop, no permission) is one named problem in ``errors``.

Which format (:func:`detect_format`), in the table's order:

1. Ultralytics / Roboflow: a ``data.yaml`` (or another yaml with ``names`` and ``train``/``val``).
2. The VOC devkit: ``JPEGImages/`` + ``Annotations/`` (or ``VOC20xx/`` folders holding them).
3. COCO: a ``*.json`` file, directly in the folder or in its ``annotations/`` subfolder, whose top level
   is an object with ``images``, ``annotations`` and ``categories`` lists.
4. VOC XML, YOLO txt or labelme JSON beside the images: whichever covers more images wins, a tie goes to
   VOC (it keeps more: difficult, verified).
5. No label files yet: YOLO if there is a ``classes.txt`` or a ``labels/`` folder.
6. A ``*.json`` that is not even JSON: COCO, so that loading reports the broken file.
7. Otherwise ``None``: an unlabelled folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from engine.annotations.coco import COCO_DEFAULT_NAME, find_coco_json, json_candidates
from engine.annotations.formats import LoadedFolder, all_formats, get_format
from engine.annotations.listing import IMAGE_EXTENSIONS, FolderListing, natural_sort_key
from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet
from engine.annotations.yolo import classes_txt_path, find_classes_txt, ultralytics_root

__all__ = ["COCO_DEFAULT_NAME", "IMAGE_EXTENSIONS", "LoadedFolder", "classes_txt_path", "dataset_root",
           "detect_format", "find_classes_txt", "find_coco_json", "list_images", "load_folder", "natural_sort_key",
           "save_annotation"]


def list_images(folder: Path | str) -> list[Path]:
    return FolderListing(folder).images


def detect_format(folder: Path | str) -> str | None:
    return _detect_format(FolderListing(_existing_folder(folder)))


def load_folder(folder: Path | str, format: str | None = None, pixel_origin: int | None = None,
                first_only: bool = False) -> LoadedFolder:
    """Every image in ``folder`` with its labels (none if unlabelled). Bad label files go to ``errors``.
    ``pixel_origin``: VOC coordinates counted from 0 (labelImg) or 1 (the devkit); None: the format's default.
    ``first_only``: the first image alone with its labels (a quick look at a large folder; ``image_count`` says
    how many there are), for formats with one label file per image; a dataset file (COCO, CVAT) is read whole."""
    folder = _existing_folder(folder)
    if format is not None:
        get_format(format)  # unknown name: ValueError listing the known ones
    listing = FolderListing(folder)  # listed once; detection and loading both look label files up in it
    format = _detect_format(listing) if format is None else format
    if format is not None and get_format(format).images is not None:
        listing.set_images(get_format(format).images(listing))  # lookups computed for what detection saw: gone
    count = listing.image_count()
    partial = first_only and count > 1 and (format is None or get_format(format).per_image)
    images = [Path(listing.first_image_text())] if partial else listing.images  # a quick look: one Path, unsorted
    loaded = LoadedFolder([ImageAnnotation(image_path=p) for p in images], LabelSet(), [], format)
    loaded.image_count, loaded.partial = count, partial
    loaded.pixel_origin = pixel_origin
    if format is None:
        classes_path = find_classes_txt(folder, listing)
        if classes_path is not None:
            get_format("yolo").load(listing, loaded)
    else:
        fmt = get_format(format)
        class_list = fmt.class_list_path(folder, listing) if fmt.class_list_path is not None else None
        if class_list is not None and listing.has_file(class_list):
            try:
                loaded.labels = LabelSet(fmt.read_class_list(class_list))
                loaded.declared_classes = list(loaded.labels.names)
            except AnnotationError as exc:
                loaded.errors.append(exc)
        fmt.load(listing, loaded)
    loaded.errors[:0] = listing.problems
    return loaded


def dataset_root(image_path: Path | str) -> Path:
    """The folder whose class list an image's labels use: the Ultralytics root, else the image's folder."""
    image_path = Path(image_path)
    return ultralytics_root(image_path) or image_path.parent


def save_annotation(ann: ImageAnnotation, labels: LabelSet, format: str, *, coco_path: Path | str | None = None,
                    warnings: list | None = None) -> Path:
    """Write one image's labels in ``format``; returns the file written. The same rules as a project's save
    (:func:`engine.annotations.saving.save_one`): the class list on disk only grows, ids never change."""
    from engine.annotations.saving import save_one

    return save_one(get_format(format), ann, labels, dataset_root(ann.image_path), target=coco_path,
                    warnings=warnings)


def _detect_format(listing: FolderListing) -> str | None:
    per_image_best, per_image_count = None, 0
    for fmt in all_formats().values():
        count = fmt.detect(listing)
        if not count:
            continue
        if count >= 10**9:  # a layout that announces itself
            return fmt.name
        if count > per_image_count:
            per_image_best, per_image_count = fmt.name, count
    if per_image_best is not None:
        return per_image_best
    if json_candidates(listing):  # only unparseable JSON is left: call it COCO so the load names the broken file
        return "coco"
    return None


def _existing_folder(folder: Path | str) -> Path:
    folder = Path(os.path.abspath(folder))  # "." and "../x" alike: every path below is absolute
    if not folder.exists():
        raise FileNotFoundError(f"folder not found: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    return folder
