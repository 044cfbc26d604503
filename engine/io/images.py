"""Read images exactly as the app shows them: RGB uint8, EXIF orientation applied.

The app and the engine both call :func:`read_image`, so a box drawn on screen lands on the same pixels the
detector trains on. Decoding uses Pillow, because it reports truncated files instead of silently filling
them with grey (OpenCV does), and because the same library then reads the EXIF orientation for
:func:`read_image_size` without decoding pixels.

Conversions (documented choices):

- grayscale, 1-bit, palette, CMYK, YCbCr: converted to RGB by Pillow;
- alpha (RGBA, LA, PA): the alpha channel is dropped, keeping the colour underneath, as OpenCV and
  torchvision's ``decode_image(mode=RGB)`` do;
- 16-bit (``I;16*`` and 32-bit integer ``I`` holding 16-bit data): scaled to 8 bit by keeping the high byte
  (value >> 8), the same rule Pillow applies to 16-bit RGB PNGs;
- multi-frame files (GIF, TIFF): the first frame.

Decompression bombs: images above :data:`MAX_IMAGE_PIXELS` (300 megapixels; a 20000 x 15000 photo still
reads) are refused with :class:`ImageReadError`. Importing this module sets Pillow's own
``Image.MAX_IMAGE_PIXELS`` to the same limit, so that Pillow neither refuses images under it nor lets
larger ones through for other callers in the process.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_PIXELS = 300_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

EXIF_ORIENTATION_TAG = 274
# EXIF orientation -> the Pillow transpose that shows the image upright (the table of ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIDEWAYS_ORIENTATIONS = {5, 6, 7, 8}  # width and height swap
# What Pillow's decoders raise on damaged data besides OSError (truncated) and ValueError.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, TypeError)


class ImageReadError(ValueError):
    """An image file that cannot be read. ``str()`` names the file and the problem."""

    def __init__(self, path: Path | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):
        # Rebuilt from (path, reason), not from the message: lets the error cross process boundaries.
        return type(self), (self.path, self.reason)


def read_image(path: Path | str) -> np.ndarray:
    """Decode ``path`` into an ``H x W x 3`` uint8 RGB array, upright per its EXIF orientation."""
    return _decode(Path(path), None)[0]


def read_image_reduced(path: Path | str, min_width: int, min_height: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Like :func:`read_image`, but a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling: a
    12-megapixel photo decodes several times faster) while both upright sides stay at least the minimums.
    Returns the pixels and the full upright ``(width, height)``, the size annotation boxes refer to."""
    return _decode(Path(path), (min_width, min_height))


def _decode(path: Path, min_size: tuple[int, int] | None) -> tuple[np.ndarray, tuple[int, int]]:
    with _open(path) as image:
        try:
            orientation = _exif_orientation(image)
            sideways = orientation in _SIDEWAYS_ORIENTATIONS
            width, height = image.size
            if min_size is not None:
                image.draft("RGB", (min_size[1], min_size[0]) if sideways else min_size)  # no-op unless JPEG
            image.load()
            if orientation in _ORIENTATION_TRANSPOSE:
                image = image.transpose(_ORIENTATION_TRANSPOSE[orientation])
            return _to_rgb_array(image), ((height, width) if sideways else (width, height))
        except MemoryError:
            raise ImageReadError(path, f"not enough memory to decode a {image.width} x {image.height} image") from None
        except _DECODE_ERRORS as error:
            raise ImageReadError(path, f"truncated or corrupt image data ({error})") from error


def read_image_size(path: Path | str) -> tuple[int, int]:
    """``(width, height)`` of the upright image (EXIF orientation applied), read from the header only (a JPEG's
    first bytes by :mod:`engine.io.image_header`, else Pillow's lazy open)."""
    from engine.io.image_header import HEAD_BYTES, jpeg_size

    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        head = b""  # missing, a folder, no permission: Pillow's path below names the problem
    found = jpeg_size(head) if head[:2] == b"\xff\xd8" else None
    if found is not None:
        width, height, orientation = found
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageReadError(path, _too_large_reason(Path(path), width, height))
        return (height, width) if orientation in _SIDEWAYS_ORIENTATIONS else (width, height)
    path = Path(path)
    with _open(path) as image:
        width, height = image.size
        if _exif_orientation(image) in _SIDEWAYS_ORIENTATIONS:
            return height, width
        return width, height


def _open(path: Path) -> Image.Image:
    """Open lazily (header only) with every failure turned into an :class:`ImageReadError`."""
    if not path.exists():
        raise ImageReadError(path, "file not found")
    if path.is_dir():
        raise ImageReadError(path, "is a folder, not an image file")
    try:
        if path.stat().st_size == 0:
            raise ImageReadError(path, "empty file (0 bytes)")
        image = Image.open(path)
    except ImageReadError:
        raise
    except PermissionError:
        raise ImageReadError(path, "permission denied") from None
    except UnidentifiedImageError:
        raise ImageReadError(path, "not an image, or an image format that cannot be read") from None
    except Image.DecompressionBombError:
        raise ImageReadError(path, _too_large_reason(path)) from None
    except _DECODE_ERRORS as error:
        raise ImageReadError(path, f"corrupt image header ({error})") from error
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise ImageReadError(path, f"image has zero size ({width} x {height})")
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise ImageReadError(path, _too_large_reason(path, width, height))
    return image


def _too_large_reason(path: Path, width: int | None = None, height: int | None = None) -> str:
    size = f"{width} x {height} = {width * height / 1e6:.0f} megapixels, " if width and height else ""
    return (f"image too large ({size}above the limit of {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels that "
            "guards against decompression bombs)")


def _exif_orientation(image: Image.Image) -> int:
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - damaged EXIF must not make a good image unreadable
        return 1
    return orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Convert to a writable ``H x W x 3`` uint8 array, closing ``image`` as soon as its pixels are copied
    (a 300-megapixel photo is 900 MB per copy)."""
    mode = image.mode
    if mode in ("L", "F") or mode == "I" or mode.startswith("I;16"):
        gray = np.asarray(image)
        image.close()
        if mode != "L":
            gray = _gray_to_uint8(gray, mode)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode != "RGB":
        # Alpha is dropped, not composited (see module docstring); convert("RGB") does exactly that.
        converted = image.convert("RGB")
        image.close()
        image = converted
    array = np.asarray(image)
    image.close()
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array, order="C")  # Pillow hands out a read-only view of its bytes
    return array


def _gray_to_uint8(gray: np.ndarray, mode: str) -> np.ndarray:
    if mode == "F":
        return np.clip(gray, 0, 255).astype(np.uint8)
    return (np.clip(gray.astype(np.int64, copy=False), 0, 65535) >> 8).astype(np.uint8)  # 16-bit: high byte
