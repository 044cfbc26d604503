"""``resyolo convert SRC --to FORMAT OUT``: a dataset in any format of the table, written as a new dataset in another.

Images are hard-linked into OUT (copied where links are impossible), at the same path relative to SRC unless
the target layout places them itself (Ultralytics: ``images/<split>/NAME``; two images of one name, from two
folders, each get their relative path flattened into the name, ``cam1_0001.jpg``). ``a.png`` beside ``a.jpg``,
which would share one label file (``a.txt``, ``a.xml``, ``a.json``), becomes ``a_2.png`` in every per-image
format; an image ``classes.jpg`` becomes ``classes_2.jpg`` in YOLO, whose class list is ``classes.txt``. Splits
travel where both sides have them (an Ultralytics, VOC-devkit or COCO-release SRC to Ultralytics:
``train``/``val``/``test``, ``train2017`` as ``train``). Never writes into a non-empty OUT without ``overwrite``.
Every box clipped or dropped on the way, and every problem reading SRC, is in the report.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.annotations.folder import load_folder
from engine.annotations.formats import get_format
from engine.annotations.records import AnnotationError, LabelSet
from engine.annotations.beside import image_size
from engine.annotations.saving import save_one
from engine.annotations.splits import split_role

CONVERT_TARGETS = ("voc", "yolo", "ultralytics", "coco", "labelme", "cvat")


class ConvertError(ValueError):
    """A conversion that cannot start (OUT in the way, unknown format); nothing was written."""


@dataclass
class ConvertReport:
    images: int = 0
    boxes: int = 0
    label_files: list[Path] = field(default_factory=list)
    problems: list[AnnotationError] = field(default_factory=list)  # reading SRC
    warnings: list[AnnotationError] = field(default_factory=list)  # writing OUT: boxes clipped or dropped


def convert(src: Path | str, to: str, out: Path | str, overwrite: bool = False) -> ConvertReport:
    src = Path(os.path.abspath(src))
    if src.is_file() and src.suffix in (".yaml", ".yml"):
        src = src.parent
    _check_target(src, to, out, overwrite)
    loaded = load_folder(src)
    labelled = {Path(a.image_path) for a in loaded.annotations if a.boxes} | set(map(Path, loaded.label_files))
    return convert_annotations(loaded.annotations, loaded.labels, loaded.splits, src, to, out, overwrite,
                               labelled=labelled, problems=loaded.errors)


def convert_annotations(annotations, labels: LabelSet, splits: dict, src: Path | str, to: str, out: Path | str,
                        overwrite: bool = False, labelled: set | None = None, problems=()) -> ConvertReport:
    """:func:`convert` of records already in memory (the app's File > Export, unsaved edits included): images
    under ``src`` keep their place relative to it. ``labelled``: the images that get a label file in per-image
    formats (default: those with boxes or verified); a COCO or CVAT file lists every image. Image sizes not yet
    known are read (an unreadable image is left out, named in the report's problems). The records are not
    changed."""
    src, out = Path(os.path.abspath(src)), Path(os.path.abspath(out))
    _check_target(src, to, out, overwrite)
    fmt = get_format(to)
    if labelled is None:
        labelled = {Path(a.image_path) for a in annotations if a.boxes or a.verified}
    report = ConvertReport(problems=list(problems))
    split_of: dict[str, str] = {}
    for name, images in splits.items():
        target = split_role(name)
        if target is not None:
            for image in images:
                split_of.setdefault(os.path.abspath(image), target)
    labels = LabelSet(list(labels.names))
    converted, placed_splits = [], set()
    renamed = _colliding_places(fmt, annotations, src, out, split_of)
    for ann in annotations:
        has_labels = Path(ann.image_path) in labelled
        if (has_labels or not fmt.per_image) and (ann.width <= 0 or ann.height <= 0):
            try:
                width, height = image_size(Path(ann.image_path))
            except AnnotationError as exc:
                report.problems.append(exc)
                continue
        else:
            width, height = ann.width, ann.height
        relative = _relative(ann.image_path, src)
        split = split_of.get(os.path.abspath(ann.image_path))
        placed = renamed.get(os.path.abspath(ann.image_path)) or _place(fmt, relative, split)
        placed_splits.add(split or "train")
        target_image = out / placed
        _link_or_copy(Path(ann.image_path), target_image)
        new = replace(ann, image_path=target_image, boxes=list(ann.boxes), width=width, height=height)
        converted.append((new, has_labels))
        report.images += 1
        report.boxes += len(ann.boxes)
    if fmt.per_image:
        for ann, has_labels in converted:
            if has_labels:
                root = _class_list_folder(fmt, fmt.label_path(ann.image_path), out)
                report.label_files.append(save_one(fmt, ann, labels, root, warnings=report.warnings, known=set()))
    else:
        anns = [ann for ann, _ in converted]
        target = fmt.dataset_file(anns[0].image_path) if anns else out / "annotations"
        report.label_files.append(fmt.write_dataset(anns, labels, target, out))
    if fmt.write_layout is not None:
        fmt.write_layout(out, labels.names, sorted(placed_splits) or ["train"])
    return report


def _place(fmt, relative: str, split: str | None) -> str:
    return fmt.place_image(relative, split) if fmt.place_image is not None else relative


def _colliding_places(fmt, annotations, src: Path, out: Path, split_of: dict[str, str]) -> dict[str, str]:
    """Images that would share one label file in OUT: the same place under a layout that places them itself
    (Ultralytics' ``images/<split>/NAME``: ``cam1/0001.jpg``, ``cam2/0001.jpg``), or the same stem in one folder
    (``a.jpg`` beside ``a.png``, as a COCO or CVAT file may list them: YOLO's ``a.txt``, VOC's ``a.xml``, labelme's
    ``a.json``, Ultralytics' ``labels/train/a.txt``). The first of them that needs no move keeps its place; each
    other is renamed, its relative path flattened into the name where the layout drops folders
    (``cam1_0001.jpg``), numbered while that label file is still taken (``a_2.png``), so that no image nor label
    file overwrites another's, nor the class list (an image ``classes.jpg`` becomes ``classes_2.jpg`` in YOLO).
    A format of one file for the whole dataset names each image apart: nothing to rename. Image -> its place."""
    if not fmt.per_image:
        return {}

    def key(place: str) -> str:
        return os.path.normcase(os.fspath(fmt.label_path(out / place)))

    by_key: dict[str, list[tuple[str, str, str | None]]] = {}
    for ann in annotations:
        image = os.path.abspath(ann.image_path)
        relative, split = _relative(ann.image_path, src), split_of.get(image)
        by_key.setdefault(key(_place(fmt, relative, split)), []).append((image, relative, split))
    taken = set(by_key)
    renamed = {}
    for label_file, images in by_key.items():
        reserved = _is_class_list(fmt, label_file, out)  # an image classes.jpg: YOLO's label file is classes.txt
        if len(images) < 2 and not reserved:
            continue
        kept = reserved
        for image, relative, split in images:
            moved = relative.replace("/", "_") if fmt.place_image is not None else relative
            candidate, number = _place(fmt, moved, split), 1
            if not kept and key(candidate) == label_file:
                kept = True  # nothing to flatten: it stays where it is
                continue
            while key(candidate) in taken:
                number += 1
                stem, suffix = os.path.splitext(moved)
                candidate = _place(fmt, f"{stem}_{number}{suffix}", split)
            taken.add(key(candidate))
            renamed[image] = candidate
    return renamed


def _class_list_folder(fmt, label_file: Path, out: Path) -> Path:
    """The folder whose class list a label file in OUT refers to: its own folder (YOLO's classes.txt beside the
    label files of each folder, where labelImg reads it), unless the layout keeps one for all (Ultralytics'
    data.yaml in OUT)."""
    return out if fmt.write_layout is not None else Path(label_file).parent


def _is_class_list(fmt, label_file: str, out: Path) -> bool:
    """Is ``label_file`` where the format keeps a class list (YOLO's ``classes.txt``)?"""
    if fmt.class_list_path is None:
        return False
    path = fmt.class_list_path(_class_list_folder(fmt, Path(label_file), out))
    return path is not None and os.path.normcase(os.fspath(path)) == label_file


def _check_target(src: Path, to: str, out: Path | str, overwrite: bool) -> None:
    if to not in CONVERT_TARGETS:
        raise ConvertError(f"unknown target format {to!r}; expected one of {', '.join(CONVERT_TARGETS)}")
    out = Path(os.path.abspath(out))
    if out == src or src in out.parents:
        raise ConvertError(f"{out}: the output must be outside the source dataset {src}")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConvertError(f"{out} is not empty; pass --overwrite to write into it (files of the same name are replaced)")


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
