"""Detection on any folder of images, on a QThread: progress per image, cancel, and the chosen exports.

Outputs go to a new folder (``<output>/<source name>_detections``, numbered if it exists), so nothing already on
disk is replaced: annotated images (``annotated/``), COCO results JSON and CSV (the formats of
``resyolo predict``, :mod:`engine.inference.outputs`), and Pascal VOC XML / YOLO txt label files (``voc/``,
``yolo/`` with its ``classes.txt``). A cancelled run still writes what it has done.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtCore import Signal

from engine.io.atomic import atomic_write_bytes
from engine.inference.draw import draw_detections
from engine.inference.outputs import ImageResult, LabelFileWriter, write_coco_results, write_csv
from engine.inference.prediction_outputs import picture_names
from engine.inference.sources import ImageFiles, SourceError, open_source
from resyolo_gui.worker import Stopped, Worker

if TYPE_CHECKING:
    from engine.inference.detector import Detector
    from engine.model.boxes import Detections

EXPORT_FORMATS = {  # key -> what the dialog shows
    "images": "Annotated images (JPEG)",
    "coco": "COCO results JSON",
    "voc": "Pascal VOC XML",
    "yolo": "YOLO txt",
    "csv": "CSV",
}


@dataclass
class FolderImageResult:
    path: Path
    detections: Detections | None  # None when the image could not be read
    error: str = ""


@dataclass
class DetectFolderSummary:
    output_dir: Path | None
    processed: int
    total: int
    cancelled: bool
    written: dict[str, Path] = field(default_factory=dict)  # format -> file or folder
    unreadable: list[str] = field(default_factory=list)


def new_output_dir(parent: Path, source: Path) -> Path:
    base = parent / f"{source.name or 'images'}_detections"
    path, number = base, 2
    while path.exists():
        path, number = parent / f"{base.name}{number}", number + 1
    return path


class DetectFolderThread(Worker):
    """``image_done(FolderImageResult)`` per image, ``progress`` (images done, total), then ``succeeded`` with the
    :class:`DetectFolderSummary` (also after ``cancel()``); ``failed`` when nothing could run (bad folder or
    checkpoint) or the results could not be written."""

    image_done = Signal(object)  # FolderImageResult
    what = "Detection on a folder"

    def __init__(self, checkpoint: Path, folder: Path, output_parent: Path, formats: set[str],
                 conf_threshold: float = 0.25, detector: Detector | None = None, parent=None):
        super().__init__(parent)
        unknown = set(formats) - set(EXPORT_FORMATS)
        if unknown:
            raise ValueError(f"unknown export format(s) {', '.join(sorted(unknown))}")
        self.checkpoint, self.folder, self.output_parent = Path(checkpoint), Path(folder), Path(output_parent)
        self.formats, self.conf_threshold, self.detector = set(formats), conf_threshold, detector
        self.results: list[FolderImageResult] = []
        self.expected_errors = (SourceError, ValueError, OSError)  # CheckpointError and LabelConflict are ValueErrors

    def cancel(self) -> None:
        self.stop()

    def work(self) -> DetectFolderSummary:
        source = open_source(str(self.folder))
        if not isinstance(source, ImageFiles):
            raise SourceError(f"{self.folder}: not a folder of images")
        if self.detector is None:
            from engine.inference.loading import load_detector  # torch: once a folder is detected on

            self.detector = load_detector(self.checkpoint, conf_threshold=self.conf_threshold)
        output = new_output_dir(self.output_parent, self.folder) if self.formats else None
        writers = self._label_writers(output)
        self._picture_names = picture_names(source.paths)  # a.png and a.jpg: a.jpg and a_2.jpg, never one over the other
        try:
            return self._detect_all(source, output, writers)
        except OSError as exc:  # a full disk or a read-only output folder
            raise Stopped(f"Stopped: cannot write the results ({exc})") from exc

    def _detect_all(self, source: ImageFiles, output: Path | None, writers: dict) -> DetectFolderSummary:
        total, unreadable, image_results = len(source), [], []
        self.progress.emit(0, total)
        for item in source:
            if self.should_stop():
                break
            if item.error is not None:
                result = FolderImageResult(item.path, None, str(item.error))
                unreadable.append(str(item.error))
            else:
                detections = self.detector.detect([item.image])[0]
                result = FolderImageResult(item.path, detections)
                image_results.append(ImageResult(item.path.stem, detections, str(item.path)))
                self._write_per_image(output, writers, item, detections)
            self.results.append(result)
            self.image_done.emit(result)
            self.progress.emit(len(self.results), total)
        summary = DetectFolderSummary(output, len(self.results), total, self.should_stop(), unreadable=unreadable)
        self._write_collections(output, image_results, summary)
        return summary

    def _label_writers(self, output: Path | None) -> dict[str, LabelFileWriter]:
        writers = {}
        for fmt in ("voc", "yolo"):
            if fmt in self.formats:
                writers[fmt] = LabelFileWriter(fmt, self.detector.class_names, labels_dir=output / fmt)
        return writers

    def _write_per_image(self, output, writers, item, detections: Detections) -> None:
        if "images" in self.formats:
            buffer = io.BytesIO()
            Image.fromarray(draw_detections(item.image, detections, self.detector.class_names)).save(
                buffer, format="JPEG", quality=92)
            (output / "annotated").mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(output / "annotated" / self._picture_names[item.path], buffer.getvalue())
        if writers:
            height, width = item.image.shape[:2]
            boxes = self.detector.to_records(detections)
            for writer in writers.values():
                writer.write(item.path, width, height, boxes)

    def _write_collections(self, output, image_results: list[ImageResult], summary: DetectFolderSummary) -> None:
        if output is None:
            return
        output.mkdir(parents=True, exist_ok=True)
        if "coco" in self.formats:
            summary.written["coco"] = write_coco_results(output / "detections_coco.json", image_results)
        if "csv" in self.formats:
            summary.written["csv"] = write_csv(output / "detections.csv", image_results, self.detector.class_names)
        for fmt in ("images", "voc", "yolo"):
            if fmt in self.formats:
                summary.written[fmt] = output / ("annotated" if fmt == "images" else fmt)

