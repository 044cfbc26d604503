"""engine.inference.sources: SOURCE text -> frames, on real image and video files."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.inference.sources import ImageFiles, SourceError, VideoFrames, open_source


def write_image(path: Path, color=(255, 0, 0), size=(40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def write_video(path: Path, frames: int, size=(64, 48), bgr=(0, 0, 255)) -> Path:
    """An mp4v video of solid frames (red by default, given as OpenCV BGR)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, size)
    assert writer.isOpened()
    for _ in range(frames):
        writer.write(np.full((size[1], size[0], 3), bgr, np.uint8))
    writer.release()
    return path


def test_single_image_is_read_as_rgb(tmp_path):
    source = open_source(str(write_image(tmp_path / "photo.png", color=(255, 0, 0))))
    items = list(source)
    assert isinstance(source, ImageFiles) and len(source) == 1
    assert [i.name for i in items] == ["photo"] and items[0].image.shape == (30, 40, 3)
    assert tuple(items[0].image[0, 0]) == (255, 0, 0)


def test_folder_in_natural_order_with_unreadable_file_as_an_item(tmp_path):
    for name in ("img10.png", "img2.png", "img1.jpg"):
        write_image(tmp_path / name)
    (tmp_path / "img3.jpg").write_bytes(b"not a picture")
    (tmp_path / "notes.txt").write_text("ignored")
    items = list(open_source(str(tmp_path)))
    assert [i.name for i in items] == ["img1", "img2", "img3", "img10"]
    broken = items[2]
    assert broken.image is None and broken.path.name == "img3.jpg" and "img3.jpg" in str(broken.error)
    assert all(i.error is None for i in items if i is not broken)


def test_glob_matches_images_only_sorted(tmp_path):
    write_image(tmp_path / "a" / "x2.jpg")
    write_image(tmp_path / "a" / "x10.jpg")
    write_image(tmp_path / "a" / "y.png")
    (tmp_path / "a" / "x3.txt").write_text("")
    source = open_source(str(tmp_path / "a" / "x*"))
    assert [p.name for p in source.paths] == ["x2.jpg", "x10.jpg"]
    recursive = open_source(str(tmp_path / "**" / "*.png"))
    assert [p.name for p in recursive.paths] == ["y.png"]


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "missing", "no such file or folder"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "folder has no images"),
    (lambda d: d / "*.jpg", "pattern matches no image files"),
    (lambda d: (d / "table.csv").write_text("x") and d / "table.csv", "not an image"),
])
def test_bad_source_is_a_usage_error_naming_it(tmp_path, make, expected):
    text = str(make(tmp_path))
    with pytest.raises(SourceError) as info:
        open_source(text)
    assert expected in str(info.value) and Path(text).name in str(info.value)
    assert info.value.usage


def test_video_frames_are_rgb_and_limited_by_max_frames(tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=5)
    source = open_source(str(video))
    assert isinstance(source, VideoFrames) and source.kind == "video" and source.name == "clip"
    assert len(source) == 5 and source.fps == pytest.approx(10.0)
    frames = list(source)
    source.close()
    assert [f.name for f in frames] == [0, 1, 2, 3, 4] and all(f.path is None for f in frames)
    red, green, blue = frames[0].image[24, 32].astype(int)
    assert red > 200 and green < 50 and blue < 50  # BGR (0, 0, 255) from OpenCV is red in RGB

    limited = open_source(str(video), max_frames=3)
    assert len(limited) == 3 and len(list(limited)) == 3
    limited.close()


def test_damaged_video_cannot_be_opened(tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 200)
    with pytest.raises(SourceError, match="broken.mp4: cannot be opened as a video") as info:
        open_source(str(tmp_path / "broken.mp4"))
    assert not info.value.usage


def test_missing_camera_says_so():
    with pytest.raises(SourceError) as info:
        open_source("97")
    assert str(info.value) == "camera 97 could not be opened: missing or busy" and not info.value.usage


def test_numeric_name_of_an_existing_file_is_the_file_not_a_camera(tmp_path, monkeypatch):
    Image.new("RGB", (8, 8)).save(tmp_path / "0", format="PNG")  # no extension: not an image by name
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError, match="not an image"):
        open_source("0")
