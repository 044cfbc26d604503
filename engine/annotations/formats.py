"""The table of label formats: one :class:`LabelFormat` entry per format module, one registry.

Each format module (``voc``, ``vocdevkit``, ``yolo``, ``ultralytics``, ``coco``, ``labelme``, ``cvat``) owns
everything about its files: where an image's label file is (or the one file of a dataset), how the format is
recognised in a folder, reading (bad boxes are named problems, never the whole file) and writing (only what
its reader reads back), and the class list it keeps on disk. Nothing outside these modules knows a label
file's path or compares format names: callers ask this table. Adding a format is one module and one line in
:data:`_MODULES`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet

# Detection order: layouts that announce themselves (a data.yaml, a devkit, one dataset file) come first; the
# per-image formats then compete by how many images they cover.
_MODULES = ("ultralytics", "vocdevkit", "coco", "cvat", "voc", "yolo", "labelme")


@dataclass
class LoadedFolder:
    annotations: list[ImageAnnotation]
    labels: LabelSet
    errors: list[AnnotationError] = field(default_factory=list)
    format: str | None = None
    splits: dict[str, list[Path]] = field(default_factory=dict)  # split name -> its images (layouts that have them)
    label_files: dict[Path, Path] = field(default_factory=dict)  # image -> the label file it was read from
    fingerprints: dict[Path, tuple] = field(default_factory=dict)  # label file -> Fingerprint(size, mtime_ns, hash) read
    pixel_origin: int | None = None  # VOC coordinates: the project's choice (None: the format's default)
    declared_classes: list[str] | None = None  # the names of the class list file, when there is one
    image_count: int = 0  # images the folder listing found (more than ``annotations`` when ``partial``)
    partial: bool = False  # only the first image was read (``load_folder(first_only=True)``)


@dataclass(frozen=True)
class LabelFormat:
    name: str
    title: str
    #: images of the folder this format would label (0: not this format). Layout formats return a large number.
    detect: Callable
    #: fill a LoadedFolder from a FolderListing
    load: Callable
    #: (ann, labels, target or None, warnings) -> Path written. The one save path of every caller.
    write: Callable | None = None
    #: FolderListing -> the dataset's images, for layouts that keep them elsewhere than the folder and images/
    images: Callable | None = None
    #: image path -> its own label file; None for formats with one file for a whole dataset
    label_path: Callable[[Path], Path] | None = None
    #: dataset folder -> the file holding the class list that ids refer to (classes.txt, data.yaml), or None
    class_list_path: Callable[[Path], Path | None] | None = None
    #: (path, names) -> None: write that class list (append-only: callers merge with what is on disk first)
    write_class_list: Callable | None = None
    #: read the class list written by ``write_class_list``
    read_class_list: Callable | None = None
    #: class ids by number in the files: deleting a class renumbers, so every file is rewritten
    numbered_classes: bool = False
    #: image path -> the dataset file its entry goes in when none is named (formats with one file for all)
    dataset_file: Callable[[Path], Path] | None = None
    #: one file for the whole dataset (COCO, CVAT): written whole, by ``write_dataset``
    write_dataset: Callable | None = None
    #: (anns, labels, target, warnings) -> Path: several images' entries in one dataset file, written once (the
    #: rest of the file kept); a project opened on such a file saves into it in place
    write_many: Callable | None = None
    #: (image path relative to the dataset, its split or None) -> where ``convert`` puts it in a new dataset
    place_image: Callable | None = None
    #: (folder, class names, split names) -> None: the layout's own files after ``convert`` (data.yaml)
    write_layout: Callable | None = None
    #: VOC-style pixel origin of the files (0: labelImg, 1: the devkit), None for formats without the choice
    pixel_origin: int | None = None
    #: the label files hold the verified mark (labelImg's ``verified="yes"``); else it lives in project.json
    keeps_verified: bool = False
    keeps: str = ""
    loses: str = ""

    @property
    def per_image(self) -> bool:
        return self.label_path is not None

    @property
    def project_writable(self) -> bool:
        """A project can save into it in place: one file per image, or entries of one dataset file."""
        return self.write is not None and (self.per_image or self.write_many is not None)


_REGISTRY: dict[str, LabelFormat] | None = None


def all_formats() -> dict[str, LabelFormat]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = {m: importlib.import_module(f"engine.annotations.{m}").FORMAT for m in _MODULES}
    return _REGISTRY


def get_format(name: str) -> LabelFormat:
    formats = all_formats()
    if name not in formats:
        raise ValueError(f"unknown annotation format {name!r}; expected one of {', '.join(formats)}")
    return formats[name]


def format_names(per_image_writable: bool = False, layouts: bool = True,
                 project_writable: bool = False) -> tuple[str, ...]:
    """Every format's name; with ``per_image_writable``, those with one label file per image to write; with
    ``project_writable``, those a project saves into in place (dataset files too: COCO, CVAT); without
    ``layouts``, not those that need their own folder layout (a data.yaml, a devkit): the formats any folder can
    be switched to."""
    return tuple(n for n, f in all_formats().items()
                 if (not per_image_writable or (f.per_image and f.write is not None))
                 and (not project_writable or f.project_writable)
                 and (layouts or f.images is None))


def merged_class_list(on_disk: list[str], ours: list[str], known: set[str]) -> list[str]:
    """The class list to write when ``on_disk`` may have been changed by another writer since we read ``known``.

    Class ids are append-only on disk: names another writer added (on disk, never known to us) keep their ids,
    and our new names go after them. Names we knew and removed or renamed stay removed."""
    foreign = [n for n in on_disk if n not in ours and n not in known]
    if not foreign:
        return list(ours)
    result = [n for n in on_disk if n in ours or n in foreign]
    return result + [n for n in ours if n not in result]
