"""The modern training augmentation (what a detector trained from little data needs): mosaic, random scale and
translation, HSV jitter and horizontal flip, all box-aware.

Works on ``(pixels H x W x 3 uint8, boxes K x 4 xyxy float32, labels K)`` of images already resized to the
model's square input (the same resize as evaluation, so train and test see the same geometry):

- mosaic (probability ``mosaic``): four images on a ``2S x 2S`` canvas around a random centre, so every image
  shows objects at four places, at the borders and next to other images' objects;
- random affine: scale by ``U(1 - scale, 1 + scale)`` and shift by up to ``translate`` of the side, one
  ``cv2.warpAffine`` for the pixels; the boxes take the same matrix (no rotation or shear, so the transformed box
  is exact), are clipped, and are dropped when less than :data:`MIN_VISIBLE` of them stays in the picture or a
  side falls under 2 pixels;
- HSV jitter: gains on hue, saturation and value through one lookup table per channel;
- horizontal flip (probability ``flip``).

Everything is vectorised over the boxes (NumPy) and done on uint8 pixels with OpenCV, which on a data-loader
worker's single thread is several times faster than tensor kernels. Random draws come from torch's generator,
which the DataLoader seeds per worker (and the trainer per epoch), so runs repeat.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from engine.data.augment_config import ModernAugmentConfig  # noqa: F401  (torch-free settings, for TrainConfig)

FILL = 114  # grey of the uncovered canvas, as YOLOv5/v8 use
MIN_VISIBLE = 0.2  # a box keeps at least this share of its (transformed) area inside the picture, or is dropped
MIN_SIDE = 2.0  # pixels


def _uniform(low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand(()))


def mosaic(samples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], side: int):
    """Four ``side x side`` samples -> one ``2 side x 2 side`` canvas with their boxes, around a random centre.
    Each image is placed with one corner at the centre (top-left image ends there, and so on) and cut at the
    canvas border."""
    canvas = np.full((2 * side, 2 * side, 3), FILL, np.uint8)
    cx, cy = int(_uniform(0.5, 1.5) * side), int(_uniform(0.5, 1.5) * side)
    all_boxes, all_labels = [], []
    for corner, (pixels, boxes, labels) in enumerate(samples):
        # Canvas window (x1, y1, x2, y2) of this image, and the part of the image shown in it.
        if corner == 0:
            x1, y1, x2, y2 = max(cx - side, 0), max(cy - side, 0), cx, cy
            sx, sy = side - (x2 - x1), side - (y2 - y1)
        elif corner == 1:
            x1, y1, x2, y2 = cx, max(cy - side, 0), min(cx + side, 2 * side), cy
            sx, sy = 0, side - (y2 - y1)
        elif corner == 2:
            x1, y1, x2, y2 = max(cx - side, 0), cy, cx, min(cy + side, 2 * side)
            sx, sy = side - (x2 - x1), 0
        else:
            x1, y1, x2, y2 = cx, cy, min(cx + side, 2 * side), min(cy + side, 2 * side)
            sx, sy = 0, 0
        canvas[y1:y2, x1:x2] = pixels[sy:sy + (y2 - y1), sx:sx + (x2 - x1)]
        all_boxes.append(boxes + np.array([x1 - sx, y1 - sy] * 2, np.float32))
        all_labels.append(labels)
    boxes = np.concatenate(all_boxes).reshape(-1, 4)
    labels = np.concatenate(all_labels)
    return canvas, boxes, labels


def random_affine(pixels: np.ndarray, boxes: np.ndarray, labels: np.ndarray, side: int, scale: float,
                  translate: float):
    """Scale about the picture's centre by ``U(1 - scale, 1 + scale)``, shift by up to ``translate * side``,
    and cut the ``side x side`` output. A ``2 side`` mosaic canvas is centred first, so the output shows about
    a quarter of it at gain 1."""
    height, width = pixels.shape[:2]
    gain = _uniform(1 - scale, 1 + scale)
    tx = _uniform(-translate, translate) * side
    ty = _uniform(-translate, translate) * side
    # Output point = gain * (input - input centre) + output centre + shift.
    matrix = np.array([[gain, 0, side / 2 - gain * width / 2 + tx],
                       [0, gain, side / 2 - gain * height / 2 + ty]], np.float32)
    out = cv2.warpAffine(pixels, matrix, (side, side), flags=cv2.INTER_LINEAR, borderValue=(FILL, FILL, FILL))
    moved = boxes * gain + np.array([matrix[0, 2], matrix[1, 2]] * 2, np.float32)
    clipped = moved.clip(0, side)
    area = (moved[:, 2] - moved[:, 0]) * (moved[:, 3] - moved[:, 1])
    kept_area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = ((clipped[:, 2] - clipped[:, 0]) >= MIN_SIDE) & ((clipped[:, 3] - clipped[:, 1]) >= MIN_SIDE)
    keep &= kept_area >= MIN_VISIBLE * np.maximum(area, 1e-9)
    return out, clipped[keep], labels[keep]


def hsv_jitter(pixels: np.ndarray, hue: float, saturation: float, value: float) -> np.ndarray:
    """Random gains ``1 + U(-g, g)`` on H, S and V, applied through lookup tables (one pass per channel)."""
    if not (hue or saturation or value):
        return pixels
    gains = (torch.rand(3).numpy() * 2 - 1) * np.array([hue, saturation, value]) + 1
    h, s, v = cv2.split(cv2.cvtColor(pixels, cv2.COLOR_RGB2HSV))
    x = np.arange(256, dtype=np.float32)
    lut_h = ((x * gains[0]) % 180).astype(np.uint8)
    lut_s = np.clip(x * gains[1], 0, 255).astype(np.uint8)
    lut_v = np.clip(x * gains[2], 0, 255).astype(np.uint8)
    merged = cv2.merge((cv2.LUT(h, lut_h), cv2.LUT(s, lut_s), cv2.LUT(v, lut_v)))
    return cv2.cvtColor(merged, cv2.COLOR_HSV2RGB)


def horizontal_flip(pixels: np.ndarray, boxes: np.ndarray):
    side = pixels.shape[1]
    flipped = boxes.copy()
    flipped[:, [0, 2]] = side - boxes[:, [2, 0]]
    return np.ascontiguousarray(pixels[:, ::-1]), flipped


def augment_sample(load, index: int, count: int, side: int, config: ModernAugmentConfig, use_mosaic: bool):
    """The augmented ``(pixels, boxes, labels)`` of item ``index``; ``load(i)`` gives item ``i`` resized to
    ``side`` (the other three mosaic images are drawn at random among ``count``)."""
    if use_mosaic and config.mosaic and float(torch.rand(())) < config.mosaic:
        others = torch.randint(count, (3,)).tolist()
        pixels, boxes, labels = mosaic([load(index)] + [load(i) for i in others], side)
    else:
        pixels, boxes, labels = load(index)
    pixels, boxes, labels = random_affine(pixels, boxes, labels, side, config.scale, config.translate)
    pixels = hsv_jitter(pixels, config.hsv_h, config.hsv_s, config.hsv_v)
    if config.flip and float(torch.rand(())) < config.flip:
        pixels, boxes = horizontal_flip(pixels, boxes)
    return pixels, boxes.astype(np.float32), labels
