"""Detections written out: COCO results JSON, CSV, and label files for auto-labelling.

COCO results (what ``resyolo eval --dt`` reads): a JSON list of
``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}`` in original image pixels, where

- scored against a COCO ground truth (``predict --gt FILE``, or the COCO file of the SOURCE folder), ``image_id``
  and ``category_id`` are that file's ids (:class:`CocoIds`), as ``resyolo eval`` and pycocotools' ``loadRes``
  expect; otherwise:
- ``image_id`` is the image's file name without extension, or the frame number (from 0) of a video;
- ``category_id`` is the class's index in the checkpoint's class list. ``resyolo eval`` numbers a labelled
  folder's classes by their index in its ``classes.txt`` (sorted names when there is none), so the two agree
  when that file lists the checkpoint's classes in the same order, as the training folder's does.

Coordinates are rounded to 1/100 pixel and scores to 5 decimals; a box that rounds to no width or height is
left out (the results format has no use for it and ``resyolo eval`` refuses it).

Label files (``--save-labels``) never replace an existing file unless asked: see :class:`LabelFileWriter`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.io.atomic import atomic_write_text
from engine.annotations.folder import dataset_root
from engine.annotations.formats import format_names, get_format
from engine.annotations.records import Box, ImageAnnotation, LabelSet

if TYPE_CHECKING:  # torch-free at import: the app loads these before any model
    from engine.model.boxes import Detections

CSV_COLUMNS = ("image_id", "file", "class_id", "class_name", "score", "x1", "y1", "x2", "y2")


@dataclass
class ImageResult:
    """The detections of one image or frame, as the command collects them."""

    image_id: str | int
    detections: Detections
    file: str = ""  # the image's path, empty for video frames


def coco_entries(image_id: str | int, detections: Detections) -> list[dict]:
    entries = []
    for box, score, label in zip(detections.boxes.tolist(), detections.scores.tolist(), detections.labels.tolist()):
        x1, y1, x2, y2 = box
        x, y, w, h = (round(v, 2) for v in (x1, y1, x2 - x1, y2 - y1))
        if w > 0 and h > 0:
            entries.append({"image_id": image_id, "category_id": int(label), "bbox": [x, y, w, h],
                            "score": round(float(score), 5)})
    return entries


@dataclass
class CocoIds:
    """The ids of the COCO ground truth detections will be scored against: image id by file, category id by
    class name. Without one, results use file stems and 0-based class indexes (see the module docstring)."""

    image_ids: dict[str, int]  # absolute image path -> id, and file name -> id where the name is unique
    category_ids: dict[int, int]  # the detector's class index -> the file's category id
    path: Path

    @classmethod
    def from_file(cls, coco_path: Path | str, class_names: list[str], image_root: Path | str | None = None) -> "CocoIds":
        """Raises AnnotationError naming the file; ValueError if a detector class is not among its categories."""
        import os

        from engine.annotations.coco import load_coco_dict

        coco_path = Path(coco_path)
        data = load_coco_dict(coco_path)
        root = Path(image_root) if image_root is not None else (
            coco_path.parent.parent if coco_path.parent.name == "annotations" else coco_path.parent)
        by_name = {c.get("name"): c.get("id") for c in data["categories"] if isinstance(c, dict)}
        missing = [n for n in class_names if n not in by_name]
        if missing:
            raise ValueError(f"{coco_path}: the detector's classes {', '.join(missing)} are not categories of this "
                             f"file ({', '.join(map(str, by_name))})")
        image_ids: dict[str, int] = {}
        names: dict[str, list[int]] = {}
        for image in data["images"]:
            if not isinstance(image, dict) or "file_name" not in image:
                continue
            file_name = str(image["file_name"]).replace("\\", "/")
            for base in (root, coco_path.parent):
                image_ids[os.path.normcase(os.path.abspath(base / file_name))] = image["id"]
            names.setdefault(Path(file_name).name, []).append(image["id"])
        image_ids.update({name: ids[0] for name, ids in names.items() if len(ids) == 1})
        return cls(image_ids, {i: by_name[n] for i, n in enumerate(class_names)}, coco_path)

    def image_id(self, result: ImageResult):
        import os

        if result.file:
            found = self.image_ids.get(os.path.normcase(os.path.abspath(result.file)))
            if found is None:
                found = self.image_ids.get(Path(result.file).name)
            if found is not None:
                return found
        return result.image_id


def write_coco_results(path: Path | str, results: list[ImageResult], ids: CocoIds | None = None) -> Path:
    entries = [entry for result in results
               for entry in coco_entries(ids.image_id(result) if ids else result.image_id, result.detections)]
    if ids is not None:
        for entry in entries:
            entry["category_id"] = ids.category_ids.get(entry["category_id"], entry["category_id"])
    path = Path(path)
    # One entry per line: valid JSON that still reads (and diffs) line by line.
    atomic_write_text(path, "[\n" + ",\n".join(json.dumps(e) for e in entries) + ("\n]\n" if entries else "]\n"))
    return path


def write_csv(path: Path | str, results: list[ImageResult], class_names: list[str]) -> Path:
    """One row per detection (columns :data:`CSV_COLUMNS`), corners in original image pixels."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        d = result.detections
        for box, score, label in zip(d.boxes.tolist(), d.scores.tolist(), d.labels.tolist()):
            name = class_names[int(label)] if 0 <= int(label) < len(class_names) else ""
            writer.writerow([result.image_id, result.file, int(label), name, f"{score:.5f}",
                             *(f"{v:.2f}" for v in box)])
    path = Path(path)
    atomic_write_text(path, buffer.getvalue())
    return path


class LabelConflict(ValueError):
    """Label files cannot be written without changing an existing ``classes.txt``; the message says which."""


@dataclass
class LabelCounts:
    written: list[Path] = field(default_factory=list)
    skipped_existing: list[Path] = field(default_factory=list)  # kept because --overwrite was not given
    no_detections: int = 0  # images left unlabelled: nothing found in them


class LabelFileWriter:
    """Auto-labelling: each image's detections as a label file of a per-image format of the table (VOC XML,
    YOLO txt, labelme JSON...).

    Where: beside each image (YOLO: in the dataset's ``labels/`` tree when it has the Ultralytics layout), so
    that opening the folder in the app shows them for review; or, with ``labels_dir``, all in that folder.
    Policy:

    - an existing label file is kept (counted in ``skipped_existing``) unless ``overwrite``;
    - an image with no detections gets no file, so it still shows as unlabelled rather than as "checked,
      empty" (an empty file means "no objects" to the app and to training);
    - formats with numbered classes (YOLO): ``classes.txt`` is written when missing. An existing one is kept as it is when it already lists
      every class of the model (ids are then taken from it); when it lacks some, they are appended only with
      ``overwrite`` (existing ids never change), else :class:`LabelConflict` before anything is written.
    """

    def __init__(self, fmt: str, class_names: list[str], labels_dir: Path | None = None, source_root: Path | None = None,
                 overwrite: bool = False):
        if fmt not in format_names(per_image_writable=True):
            raise ValueError(f"unknown label format {fmt!r}; expected one of "
                             f"{', '.join(format_names(per_image_writable=True))}")
        self.format, self.class_names, self.overwrite = fmt, list(class_names), overwrite
        self._format = get_format(fmt)
        self.labels_dir, self.source_root = labels_dir, source_root
        self.counts = LabelCounts()
        self._classes: dict[Path, tuple[LabelSet, bool]] = {}  # classes.txt -> (labels, needs writing)

    def prepare(self, image_paths: list[Path]) -> None:
        """Check every ``classes.txt`` the run will use, before any file is written. Raises LabelConflict."""
        if not self._format.numbered_classes:
            return
        for path in sorted({self._classes_path(p) for p in image_paths}):
            self._classes[path] = self._class_list(path)

    def write(self, image_path: Path, width: int, height: int, boxes: list[Box]) -> None:
        if not boxes:
            self.counts.no_detections += 1
            return
        label_path = self.label_path(image_path)
        if label_path.exists() and not self.overwrite:
            self.counts.skipped_existing.append(label_path)
            return
        ann = ImageAnnotation(Path(image_path), width, height, boxes)
        label_path.parent.mkdir(parents=True, exist_ok=True)
        labels = self._labels_for(image_path) if self._format.numbered_classes else LabelSet(list(self.class_names))
        self._format.write(ann, labels, label_path, None)
        self.counts.written.append(label_path)

    def label_path(self, image_path: Path) -> Path:
        beside = self._format.label_path(Path(image_path))
        if self.labels_dir is not None:
            return self.labels_dir / f"{Path(image_path).stem}{beside.suffix}"
        return beside

    def _labels_for(self, image_path: Path) -> LabelSet:
        path = self._classes_path(image_path)
        if path not in self._classes:
            self._classes[path] = self._class_list(path)
        labels, needs_writing = self._classes[path]
        if needs_writing:  # first label file in this folder: its classes.txt goes with it
            path.parent.mkdir(parents=True, exist_ok=True)
            self._format.write_class_list(path, labels.names)
            self._classes[path] = (labels, False)
        return labels

    def _classes_path(self, image_path: Path) -> Path:
        """The classes.txt for an image's labels: an existing one where the folder loader looks, else a new one
        in the labels folder, the folder SOURCE named, the Ultralytics dataset root or the image's folder."""
        if self.labels_dir is not None:
            return self._format.class_list_path(self.labels_dir)
        return self._format.class_list_path(self.source_root or dataset_root(image_path))

    def _class_list(self, path: Path) -> tuple[LabelSet, bool]:
        if not path.is_file():
            return LabelSet(list(self.class_names)), True
        existing = LabelSet(self._format.read_class_list(path))  # AnnotationError names the file and line
        missing = [name for name in self.class_names if name not in existing]
        if not missing:
            return existing, False
        if not self.overwrite:
            raise LabelConflict(f"{path} lacks the model's classes {', '.join(missing)}; pass --overwrite to append "
                                f"them (existing class ids stay the same), or use --labels-dir")
        return LabelSet(existing.names + missing), True
