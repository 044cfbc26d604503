"""The JPEG header reader (engine.io.image_header) agrees with Pillow on every JPEG it answers for."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from engine.io.image_header import jpeg_size
from engine.io.images import ImageReadError, read_image_size


def _jpeg(size=(40, 30), orientation=None, **save) -> bytes:
    image = Image.new("RGB", size, (10, 200, 30))
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        save["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **save)
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", [None, 1, 3, 5, 6, 8])
@pytest.mark.parametrize("save", [{}, {"progressive": True}, {"quality": 30, "optimize": True}])
def test_size_and_orientation_as_pillow_reads_them(tmp_path, orientation, save):
    data = _jpeg((40, 30), orientation, **save)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    with Image.open(path) as image:
        expected_orientation = image.getexif().get(0x0112, 1)
        assert jpeg_size(data) == (40, 30, expected_orientation)
        sideways = expected_orientation in (5, 6, 7, 8)
        assert read_image_size(path) == ((30, 40) if sideways else (40, 30))


def test_what_it_is_unsure_of_goes_to_pillow(tmp_path):
    data = _jpeg()
    assert jpeg_size(data[:20]) is None  # header cut before the frame
    assert jpeg_size(b"\x89PNG\r\n\x1a\n" + data) is None
    png = tmp_path / "a.png"
    Image.new("RGB", (7, 5)).save(png)
    assert read_image_size(png) == (7, 5)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty"):
        read_image_size(tmp_path / "empty.jpg")
    with pytest.raises(ImageReadError, match="not found"):
        read_image_size(tmp_path / "missing.jpg")
    (tmp_path / "cut.jpg").write_bytes(data[:20])
    with pytest.raises(ImageReadError):
        read_image_size(tmp_path / "cut.jpg")
