"""engine.inference.latest_frame: the latest-frame reader drops frames for a slow consumer, paces video files, records video."""
from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from engine.inference.sources import SourceError
from engine.inference.latest_frame import LatestFrameReader, VideoRecorder, open_frames


def write_video(path, frames: int = 30, fps: float = 30.0, size=(64, 48)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        image = np.zeros((size[1], size[0], 3), np.uint8)
        image[:] = (0, 0, 255)  # BGR red: the reader must hand out RGB
        image[:, : (i * size[0]) // frames] = (0, 255, 0)  # a green bar growing with the frame number
        writer.write(image)
    writer.release()
    return path


def drain(reader: LatestFrameReader, consume_seconds: float = 0.0) -> list:
    taken = []
    while True:
        frame = reader.latest(timeout=5)
        if frame is None:
            break
        taken.append(frame)
        time.sleep(consume_seconds)
    return taken


def test_slow_consumer_gets_latest_frames_and_drops_counted(tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=60, fps=200.0)
    reader = LatestFrameReader.open(str(video), realtime=True)
    taken = drain(reader, consume_seconds=0.03)  # 33 fps consumer, 200 fps source
    assert reader.read_count == 60
    assert reader.dropped > 20
    assert len(taken) + reader.dropped == 60
    indices = [f.index for f in taken]
    assert indices == sorted(indices) and indices[0] == 0
    assert taken[0].image.shape == (48, 64, 3)
    assert taken[0].image[0, -1, 0] > 200 and taken[0].image[0, -1, 2] < 60  # converted to RGB


def test_every_frame_mode_drops_nothing(tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=20)
    reader = LatestFrameReader.open(str(video), every_frame=True)
    taken = drain(reader, consume_seconds=0.01)
    assert [f.index for f in taken] == list(range(20))
    assert reader.dropped == 0


def test_video_file_paced_by_its_fps(tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=12, fps=40.0)
    reader = LatestFrameReader.open(str(video), realtime=True)
    start = time.perf_counter()
    drain(reader)
    assert time.perf_counter() - start >= 11 / 40 * 0.9  # not decoded as fast as possible

    unpaced = LatestFrameReader.open(str(video), realtime=False)
    drain(unpaced)
    assert unpaced.read_count == 12


def test_close_stops_a_paced_reader_quickly(tmp_path):
    video = write_video(tmp_path / "slow.mp4", frames=10, fps=2.0)
    reader = LatestFrameReader.open(str(video))
    assert reader.latest(timeout=5) is not None
    start = time.perf_counter()
    reader.close()
    assert time.perf_counter() - start < 1.0
    assert reader.finished


def test_missing_camera_and_bad_sources_give_clear_messages(tmp_path):
    with pytest.raises(SourceError, match="camera 97 could not be opened: missing or busy"):
        open_frames("97")
    with pytest.raises(SourceError, match="no such file"):
        open_frames(str(tmp_path / "nothing.mp4"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SourceError, match="not a video file"):
        open_frames(str(tmp_path / "notes.txt"))
    with pytest.raises(SourceError, match="no source given"):
        open_frames("  ")


def test_recorder_writes_a_playable_video(tmp_path):
    recorder = VideoRecorder(tmp_path / "out" / "rec.mp4", fps=15)
    for i in range(8):
        recorder.write(np.full((48, 64, 3), i * 20, np.uint8))
    recorder.close()
    capture = cv2.VideoCapture(str(tmp_path / "out" / "rec.mp4"))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 8 and recorder.frames_written == 8
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(15, abs=0.5)
