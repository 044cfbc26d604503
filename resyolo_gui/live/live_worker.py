"""The live view's worker: latest frame -> detections -> boxes, FPS and latency drawn -> a QImage for the view.

Everything slow (decoding in :class:`engine.inference.latest_frame.LatestFrameReader`'s own thread, the model, drawing, recording)
happens off the GUI thread. On the CPU two frames are in flight by default (:mod:`engine.inference.parallel`): this thread
and one helper each take the newest frame, run the model on their share of the cores, and publish the result; a
result older than the one already shown is discarded (counted as dropped), so the picture never goes back in time.
"Low latency" (and "every frame" for files, where order matters) runs one stream. The view is told a new picture
is ready only once it took the previous one, so a busy GUI never builds a queue of stale frames either.

Given a checkpoint path instead of a loaded detector, the thread loads it first (``model_ready`` hands it to the
view to keep for the next Start), so the GUI never waits for a model to load and never runs torch itself.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage

from engine.model.boxes import Detections
from engine.model.checkpoint import CheckpointError
from engine.inference.draw import draw_detections, screen_font_scale
from engine.inference.detector import Detector
from engine.inference.loading import load_detector
from engine.inference.latest_frame import Frame, LatestFrameReader, VideoRecorder
from engine.inference.parallel import StreamPlan, cpu_thread_limit, plan_streams
from resyolo_gui.live.frame_view import fit_for_display, to_qimage
from resyolo_gui.worker import Stopped, Worker

DEFAULT_CONFIDENCE = 0.25


@dataclass
class LiveStats:
    frames: int = 0  # frames shown
    fps: float = 0.0  # shown frames per second (over the last second or so)
    latency_ms: float = 0.0  # from the frame being read to its boxes being drawn
    dropped: int = 0  # frames replaced before the model got to them, or finished after a newer one (late)
    late: int = 0  # of those, frames one stream finished after the other had shown a newer frame
    recording: Path | None = None
    recorded_frames: int = 0


class LiveDetectionThread(Worker):
    """Detects on the reader's frames until stopped or the source ends: ``succeeded(why)`` ("end of video",
    "the source ended", "stopped"), or ``failed(message)`` when the model could not be loaded or run."""

    frame_ready = Signal()  # take_frame() has a new picture
    model_ready = Signal(object)  # the Detector loaded from the checkpoint path given (plan is set by then)
    recording_failed = Signal(str)
    what = "The live view"

    def __init__(self, model: Detector | Path, reader: LatestFrameReader, parent=None, low_latency: bool = False):
        super().__init__(parent)
        self.reader, self.low_latency = reader, low_latency
        self.detector: Detector | None = model if isinstance(model, Detector) else None
        self._checkpoint = None if self.detector is not None else Path(model)
        self.plan: StreamPlan | None = self._plan() if self.detector is not None else None  # known once loaded
        self.stats = LiveStats()
        self._lock = threading.Lock()  # the slots the GUI thread reads
        self._publish_lock = threading.Lock()  # one stream at a time draws the status, records and publishes
        self._stop = False  # read by the stream threads (plain Python threads: no QThread interruption there)
        self._reason: str | None = None
        self._error: str | None = None
        self._picture: QImage | None = None
        self._picture_taken = True
        self._last: tuple[np.ndarray, Detections, torch.Tensor] | None = None
        self._shown_index = -1
        self._late = 0
        self._times: list[float] = []
        self._record_path: Path | None = None  # set by the GUI, acted on by the streams
        # Set by the GUI, in one assignment: (size in device pixels that frames are fitted to, device pixel ratio).
        self.display: tuple[tuple[int, int] | None, float] = (None, 1.0)
        # Set by the GUI (the live view's slider): detections scoring below it are neither shown, recorded nor
        # handed to a snapshot.
        self.conf_threshold = DEFAULT_CONFIDENCE
        self._recorder: VideoRecorder | None = None

    # ----------------------------------------------------------------- called from the GUI thread
    def stop(self) -> None:
        self._stop = True
        super().stop()

    def take_frame(self) -> tuple[QImage | None, LiveStats]:
        with self._lock:
            picture, self._picture_taken = self._picture, True
            return picture, LiveStats(**vars(self.stats))

    def last_frame(self) -> tuple[np.ndarray, Detections, torch.Tensor] | None:
        """The newest raw frame (RGB), its detections and the raw network output, for a snapshot."""
        with self._lock:
            return self._last

    def start_recording(self, path: Path | str) -> None:
        with self._lock:
            self._record_path = Path(path)

    def stop_recording(self) -> None:
        with self._lock:
            self._record_path = None

    # ----------------------------------------------------------------- the streams
    def _plan(self) -> StreamPlan:
        if self.reader.every_frame:
            return StreamPlan(1, None)
        return plan_streams(self.detector.device, self.low_latency, self.detector.runs_in_torch)

    def work(self) -> str:
        try:
            if self.detector is not None or self._load():
                helpers = [threading.Thread(target=self._stream, name=f"LiveStream{i}", daemon=True)
                           for i in range(1, self.plan.streams)]
                for helper in helpers:
                    helper.start()
                self._stream()
                for helper in helpers:
                    helper.join()
        finally:
            self.reader.close()
            self._close_recorder()
        if self._error is not None:
            raise Stopped(self._error)
        return self._reason or "stopped"

    def _stream(self) -> None:
        try:
            with cpu_thread_limit(self.plan.threads):
                while not self._stop:
                    frame = self.reader.latest(timeout=0.1)
                    if frame is None:
                        if self.reader.finished:
                            self._end("end of video" if self.reader.kind == "video" else "the source ended")
                        continue
                    # Detector.detect, unrolled to keep the raw output: a snapshot's proposals are re-decoded from it.
                    output = self.detector.forward(self.detector.preprocess([frame.image])).cpu()
                    size = (frame.image.shape[1], frame.image.shape[0])
                    detections = self.detector.decode(output, [size], self.conf_threshold)[0].to("cpu")
                    self._publish(frame, detections, output)
        except Exception as exc:  # the model or drawing failed: say so in the view rather than die silently
            self._end(f"stopped by an error: {type(exc).__name__}: {exc}", error=True)

    def _load(self) -> bool:
        try:
            self.detector = load_detector(self._checkpoint, device="auto")
        except Exception as exc:  # noqa: BLE001 - whatever the file did wrong, the view says so
            reason = str(exc) if isinstance(exc, (CheckpointError, OSError)) else f"{type(exc).__name__}: {exc}"
            self._end(f"cannot load the checkpoint: {reason}", error=True)
            return False
        self.plan = self._plan()
        self.model_ready.emit(self.detector)
        return not self._stop

    def _end(self, reason: str, error: bool = False) -> None:
        if self._reason is None and not self._stop:
            self._reason = reason
            self._error = reason if error else None
        self._stop = True

    def _publish(self, frame: Frame, detections: Detections, output: torch.Tensor) -> None:
        with self._publish_lock:
            if frame.index <= self._shown_index:  # the other stream already showed a newer frame
                self._late += 1
                with self._lock:
                    self.stats.late = self._late
                return
            self._shown_index = frame.index
            now = time.perf_counter()
            self._times = [t for t in self._times if now - t < 1.0] + [now]
            fps = (len(self._times) - 1) / (self._times[-1] - self._times[0]) if len(self._times) > 1 else 0.0
            latency = (now - frame.captured) * 1000
            dropped = self.reader.dropped + self._late
            status = f"{fps:.1f} FPS  {latency:.0f} ms  dropped {dropped}"
            with self._lock:
                recording = self._record_path is not None
            if recording or self._recorder is not None:
                # The file keeps the frame's own resolution, its tags sized to it (engine.inference.draw's defaults).
                full = draw_detections(frame.image, detections, self.detector.class_names)
                _draw_status(full, status)
                self._record(full, fps)
            image = self._display_picture(frame.image, detections, status)
            with self._lock:
                self._picture, self._last = image, (frame.image, detections, output)
                s = self.stats
                s.frames, s.fps, s.latency_ms, s.dropped, s.late = s.frames + 1, fps, latency, dropped, self._late
                tell_view, self._picture_taken = self._picture_taken, False
        if tell_view:
            self.frame_ready.emit()

    def _display_picture(self, picture: np.ndarray, detections: Detections, status: str) -> QImage:
        """The frame fitted to the view first, then drawn on: tags and lines have a screen size, so a 320 x 240
        camera shown large does not get huge labels, nor a 1920 x 1080 one shown small unreadable ones."""
        size, ratio = self.display
        fitted = fit_for_display(picture, size)
        sx, sy = fitted.shape[1] / picture.shape[1], fitted.shape[0] / picture.shape[0]
        scaled = Detections(detections.boxes * torch.tensor([sx, sy, sx, sy], dtype=detections.boxes.dtype),
                            detections.scores, detections.labels)
        font_scale = screen_font_scale(fitted.shape[1], fitted.shape[0], ratio)
        shown = draw_detections(fitted, scaled, self.detector.class_names, font_scale=font_scale,
                                thickness=max(1, round(2 * ratio)))
        _draw_status(shown, status, font_scale)
        return to_qimage(shown, ratio)

    def _record(self, picture: np.ndarray, fps: float) -> None:
        with self._lock:
            wanted = self._record_path
        if self._recorder is not None and self._recorder.path != wanted:
            self._close_recorder()
        if wanted is None:
            return
        if self._recorder is None:
            # A file processed frame by frame keeps its own rate; a live source is recorded at the rate shown.
            rate = self.reader.fps if self.reader.every_frame or fps < 1 else fps
            self._recorder = VideoRecorder(wanted, rate)
        try:
            self._recorder.write(picture)
        except OSError as exc:
            self._recorder = None
            with self._lock:
                self._record_path = None
            self.recording_failed.emit(str(exc))
            return
        with self._lock:
            self.stats.recording, self.stats.recorded_frames = wanted, self._recorder.frames_written

    def _close_recorder(self) -> None:
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None
        with self._lock:
            self.stats.recording = None


def _draw_status(picture: np.ndarray, text: str, scale: float | None = None) -> None:
    """FPS and latency in the top-left corner, white on a dark band so it reads on any picture."""
    scale = max(0.4, min(picture.shape[:2]) / 700) if scale is None else scale
    thickness = max(1, round(scale * 1.5))
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.rectangle(picture, (0, 0), (width + 8, height + baseline + 8), (0, 0, 0), cv2.FILLED)
    cv2.putText(picture, text, (4, height + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
