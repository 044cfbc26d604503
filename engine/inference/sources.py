"""What ``resyolo predict SOURCE`` reads: SOURCE resolved into a stream of RGB frames.

SOURCE is, checked in this order:

1. an existing image file (``IMAGE_EXTENSIONS``), a folder (its images, in the order of
   :func:`engine.annotations.folder.list_images`) or a video file (``VIDEO_EXTENSIONS``);
2. a whole number that is not an existing path: a camera index, opened with ``cv2.VideoCapture(int)``;
3. text with glob characters (``*``, ``?``, ``[``): the image files it matches, in natural order
   (``**`` matches sub-folders).

Anything else is a :class:`SourceError` that names the problem. Images are read with
:func:`engine.io.images.read_image` (EXIF orientation applied), so detections land on the pixels the app
shows; an unreadable image is an item with ``error`` set, not an exception, so one bad file does not stop
a folder. Video frames are converted from OpenCV's BGR to RGB.
"""
from __future__ import annotations

import glob
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.annotations.folder import IMAGE_EXTENSIONS, list_images, natural_sort_key
from engine.io.images import ImageReadError, read_image

VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})
DEFAULT_FPS = 30.0  # when a video or camera does not say its frame rate
_GLOB_CHARACTERS = "*?["


class SourceError(ValueError):
    """A SOURCE that gives nothing to read. ``usage`` is True when the argument itself is wrong (a missing
    path, an empty folder), False when it names something real that cannot be opened (a camera, a video)."""

    def __init__(self, message: str, usage: bool = True):
        super().__init__(message)
        self.usage = usage


@dataclass
class SourceItem:
    """One picture: ``image`` (RGB uint8) or ``error`` when the file could not be read."""

    name: str | int  # image id: the file stem, or the frame number (from 0) of a video or camera
    image: np.ndarray | None
    path: Path | None = None  # the image file; None for video frames
    error: ImageReadError | None = None


class ImageFiles:
    """Image files from a single file, a folder or a glob pattern."""

    kind = "images"

    def __init__(self, paths: list[Path], root: Path | None = None):
        self.paths = paths
        self.root = root  # the folder SOURCE named, if it was one

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[SourceItem]:
        for path in self.paths:
            try:
                yield SourceItem(path.stem, read_image(path), path)
            except ImageReadError as exc:
                yield SourceItem(path.stem, None, path, exc)

    def close(self) -> None:
        pass


class VideoFrames:
    """Frames of a video file or a camera, read one at a time; up to ``max_frames`` of them."""

    def __init__(self, capture: cv2.VideoCapture, kind: str, name: str, max_frames: int | None = None):
        self.capture = capture
        self.kind = kind  # "video" or "camera"
        self.name = name  # for output file names: the video's stem, or "camera0"
        self.max_frames = max_frames
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if math.isfinite(fps) and 0 < fps < 1000 else DEFAULT_FPS

    def __len__(self) -> int:
        """Expected frames (the container's count can be approximate); 0 when unknown, as from a camera."""
        count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT)) if self.kind == "video" else 0
        count = max(count, 0)
        if self.max_frames is not None:
            return min(count, self.max_frames) if count else self.max_frames
        return count

    def __iter__(self) -> Iterator[SourceItem]:
        index = 0
        while self.max_frames is None or index < self.max_frames:
            ok, frame = self.capture.read()
            if not ok or frame is None:
                return  # end of the video, or the camera went away
            yield SourceItem(index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            index += 1

    def close(self) -> None:
        self.capture.release()


def open_source(text: str, max_frames: int | None = None) -> ImageFiles | VideoFrames:
    """Resolve SOURCE (see the module docstring). Raises :class:`SourceError`."""
    path = Path(text).expanduser()
    if path.is_dir():
        images = list_images(path)
        if not images:
            extensions = ", ".join(sorted(IMAGE_EXTENSIONS))
            raise SourceError(f"{path}: folder has no images ({extensions})")
        return ImageFiles(images, root=path)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in IMAGE_EXTENSIONS:
            return ImageFiles([path])
        if suffix in VIDEO_EXTENSIONS:
            return open_video(path, max_frames)
        raise SourceError(f"{path}: not an image ({', '.join(sorted(IMAGE_EXTENSIONS))}) "
                          f"or video ({', '.join(sorted(VIDEO_EXTENSIONS))}) file")
    if text.strip().isdigit():
        return open_camera(int(text), max_frames)
    if any(c in text for c in _GLOB_CHARACTERS):
        matches = [Path(p) for p in glob.glob(str(path), recursive=True)]
        images = sorted((p for p in matches if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
                        key=lambda p: natural_sort_key(p.as_posix()))
        if not images:
            found = f" ({len(matches)} other file(s) matched)" if matches else ""
            raise SourceError(f"{text}: pattern matches no image files{found}")
        return ImageFiles(images)
    raise SourceError(f"{path}: no such file or folder")


def open_video(path: Path, max_frames: int | None = None) -> VideoFrames:
    with _quiet_opencv():
        capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SourceError(f"{path}: cannot be opened as a video (damaged file or unsupported codec)", usage=False)
    return VideoFrames(capture, "video", path.stem, max_frames)


def open_camera(index: int, max_frames: int | None = None) -> VideoFrames:
    with _quiet_opencv():  # OpenCV prints backend warnings for a missing camera; our message says it better
        capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise SourceError(f"camera {index} could not be opened: missing or busy", usage=False)
    return VideoFrames(capture, "camera", f"camera{index}", max_frames)


@contextmanager
def _quiet_opencv():
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)
