"""A synthetic detection dataset: coloured shapes on textured, cluttered backgrounds, written as JPEGs + labels.

Made to test and demonstrate the whole pipeline without downloading anything, and to be learnable by a small
detector in a few minutes of CPU training at 128-224 px:

- K classes (``circle``, ``square``, ``triangle``, ...), each a distinct shape in a distinct typical colour,
  with per-object colour noise, shading and an optional dark outline;
- 1-6 objects per image, side 10%-45% of the image (log-uniform), aspect ratio 0.75-1.33, a little rotation;
- objects may overlap: a later one may hide part of an earlier one, but never more than half of it, and the
  ground-truth box is the tight box of what is still visible;
- backgrounds are low-saturation gradients with smooth texture, faint stripes and pixel noise; clutter
  (grey blobs, lines, dots) is drawn behind the objects and is not labelled.

Deterministic: image ``i`` depends only on ``(seed, i)`` (numpy ``Generator`` + OpenCV drawing), so the same
arguments give byte-identical files. The app's sample project was made with (from inside the folder, so
the XML ``<path>`` entries are relative)::

    cd assets/sample && resyolo synth . --images 24 --classes 4 --seed 7 --size 320x240 --format voc
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.io.atomic import atomic_write_bytes
from engine.annotations.records import Box, ImageAnnotation, LabelSet
from engine.annotations.formats import get_format
from engine.annotations.yolo import CLASSES_FILE, write_classes_txt
from engine.data.synth_shapes import SHAPE_NAMES, class_colour_rgb, hsv_to_rgb, random_angle, shape_mask

FORMATS = ("voc", "yolo", "coco", "labelme")  # the formats that fit one flat folder (entries of the format table)
COCO_FILE = "annotations.json"
VARIED_SIZE_RANGE = (160, 384)  # per side, when image_size is None
MAX_OBJECTS = 6
MIN_VISIBLE_FRACTION = 0.5  # an object may lose at most half of itself to later objects
OBJECT_SIDE_RANGE = (0.10, 0.45)  # of the shorter image side


def generate_dataset(out_dir: Path | str, num_images: int, num_classes: int, seed: int, fmt: str = "voc",
                     image_size: tuple[int, int] | None = (256, 256)) -> list[ImageAnnotation]:
    """Write ``num_images`` JPEGs, their labels in ``fmt`` and ``classes.txt`` into ``out_dir``.

    ``image_size`` is ``(width, height)``, or None for a different random size per image. Refuses (with
    ``FileExistsError``, before writing anything) to overwrite any existing file.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not 1 <= num_classes <= len(SHAPE_NAMES):
        raise ValueError(f"num_classes must be 1..{len(SHAPE_NAMES)} (one per shape: {', '.join(SHAPE_NAMES)})")
    if num_images < 1:
        raise ValueError("num_images must be at least 1")
    if image_size is not None and min(image_size) < 32:
        raise ValueError(f"image size {image_size[0]}x{image_size[1]} is too small (at least 32x32)")
    out_dir = Path(out_dir)
    labels = LabelSet(SHAPE_NAMES[:num_classes])
    image_paths = [out_dir / f"synth_{i:04d}.jpg" for i in range(num_images)]
    _refuse_to_overwrite(out_dir, image_paths, fmt)
    out_dir.mkdir(parents=True, exist_ok=True)

    annotations = []
    for index, image_path in enumerate(image_paths):
        rng = np.random.default_rng([seed, index])
        width, height = image_size if image_size is not None else rng.integers(*VARIED_SIZE_RANGE, endpoint=True, size=2)
        rgb, boxes = render_image(rng, int(width), int(height), labels.names)
        quality = int(rng.integers(85, 96))
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError(f"OpenCV could not encode {image_path}")
        atomic_write_bytes(image_path, encoded.tobytes())
        ann = ImageAnnotation(image_path=image_path, width=int(width), height=int(height), boxes=boxes)
        if get_format(fmt).per_image:
            get_format(fmt).write(ann, labels, None, None)
        annotations.append(ann)
    if not get_format(fmt).per_image:
        get_format(fmt).write_dataset(annotations, labels, out_dir / COCO_FILE)
    write_classes_txt(labels, out_dir / CLASSES_FILE)
    return annotations


def render_image(rng: np.random.Generator, width: int, height: int, class_names: list[str]) -> tuple[np.ndarray, list[Box]]:
    """One RGB uint8 image and the tight boxes of its objects."""
    image = _background(rng, width, height)
    _draw_clutter(rng, image)
    owner = np.full((height, width), -1, np.int32)  # which object each pixel shows, -1 = none
    full_areas: list[int] = []
    names: list[str] = []
    for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
        name = class_names[int(rng.integers(len(class_names)))]
        mask = _place_object(rng, name, owner, full_areas)
        if mask is None:
            continue  # no room left that keeps every earlier object at least half visible
        owner[mask] = len(full_areas)
        full_areas.append(int(mask.sum()))
        names.append(name)
        _paint_object(rng, image, mask, class_colour_rgb(name, rng))
    image += rng.normal(0, rng.uniform(1.5, 5), image.shape)
    rgb = np.clip(image, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        rgb = cv2.GaussianBlur(rgb, (3, 3), 0.6)
    boxes = []
    for index, name in enumerate(names):
        ys, xs = np.nonzero(owner == index)
        boxes.append(Box(name, float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)))
    return rgb, boxes


def _place_object(rng: np.random.Generator, name: str, owner: np.ndarray, full_areas: list[int]) -> np.ndarray | None:
    height, width = owner.shape
    short_side = min(width, height)
    for _attempt in range(25):
        side = short_side * float(np.exp(rng.uniform(*np.log(OBJECT_SIDE_RANGE))))
        aspect = float(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
        w, h = min(side * np.sqrt(aspect), 0.5 * width), min(side / np.sqrt(aspect), 0.5 * height)
        # Up to 10% of the object may fall outside the frame (truncated objects are real too).
        cx = rng.uniform(0.4 * w, width - 0.4 * w)
        cy = rng.uniform(0.4 * h, height - 0.4 * h)
        mask = shape_mask(name, (height, width), (cx, cy), (w, h), random_angle(name, rng)).astype(bool)
        if not mask.any():
            continue
        hidden = np.bincount(owner[mask & (owner >= 0)], minlength=len(full_areas))
        visible = np.bincount(owner[owner >= 0], minlength=len(full_areas)) - hidden
        if all(visible[i] >= MIN_VISIBLE_FRACTION * full_areas[i] for i in range(len(full_areas))):
            return mask
    return None


def _paint_object(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """Fill the mask with the colour, a linear shading, fine noise and (sometimes) a darker outline."""
    height, width = mask.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs + np.sin(angle) * ys) / max(width, height)
    shading = 1 + rng.uniform(0.1, 0.3) * (ramp - ramp[mask].mean())
    layer = colour[None, None, :] * shading[..., None] + rng.normal(0, 6, (height, width, 3))
    if rng.random() < 0.5:
        edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
        layer[edge & mask] *= 0.55
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (3, 3), 0.6)[..., None]  # soft edge, like a real photo
    alpha[mask] = 1.0  # ...but only outside: the labelled pixels are fully the object
    image *= 1 - alpha
    image += alpha * layer


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A low-saturation two-colour gradient with smooth texture and faint stripes, float RGB."""
    colours = [hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0, 0.25), rng.uniform(0.3, 0.9)) for _ in range(2)]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    t = np.cos(angle) * xs / width + np.sin(angle) * ys / height
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    image = colours[0] * (1 - t[..., None]) + colours[1] * t[..., None]
    cell = int(rng.integers(8, 33))
    coarse = rng.normal(0, 1, (height // cell + 2, width // cell + 2)).astype(np.float32)
    image += cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)[..., None] * rng.uniform(4, 16)
    if rng.random() < 0.5:
        period, stripe_angle = rng.uniform(6, 30), rng.uniform(0, np.pi)
        phase = (np.cos(stripe_angle) * xs + np.sin(stripe_angle) * ys) * 2 * np.pi / period
        image += np.sin(phase)[..., None] * rng.uniform(2, 8)
    return image


def _draw_clutter(rng: np.random.Generator, image: np.ndarray) -> None:
    """Unlabelled distractors in grey-ish colours: blobs, lines and dots."""
    height, width = image.shape[:2]
    short_side = min(width, height)
    for _ in range(int(rng.integers(2, 9))):
        colour = tuple(float(c) for c in hsv_to_rgb(rng.uniform(0, 360), rng.uniform(0, 0.3), rng.uniform(0.15, 0.95)))
        kind = rng.integers(3)
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        if kind == 0:  # irregular blob
            axes = (int(short_side * rng.uniform(0.03, 0.15)), int(short_side * rng.uniform(0.02, 0.1)))
            cv2.ellipse(image, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        elif kind == 1:  # line or short polyline
            points = np.cumsum(rng.normal(0, short_side * 0.25, (int(rng.integers(2, 5)), 2)), axis=0) + centre
            cv2.polylines(image, [points.astype(np.int32)], False, colour, int(rng.integers(1, 4)), cv2.LINE_AA)
        else:  # scattered dots
            for _dot in range(int(rng.integers(3, 12))):
                dot = (int(rng.integers(width)), int(rng.integers(height)))
                cv2.circle(image, dot, int(rng.integers(1, 4)), colour, -1, cv2.LINE_AA)


def _refuse_to_overwrite(out_dir: Path, image_paths: list[Path], fmt: str) -> None:
    planned = list(image_paths) + [out_dir / CLASSES_FILE]
    if get_format(fmt).per_image:
        planned += [get_format(fmt).label_path(p) for p in image_paths]
    else:
        planned.append(out_dir / COCO_FILE)
    existing = [p for p in planned if p.exists()]
    if existing:
        shown = ", ".join(p.name for p in existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise FileExistsError(f"{out_dir} already has {shown}; choose an empty folder (nothing was written)")
