"""The one save path of every writer (the app's project, ``save_annotation``, ``predict --save-labels``):
one image's labels in a format of the table, with the class list on disk kept append-only."""
from __future__ import annotations

from pathlib import Path

from engine.annotations.formats import LabelFormat, merged_class_list
from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet


def save_one(fmt: LabelFormat, ann: ImageAnnotation, labels: LabelSet, root: Path, target: Path | None = None,
             warnings: list | None = None, known: set[str] | None = None) -> Path:
    """Write ``ann``; returns the file written. ``labels`` is updated to the class list on disk, so that ids
    written match it.

    ``known``: the class names this writer read from disk (a project's). Names another writer has added since
    keep their ids, ours go after them (:func:`merged_class_list`). Without ``known`` (a one-off save), a class
    list whose ids would be renumbered is refused for numbered formats, and extended otherwise.
    """
    if fmt.write is None:
        raise ValueError(f"{fmt.title} cannot be saved one image at a time; export the whole dataset instead")
    if target is None and fmt.dataset_file is not None:
        target = fmt.dataset_file(Path(ann.image_path))
    for box in ann.boxes:  # a label typed on the canvas joins the class list
        labels.add(box.label)
    path = fmt.class_list_path(Path(root)) if fmt.class_list_path is not None else None
    if path is not None:
        on_disk = fmt.read_class_list(path) if path.exists() else []
        names = class_list_to_write(path, on_disk, labels.names, known, fmt.numbered_classes)
        if names != on_disk or not path.exists():
            fmt.write_class_list(path, names)
        labels.names[:] = names if fmt.numbered_classes or known is not None else labels.names
    return fmt.write(ann, labels, target, warnings)


def class_list_to_write(path: Path, on_disk: list[str], ours: list[str], known: set[str] | None,
                        numbered: bool) -> list[str]:
    if known is not None:
        return merged_class_list(on_disk, ours, known)
    if numbered:
        shorter, longer = sorted((on_disk, ours), key=len)
        if longer[: len(shorter)] != shorter:
            raise AnnotationError(path, f"class list {ours} would renumber the classes in this file "
                                  f"({on_disk}); YOLO label files refer to classes by number")
        return list(longer)
    return on_disk + [n for n in ours if n not in on_disk]
