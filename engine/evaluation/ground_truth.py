"""Ground truth for ``resyolo eval``: a COCO JSON file or a folder of images with label files,
with the ids a results file uses to name its images and categories.

- COCO file: the file's own image and category ids (they are authoritative).
- Folder: an image's id is its file name without extension; a category's id is its index in the
  folder's ``classes.txt``, or in the sorted class names when there is none. A folder holding a COCO
  JSON file is that file.
"""
from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet


class GroundTruthError(ValueError):
    """Ground truth that cannot be used for evaluation; the message names the file and problem."""


@dataclass
class GroundTruth:
    annotations: list[ImageAnnotation]
    labels: LabelSet
    image_ids: list[Hashable]  # parallel to annotations
    category_ids: list[int]  # parallel to labels.names
    warnings: list[str] = field(default_factory=list)  # things the user should know, printed before the figures


def load_ground_truth(path: Path | str) -> GroundTruth:
    path = Path(path)
    if path.is_dir():
        return _load_folder(path)
    if path.is_file():
        return _load_coco(path)
    raise GroundTruthError(f"{path}: no such file or folder")


def _load_coco(path: Path) -> GroundTruth:
    from engine.annotations.coco import load_coco_dict, read_coco_json

    try:
        annotations, labels = read_coco_json(path)
        # The records do not carry the file's ids, which results files refer to: read them here.
        # read_coco_json keeps the order of "images", and orders classes by category id.
        doc = load_coco_dict(path)
    except AnnotationError as exc:  # already names the file and entry
        raise GroundTruthError(str(exc)) from None
    image_ids = [img["id"] for img in doc["images"]]
    category_ids = sorted(cat["id"] for cat in doc["categories"])
    if len(image_ids) != len(annotations) or len(category_ids) != len(labels):
        raise GroundTruthError(f"{path}: the COCO reader returned {len(annotations)} images and {len(labels)} "
                               f"classes for {len(image_ids)} and {len(category_ids)} entries")
    return GroundTruth(list(annotations), labels, image_ids, category_ids)


def _load_folder(folder: Path) -> GroundTruth:
    from engine.annotations.folder import detect_format, find_coco_json, load_folder
    from engine.annotations.formats import get_format

    try:
        found = detect_format(folder)
        one_file = found is not None and get_format(found).dataset_file is not None
        coco_file = find_coco_json(folder) if one_file else None
        if coco_file is not None:  # a COCO dataset folder: its file's own ids are the ones results use
            return _load_coco(coco_file)
        if found is None:
            raise GroundTruthError(f"{folder}: no label files (Pascal VOC XML, YOLO txt or COCO JSON) found")
        loaded = load_folder(folder, found)
    except AnnotationError as exc:
        raise GroundTruthError(str(exc)) from None
    except OSError as exc:
        raise GroundTruthError(f"{folder}: cannot read labels: {exc}") from None
    if loaded.errors:
        # Evaluating against partly unreadable ground truth would give a wrong number quietly.
        lines = "\n".join(f"  {err}" for err in loaded.errors)
        raise GroundTruthError(f"{folder}: {len(loaded.errors)} label file(s) cannot be read:\n{lines}")
    # load_folder orders classes as classes.txt, then any other names found, sorted (all sorted
    # when there is no classes.txt): exactly the category ids of a folder dataset.
    seen: dict[str, Path] = {}
    for ann in loaded.annotations:
        if ann.image_id in seen:
            raise GroundTruthError(f"{folder}: images {seen[ann.image_id].name} and {Path(ann.image_path).name} "
                                   f"share the id {ann.image_id!r} (file name without extension)")
        seen[ann.image_id] = Path(ann.image_path)
    warnings = []
    if loaded.declared_classes is not None:
        # A name the class list lacks still gets an id (after the listed ones), but a results file written with
        # that list cannot know it: say so rather than score it silently.
        for name in loaded.labels.names[len(loaded.declared_classes):]:
            used = sum(b.label == name for ann in loaded.annotations for b in ann.boxes)
            warnings.append(f"{folder}: class {name!r} ({used} box(es)) is not in the class list; it was given "
                            f"category id {loaded.labels.names.index(name)}, after the listed classes")
    return GroundTruth(list(loaded.annotations), loaded.labels, [ann.image_id for ann in loaded.annotations],
                       list(range(len(loaded.labels))), warnings)
