"""engine.io.images on real files written to disk by Pillow and OpenCV."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from engine.io import images
from engine.io.images import ImageReadError, read_image, read_image_size


def _marked_image(width: int = 60, height: int = 40) -> np.ndarray:
    """An RGB image whose orientation is unambiguous: a red block in the top-left corner, green top-right."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:10, :20] = (255, 0, 0)
    pixels[:10, -15:] = (0, 255, 0)
    return pixels


def _save_with_orientation(pixels: np.ndarray, path, orientation: int) -> None:
    exif = Image.Exif()
    exif[images.EXIF_ORIENTATION_TAG] = orientation
    Image.fromarray(pixels).save(path, exif=exif)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    path = tmp_path / f"o{orientation}.png"
    _save_with_orientation(_marked_image(), path, orientation)

    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    pixels = read_image(path)

    np.testing.assert_array_equal(pixels, expected)
    assert read_image_size(path) == (pixels.shape[1], pixels.shape[0])


@pytest.mark.parametrize("orientation, turns_counterclockwise", [(6, -1), (8, 1)])
def test_jpeg_with_rotation_tag_is_read_upright(tmp_path, orientation, turns_counterclockwise):
    # Orientation 6: the camera was turned; the stored pixels must be rotated 90 degrees clockwise to show.
    stored = _marked_image(width=64, height=48)
    path = tmp_path / "phone.jpg"
    _save_with_orientation(stored, path, orientation)

    pixels = read_image(path)

    assert pixels.shape == (64, 48, 3)
    assert read_image_size(path) == (48, 64)
    upright = np.rot90(stored, k=turns_counterclockwise)
    assert np.abs(pixels.astype(int) - upright.astype(int)).mean() < 3  # JPEG loss only


def test_read_image_size_reads_the_header_only(tmp_path):
    # A truncated file still has a valid header: the size is known although the pixels cannot be decoded.
    path = tmp_path / "cut.jpg"
    _save_with_orientation(np.random.default_rng(0).integers(0, 255, (80, 120, 3), np.uint8), path, 6)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    assert read_image_size(path) == (80, 120)
    with pytest.raises(ImageReadError):
        read_image(path)


def test_sixteen_bit_png_is_scaled_to_eight_bits(tmp_path):
    gray16 = (np.arange(30 * 50, dtype=np.uint32).reshape(30, 50) * 43).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "gray16.png"), gray16)
    bgr16 = np.dstack([gray16, gray16 // 2, gray16 // 4])
    cv2.imwrite(str(tmp_path / "colour16.png"), bgr16)

    gray = read_image(tmp_path / "gray16.png")
    colour = read_image(tmp_path / "colour16.png")

    assert gray.dtype == np.uint8 and gray.shape == (30, 50, 3)
    np.testing.assert_array_equal(gray[:, :, 1], (gray16 >> 8).astype(np.uint8))
    assert gray.max() > 200  # scaled, not clipped at 255 nor left tiny
    # OpenCV wrote BGR: red in the file is the last plane written.
    np.testing.assert_array_equal(colour[:, :, 0], (bgr16[:, :, 2] >> 8).astype(np.uint8))
    np.testing.assert_array_equal(colour[:, :, 2], (bgr16[:, :, 0] >> 8).astype(np.uint8))


def test_gray_rgba_and_palette_become_rgb(tmp_path):
    gray = np.tile(np.arange(0, 250, 5, dtype=np.uint8), (20, 1))
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 10, 20, 30
    rgba[:, :15, 3] = 0  # fully transparent half keeps its colour: alpha is dropped, not composited
    rgba[:, 15:, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(_marked_image()).convert("P").save(tmp_path / "palette.png")

    read_gray = read_image(tmp_path / "gray.png")
    read_rgba = read_image(tmp_path / "rgba.png")
    read_palette = read_image(tmp_path / "palette.png")

    assert read_gray.shape == (20, 50, 3)
    for channel in range(3):
        np.testing.assert_array_equal(read_gray[:, :, channel], gray)
    assert read_rgba.shape == (20, 30, 3)
    assert (read_rgba == (10, 20, 30)).all()
    np.testing.assert_array_equal(read_palette, _marked_image())
    assert all(a.dtype == np.uint8 and a.flags.writeable for a in (read_gray, read_rgba, read_palette))


def test_truncated_jpeg_names_file_and_problem(tmp_path):
    path = tmp_path / "truncated.jpg"
    cv2.imwrite(str(path), np.random.default_rng(1).integers(0, 255, (100, 100, 3), np.uint8))
    path.write_bytes(path.read_bytes()[:-300])

    with pytest.raises(ImageReadError) as caught:
        read_image(path)

    assert isinstance(caught.value, ValueError)
    assert caught.value.path == path
    assert str(path) in str(caught.value) and "truncated" in str(caught.value)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_text("this is a text file, not a photo\n"), "not an image"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: None, "file not found"),
        (lambda p: p.mkdir(), "folder"),
    ],
    ids=["text-renamed-jpg", "zero-bytes", "missing", "folder"],
)
def test_unreadable_files_raise_with_path_and_reason(tmp_path, make, reason):
    path = tmp_path / "picture.jpg"
    make(path)

    for reader in (read_image, read_image_size):
        with pytest.raises(ImageReadError) as caught:
            reader(path)
        assert str(path) in str(caught.value)
        assert reason in str(caught.value)


def test_images_above_the_pixel_limit_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    cv2.imwrite(str(path), np.zeros((40, 50), np.uint8))
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 40 * 50 - 1)

    with pytest.raises(ImageReadError, match="too large"):
        read_image(path)
    with pytest.raises(ImageReadError, match="too large"):
        read_image_size(path)

    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 40 * 50)
    assert read_image(path).shape == (40, 50, 3)


def test_a_300_megapixel_photo_still_reads(tmp_path):
    assert images.MAX_IMAGE_PIXELS >= 20000 * 15000
    path = tmp_path / "panorama.jpg"
    pixels = np.zeros((15000, 20000), np.uint8)
    pixels[100:200, 300:400] = 255
    cv2.imwrite(str(path), pixels)
    del pixels

    assert read_image_size(path) == (20000, 15000)
    image = read_image(path)
    assert image.shape == (15000, 20000, 3)
    assert image[150, 350].min() > 200 and image[50, 50].max() < 50


def test_reduced_read_decodes_a_large_jpeg_at_a_fraction_and_reports_the_full_size(tmp_path):
    path = tmp_path / "photo.jpg"
    _save_with_orientation(_marked_image(width=1600, height=1200), path, 6)  # upright: 1200 x 1600

    pixels, full_size = images.read_image_reduced(path, 448, 448)
    png = tmp_path / "photo.png"
    _save_with_orientation(_marked_image(width=1600, height=1200), png, 6)
    png_pixels, png_full_size = images.read_image_reduced(png, 448, 448)

    assert full_size == (1200, 1600) == read_image_size(path)
    assert pixels.shape == (800, 600, 3)  # 1/2 scale: 1/4 would make the short side 300 < 448
    full = read_image(path)
    assert np.abs(cv2.resize(full, (600, 800), interpolation=cv2.INTER_AREA).astype(int) - pixels).mean() < 3
    assert png_pixels.shape == (1600, 1200, 3) and png_full_size == (1200, 1600)  # only JPEG reduces
