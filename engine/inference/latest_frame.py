"""Live frames for a model that may be slower than its source: a reader thread that keeps only the latest frame.

A camera or stream produces frames at its own pace; queueing them behind a slow detector would make the picture
lag further and further behind reality. :class:`LatestFrameReader` reads on its own thread and keeps one slot:
a frame not taken before the next one arrives is dropped (and counted in ``dropped``).

A video file has no pace of its own (OpenCV decodes as fast as it can), so by default it is paced by its FPS to
behave like a live source (``realtime``); ``every_frame`` instead hands over every frame, the reader waiting for
the consumer (for processing a file completely).

:class:`VideoRecorder` writes annotated RGB frames to a video file. Qt-free.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.inference.sources import VIDEO_EXTENSIONS, SourceError, VideoFrames, _quiet_opencv, open_camera, open_video

_URL_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")


@dataclass
class Frame:
    image: np.ndarray  # RGB uint8
    index: int  # frame number in the source, from 0
    captured: float  # time.perf_counter() when it was read: latency is measured from here


def open_frames(text: str) -> VideoFrames:
    """A camera index ("0"), a stream URL (rtsp://, http://...) or a video file -> an open :class:`VideoFrames`.
    Raises :class:`engine.inference.sources.SourceError` naming what could not be opened and why."""
    text = str(text).strip()
    if not text:
        raise SourceError("no source given: enter a camera number, a video file or a stream URL")
    if text.isdigit():
        return open_camera(int(text))
    if text.lower().startswith(_URL_SCHEMES):
        with _quiet_opencv():
            capture = cv2.VideoCapture(text)
        if not capture.isOpened():
            raise SourceError(f"stream {text} could not be opened: unreachable, or not a video stream", usage=False)
        return VideoFrames(capture, "stream", "stream")
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if not path.is_file() or path.suffix.lower() not in VIDEO_EXTENSIONS:
        raise SourceError(f"{path}: not a video file ({', '.join(sorted(VIDEO_EXTENSIONS))})")
    return open_video(path)


class LatestFrameReader:
    """Reads ``frames`` on a background thread; :meth:`latest` returns the newest frame not yet returned.

    ``realtime`` (video files only; cameras and streams keep their own pace): deliver frames at the file's FPS.
    ``every_frame``: never drop; the reader waits until the consumer took each frame (no pacing).
    """

    def __init__(self, frames: VideoFrames, realtime: bool = True, every_frame: bool = False):
        self.frames = frames
        self.fps = frames.fps
        self.every_frame = every_frame
        self.realtime = realtime and not every_frame and frames.kind == "video"
        self.read_count = 0  # frames read from the source
        self.dropped = 0  # frames replaced in the slot before anyone took them
        self.finished = False  # the source ended (end of file, camera unplugged) or the reader was closed
        self._slot: Frame | None = None
        self._stop = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="LatestFrameReader", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, text: str, realtime: bool = True, every_frame: bool = False) -> "LatestFrameReader":
        return cls(open_frames(text), realtime=realtime, every_frame=every_frame)

    @property
    def kind(self) -> str:
        return self.frames.kind

    def latest(self, timeout: float | None = None) -> Frame | None:
        """The newest unread frame, waiting up to ``timeout`` seconds; None on time-out or once the source ended."""
        with self._condition:
            if not self._condition.wait_for(lambda: self._slot is not None or self.finished, timeout):
                return None
            frame, self._slot = self._slot, None
            self._condition.notify_all()  # an every_frame reader waits for the slot to empty
            return frame

    def close(self, timeout: float = 2.0) -> None:
        with self._condition:
            self._stop = True
            self._condition.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        start = time.perf_counter()
        try:
            while True:
                with self._condition:
                    if self.every_frame:
                        self._condition.wait_for(lambda: self._slot is None or self._stop)
                    if self._stop:
                        return
                ok, bgr = self.frames.capture.read()
                if not ok or bgr is None:
                    return
                frame = Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.read_count, time.perf_counter())
                with self._condition:
                    if self._slot is not None:
                        self.dropped += 1
                    self._slot = frame
                    self.read_count += 1
                    self._condition.notify_all()
                if self.realtime:
                    due = start + self.read_count / self.fps
                    delay = due - time.perf_counter()
                    if delay > 0:
                        with self._condition:  # a sleep that close() can cut short
                            self._condition.wait_for(lambda: self._stop, delay)
                    elif delay < -1.0:
                        start -= delay  # fell far behind (slow decoding): re-anchor rather than race to catch up
        finally:
            self.frames.close()  # released here, never while a read is in progress on this thread
            with self._condition:
                self.finished = True
                self._condition.notify_all()


class VideoRecorder:
    """Annotated RGB frames -> a video file (mp4v for .mp4/.mov/.m4v, MJPG otherwise); frame size fixed by the
    first frame (later frames of another size are resized to it)."""

    def __init__(self, path: Path | str, fps: float):
        self.path = Path(path)
        self.fps = fps if 0 < fps < 1000 else 30.0
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None

    def write(self, rgb: np.ndarray) -> None:
        height, width = rgb.shape[:2]
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            codec = "mp4v" if self.path.suffix.lower() in (".mp4", ".mov", ".m4v") else "MJPG"
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*codec), self.fps, (width, height))
            if not self._writer.isOpened():
                self._writer = None
                raise OSError(f"{self.path}: cannot be written as a video (unsupported extension or read-only folder)")
            self._size = (width, height)
        if (width, height) != self._size:
            rgb = cv2.resize(rgb, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames_written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
