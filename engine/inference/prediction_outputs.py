"""What ``resyolo predict`` writes for each image or frame it detects on: the results list (for
``predictions.json`` / ``.csv``), an annotated picture (``<stem>.jpg``, names made unique) or the frames of an
annotated video, and label files (``--save-labels``); and the summary it prints at the end."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2

from engine.annotations.formats import all_formats
from engine.annotations.records import AnnotationError
from engine.inference.draw import draw_detections
from engine.inference.outputs import ImageResult
from engine.io.atomic import atomic_write_bytes


class PredictionOutputs:
    """Where each processed image or frame goes: the results list, an annotated picture, a label file."""

    def __init__(self, out: Path, detector, source, write_pictures: bool, labels):
        self.out, self.detector, self.source = out, detector, source
        self.write_pictures, self.labels = write_pictures, labels
        self.results = []
        self.unreadable: list[Path] = []
        self.picture_names = picture_names(source.paths) if source.kind == "images" else {}
        self.video = None  # cv2.VideoWriter, opened on the first frame (its size is known then)
        self.video_path = out / f"{source.name}_annotated.mp4" if source.kind != "images" else None

    def clash_with_sources(self) -> Path | None:
        sources = {p.resolve() for p in self.source.paths}
        targets = [self.out / n for n in self.picture_names.values()] if self.write_pictures else []
        return next((t for t in targets if t.resolve() in sources), None)

    def add_batch(self, items, detections, progress: Callable[[int], object] | None = None) -> None:
        for item, found in zip(items, detections):
            self.results.append(ImageResult(item.name, found, str(item.path) if item.path else ""))
            if self.write_pictures:
                self._write_picture(item, found)
            if self.labels is not None:
                height, width = item.image.shape[:2]
                self.labels.write(item.path, width, height, self.detector.to_records(found))
            if progress is not None:
                progress(1)

    def _write_picture(self, item, found) -> None:
        bgr = cv2.cvtColor(draw_detections(item.image, found, self.detector.class_names), cv2.COLOR_RGB2BGR)
        if item.path is None:  # a video frame
            if self.video is None:
                fourcc = cv2.VideoWriter_fourcc(*"mp4v")
                self.video = cv2.VideoWriter(str(self.video_path), fourcc, self.source.fps, bgr.shape[1::-1])
                if not self.video.isOpened():
                    raise OSError(f"cannot write the video {self.video_path}")
            self.video.write(bgr)
            return
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise OSError(f"cannot encode the annotated picture of {item.path}")
        atomic_write_bytes(self.out / self.picture_names[item.path], encoded.tobytes())

    def close(self) -> None:
        if self.video is not None:
            self.video.release()  # finishes the file: a stopped run still leaves a playable video

    def summary(self, unit: str, seconds: float, results_path: Path, label_format: str | None) -> str:
        count = len(self.results)
        boxes = sum(len(r.detections.scores) for r in self.results)
        lines = [f"{count} {unit}(s), {boxes} detection(s) in {seconds:.1f} s -> {results_path}"]
        if self.write_pictures and count:
            lines.append(f"  annotated: {self.video_path if self.video is not None else self.out}")
        if self.unreadable:
            names = ", ".join(p.name for p in self.unreadable[:10]) + (" ..." if len(self.unreadable) > 10 else "")
            lines.append(f"  {len(self.unreadable)} unreadable image(s) skipped: {names}")
        if self.labels is not None:
            c = self.labels.counts
            lines.append(f"  labels ({label_format}): {len(c.written)} written, {len(c.skipped_existing)} existing "
                         f"kept{' (--overwrite replaces them)' if c.skipped_existing else ''}, "
                         f"{c.no_detections} image(s) without detections left unlabelled")
        return "\n".join(lines)


def picture_names(paths: list[Path]) -> dict[Path, str]:
    """``<stem>.jpg`` per image; a stem seen before (a.png and a.jpg) gets ``_2``, ``_3``, ..."""
    names, used = {}, set()
    for path in paths:
        name, n = f"{path.stem}.jpg", 1
        while name.lower() in used:
            n += 1
            name = f"{path.stem}_{n}.jpg"
        used.add(name.lower())
        names[path] = name
    return names


def class_order_warning(root: Path | None, class_names: list[str]) -> str | None:
    """Results use the checkpoint's class ids: a warning when ``root``'s own class list (classes.txt, data.yaml:
    whichever numbered list the format table finds) orders the classes otherwise, so `resyolo eval` on that
    folder would mix them up."""
    if root is None:
        return None
    for label_format in all_formats().values():
        if not label_format.numbered_classes or label_format.class_list_path is None:
            continue
        path = label_format.class_list_path(Path(root))
        if path is None or not path.is_file():
            continue
        try:
            names = list(label_format.read_class_list(path))
        except (AnnotationError, OSError, ValueError):
            continue
        if names[: len(class_names)] != list(class_names):
            return (f"category_id in the results follows the checkpoint's classes ({', '.join(class_names)}); "
                    f"{path} lists {', '.join(names)}, so `resyolo eval` on this folder would mix up classes")
        return None
    return None
