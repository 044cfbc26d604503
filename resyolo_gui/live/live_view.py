"""Live view window: a camera, a video file or a stream URL with the detector's boxes, FPS and latency drawn on it.

The GUI thread only opens the source (so a missing camera is reported at once), shows finished pictures and
handles the buttons; reading is :class:`engine.inference.latest_frame.LatestFrameReader`'s thread and detection is
:class:`LiveDetectionThread`.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSlider,
                               QVBoxLayout, QWidget)

from engine.inference.detector import Detector
from engine.inference.sources import VIDEO_EXTENSIONS, SourceError
from engine.inference.latest_frame import LatestFrameReader
from resyolo_gui.checkpoint_choice import CheckpointChoice
from resyolo_gui.live.frame_view import FrameView
from resyolo_gui.live.live_worker import DEFAULT_CONFIDENCE, LiveDetectionThread, LiveStats
from resyolo_gui.screen_fit import fit_to_screen

STATUS_INTERVAL_S = 0.25  # the status line's figures are refreshed at most this often

_VIDEO_FILTER = "Videos (" + " ".join(f"*{e}" for e in sorted(VIDEO_EXTENSIONS)) + ");;All files (*)"


class LiveView(QWidget):
    """A top-level window. ``snapshot_taken(ann, detections, raw_output, detector)`` when a frame was added to
    the project."""

    snapshot_taken = Signal(object, object, object, object)
    stopped = Signal(str)

    def __init__(self, parent: QWidget | None = None, settings=None):
        super().__init__(parent, Qt.Window)
        self.setWindowTitle("Live view — ResYOLO")
        self.settings = settings  # AppSettings: keeps the confidence threshold between sessions
        self.project = None
        self.thread: LiveDetectionThread | None = None
        self._detector: Detector | None = None
        self._detector_path: Path | None = None
        self.last_stats = LiveStats()
        self._status_shown = float("-inf")  # when the status line last showed a frame's figures
        self._source_text = ""  # what runs, for the status line
        self._build()
        fit_to_screen(self, 900, 680)

    def _build(self) -> None:
        self.source_edit = QLineEdit(self)
        self.source_edit.setPlaceholderText("Camera number (0), a video file, or a stream URL (rtsp://, http://)")
        self.source_edit.setText("0")
        self.source_edit.returnPressed.connect(self.start)
        video_button = QPushButton("Video file…", self)
        video_button.clicked.connect(self._choose_video)
        self.checkpoint = CheckpointChoice(self)
        self.conf_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.conf_slider.setRange(1, 99)  # hundredths
        self.conf_slider.setToolTip("Detections scoring below this are not shown, recorded or put in a snapshot")
        self.conf_slider.setMinimumWidth(120)
        confidence = self.settings.live_confidence(DEFAULT_CONFIDENCE) if self.settings is not None \
            else DEFAULT_CONFIDENCE
        self.conf_slider.setValue(round(confidence * 100))
        self.conf_value = QLabel(self)
        self.conf_value.setMinimumWidth(self.conf_value.fontMetrics().horizontalAdvance("0.00") + 4)
        self.conf_slider.valueChanged.connect(self._on_confidence)
        self.every_frame = QCheckBox("Process every frame (video files: no dropping, not real time)", self)
        self.low_latency = QCheckBox("Low latency", self)
        self.low_latency.setToolTip("One frame at a time, on all CPU cores: each frame's boxes come sooner, but fewer "
                                    "frames per second than the default two frames at a time (on a GPU: always one)")
        self.start_button = QPushButton("Start", self)
        self.start_button.clicked.connect(lambda: self.stop() if self.is_running() else self.start())
        self.record_button = QPushButton("Record…", self)
        self.record_button.setCheckable(True)
        self.record_button.clicked.connect(self._toggle_recording)
        self.snapshot_button = QPushButton("Snapshot to project", self)
        self.snapshot_button.setToolTip("Add the current frame to the project as a new image; its detections "
                                        "are kept as proposals for you to accept")
        self.snapshot_button.clicked.connect(self.snapshot)
        self.picture = FrameView("Choose a source and a checkpoint, then Start.", self)
        self.picture.resized.connect(self._tell_display_size)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        source_row = QHBoxLayout()
        source_row.addWidget(QLabel("Source:", self))
        source_row.addWidget(self.source_edit, 1)
        source_row.addWidget(video_button)
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model:", self))
        model_row.addWidget(self.checkpoint, 1)
        model_row.addWidget(QLabel("Confidence:", self))
        model_row.addWidget(self.conf_slider)
        model_row.addWidget(self.conf_value)
        buttons = QHBoxLayout()
        buttons.addWidget(self.every_frame, 1)
        buttons.addWidget(self.low_latency)
        for button in (self.start_button, self.record_button, self.snapshot_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(source_row)
        layout.addLayout(model_row)
        layout.addLayout(buttons)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.status)
        self._show_confidence()
        self._update_buttons()

    # ----------------------------------------------------------------- confidence
    def confidence(self) -> float:
        return self.conf_slider.value() / 100

    def _show_confidence(self) -> None:
        self.conf_value.setText(f"{self.confidence():.2f}")

    def _on_confidence(self) -> None:
        self._show_confidence()
        if self.thread is not None:
            self.thread.conf_threshold = self.confidence()  # from the next frame on
        if self.settings is not None:
            self.settings.set_live_confidence(self.confidence())

    # ----------------------------------------------------------------- project
    def set_project(self, project) -> None:
        self.project = project
        self.checkpoint.set_project_folder(project.folder if project is not None else None)
        self._update_buttons()

    # ----------------------------------------------------------------- running
    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self) -> bool:
        """Open the source and the model and start; False (reason in the status line) when either fails."""
        if self.is_running():
            return True
        path = self.checkpoint.checkpoint()
        if path is None:
            return self._fail("Choose a checkpoint first (a run of this project, or Browse… for a .pt file).")
        if self._detector is not None and self._detector_path == path:
            model = self._detector
        elif not Path(path).is_file():
            return self._fail(f"Cannot load the checkpoint: {path}: no such file")
        else:
            model = Path(path)  # loaded by the worker: the window never waits for a model to load
        try:
            reader = LatestFrameReader.open(self.source_edit.text(), every_frame=self.every_frame.isChecked())
        except SourceError as exc:
            return self._fail(str(exc))
        self.thread = thread = LiveDetectionThread(model, reader, self, low_latency=self.low_latency.isChecked())
        thread.conf_threshold = self.confidence()
        thread.frame_ready.connect(self._show_frame)
        thread.model_ready.connect(lambda detector: self._on_model_ready(thread, path, detector))
        thread.succeeded.connect(lambda reason: self._on_stopped(thread, reason))
        thread.failed.connect(lambda reason: self._on_stopped(thread, reason))
        thread.recording_failed.connect(self._on_recording_failed)
        self._source_text = f"{reader.kind} {self.source_edit.text().strip()}, {reader.fps:.0f} FPS source"
        self._tell_display_size()
        thread.start()
        if thread.plan is None:
            self.status.setText(f"Loading {Path(path).name}…")
            self.picture.set_message(f"Loading {Path(path).name}…")
        else:
            self._show_running(thread)
        self._update_buttons()
        return True

    def _tell_display_size(self) -> None:
        if self.thread is not None:
            self.thread.display = (self.picture.pixel_size(), self.picture.devicePixelRatioF())

    def _on_model_ready(self, thread: LiveDetectionThread, path: Path, detector) -> None:
        self._detector, self._detector_path = detector, path  # kept for the next Start
        if thread is self.thread and thread.isRunning():
            self._show_running(thread)

    def _show_running(self, thread: LiveDetectionThread) -> None:
        self.status.setText(f"Running on {self._source_text} ({thread.plan.describe()})…")

    def stop(self) -> None:
        thread = self.thread
        if thread is not None:
            thread.stop()
            thread.wait()
            self._on_stopped(thread, "stopped")  # at once, so a Start right after finds nothing running

    def _on_stopped(self, thread: LiveDetectionThread, reason: str) -> None:
        if thread is not self.thread:
            return  # already handled by stop(), or an older run's late signal
        thread.wait()
        self.last_stats = thread.take_frame()[1]
        self.thread = None
        self.record_button.setChecked(False)
        s = self.last_stats
        self.status.setText(f"Stopped ({reason}). {s.frames} frame(s) shown, {s.dropped} dropped.")
        if s.frames == 0:
            self.picture.set_message(f"Stopped: {reason}")
        self._update_buttons()
        self.stopped.emit(reason)

    def _show_frame(self) -> None:
        if self.thread is None:
            return
        image, stats = self.thread.take_frame()
        if image is None:
            return
        self.last_stats = stats
        self.picture.set_image(image)
        now = time.monotonic()
        if now - self._status_shown < STATUS_INTERVAL_S:
            return  # the frame carries its own FPS; a status line changing 30 times a second is unreadable anyway
        self._status_shown = now
        text = f"{stats.fps:.1f} FPS · latency {stats.latency_ms:.0f} ms · {stats.dropped} dropped"
        if stats.recording is not None:
            text += f" · recording {stats.recording.name} ({stats.recorded_frames} frames)"
        self.status.setText(text)

    # ----------------------------------------------------------------- recording and snapshots
    def start_recording(self, path: Path | str) -> None:
        if self.thread is not None:
            self.thread.start_recording(path)
            self.record_button.setChecked(True)

    def stop_recording(self) -> None:
        if self.thread is not None:
            self.thread.stop_recording()
        self.record_button.setChecked(False)

    def _toggle_recording(self, checked: bool) -> None:
        if not checked:
            self.stop_recording()
            return
        folder = str(self.project.folder) if self.project is not None else ""
        path, _ = QFileDialog.getSaveFileName(self, "Record the annotated video to", folder, "MP4 video (*.mp4);;AVI video (*.avi)")
        if not path:
            self.record_button.setChecked(False)
            return
        if Path(path).suffix.lower() not in (".mp4", ".avi", ".mov", ".m4v"):
            path += ".mp4"
        self.start_recording(path)

    def _on_recording_failed(self, message: str) -> None:
        self.record_button.setChecked(False)
        self.status.setText(f"Recording stopped: {message}")

    def snapshot(self):
        """Save the current raw frame into the project as a new image; returns its annotation, or None."""
        from engine.inference.snapshot import detections_summary, save_snapshot

        last = self.thread.last_frame() if self.thread is not None else None
        if self.project is None or last is None:
            self.status.setText("Snapshot needs an open project and a running view.")
            return None
        image, detections, output = last
        detector = self.thread.detector  # the model that found these, whatever is chosen now
        try:
            ann = save_snapshot(self.project, image)
        except OSError as exc:
            self.status.setText(f"Snapshot not saved: {exc}")
            return None
        self.status.setText(f"Saved {Path(ann.image_path).name} to the project "
                            f"({detections_summary(detections, detector.class_names)} as proposals)")
        self.snapshot_taken.emit(ann, detections, output, detector)
        return ann

    # ----------------------------------------------------------------- misc
    def _choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a video file", "", _VIDEO_FILTER)
        if path:
            self.source_edit.setText(path)

    def _fail(self, message: str) -> bool:
        self.status.setText(message)
        self.picture.set_message(message)
        return False

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setText("Stop" if running else "Start")
        self.every_frame.setEnabled(not running)
        self.low_latency.setEnabled(not running)  # both are read at Start
        self.record_button.setEnabled(running)
        self.snapshot_button.setEnabled(running and self.project is not None)

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
