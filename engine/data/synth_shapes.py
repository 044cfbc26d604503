"""The object classes of the synthetic dataset: a shape outline and a typical colour for each.

Classes differ in both shape and hue, so a small detector can tell them apart after a few minutes of
CPU training; per-object colour noise, shading, size, aspect ratio and a little rotation keep each class
from being a single template.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

# name -> (hue in degrees, saturation, value): the class-typical colour before per-object noise.
SHAPE_COLOURS: dict[str, tuple[float, float, float]] = {
    "circle": (0, 0.85, 0.90),      # red
    "square": (220, 0.80, 0.85),    # blue
    "triangle": (120, 0.75, 0.75),  # green
    "cross": (55, 0.85, 0.95),      # yellow
    "ring": (300, 0.70, 0.85),      # magenta
    "star": (30, 0.90, 1.00),       # orange
    "diamond": (185, 0.80, 0.85),   # cyan
    "crescent": (270, 0.65, 0.75),  # purple
    "arrow": (150, 0.80, 0.50),     # dark green
    "hexagon": (340, 0.45, 1.00),   # pink
}
SHAPE_NAMES: list[str] = list(SHAPE_COLOURS)

# Shapes that turn into another class when rotated far (a square at 45 degrees is a diamond) get little rotation.
_MAX_ROTATION_DEG = {"circle": 0, "ring": 0, "square": 12, "diamond": 12, "cross": 12, "triangle": 20,
                     "star": 36, "hexagon": 30, "crescent": 40, "arrow": 20}


def shape_mask(name: str, canvas_hw: tuple[int, int], centre: tuple[float, float], size: tuple[float, float],
               angle_deg: float) -> np.ndarray:
    """A uint8 0/1 mask of shape ``name`` with bounding size ``size`` = (w, h) before rotation."""
    mask = np.zeros(canvas_hw, np.uint8)
    cx, cy = centre
    half_w, half_h = size[0] / 2, size[1] / 2
    if name in ("circle", "ring"):
        cv2.ellipse(mask, _pt(cx, cy), _pt(half_w, half_h), 0, 0, 360, 1, thickness=-1)
        if name == "ring":
            hole = 0.55
            cv2.ellipse(mask, _pt(cx, cy), _pt(half_w * hole, half_h * hole), 0, 0, 360, 0, thickness=-1)
        return mask
    if name == "crescent":
        cv2.ellipse(mask, _pt(cx, cy), _pt(half_w, half_h), 0, 0, 360, 1, thickness=-1)
        offset = np.array([0.45 * half_w, -0.25 * half_h])
        theta = math.radians(angle_deg)
        offset = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]]) @ offset
        cv2.ellipse(mask, _pt(cx + offset[0], cy + offset[1]), _pt(half_w * 0.85, half_h * 0.85), 0, 0, 360, 0,
                    thickness=-1)
        return mask
    unit = _UNIT_POLYGONS[name]
    theta = math.radians(angle_deg)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    points = (unit * [half_w, half_h]) @ rotation.T + [cx, cy]
    cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return mask


def random_angle(name: str, rng: np.random.Generator) -> float:
    """A rotation in degrees that keeps the shape recognisably its class; arrows point any of four ways."""
    limit = _MAX_ROTATION_DEG[name]
    base = 90.0 * rng.integers(0, 4) if name == "arrow" else 0.0
    return base + (rng.uniform(-limit, limit) if limit else 0.0)


def class_colour_rgb(name: str, rng: np.random.Generator) -> np.ndarray:
    """The class colour with per-object noise, as float RGB in [0, 255]."""
    hue, sat, val = SHAPE_COLOURS[name]
    hue = (hue + rng.uniform(-8, 8)) % 360
    sat = float(np.clip(sat + rng.uniform(-0.12, 0.1), 0.3, 1))
    val = float(np.clip(val + rng.uniform(-0.12, 0.1), 0.35, 1))
    return hsv_to_rgb(hue, sat, val)


def hsv_to_rgb(hue_deg: float, sat: float, val: float) -> np.ndarray:
    """Float RGB in [0, 255]. (OpenCV's float HSV takes H in degrees, S and V in [0, 1].)"""
    hsv = np.array([[[hue_deg, sat, val]]], np.float32)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float64) * 255


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x)), int(round(y))


def _regular_polygon(sides: int, start_deg: float) -> np.ndarray:
    angles = np.radians(start_deg + np.arange(sides) * 360 / sides)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _star(points: int = 5, inner: float = 0.45) -> np.ndarray:
    angles = np.radians(-90 + np.arange(2 * points) * 180 / points)
    radii = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


def _fit_unit_box(points: np.ndarray) -> np.ndarray:
    """Scale a polygon so its bounding box is exactly [-1, 1] on both axes: ``size`` is then the true extent."""
    low, high = points.min(axis=0), points.max(axis=0)
    return (points - (low + high) / 2) / ((high - low) / 2)


_ARM = 0.32  # half the thickness of the cross bars, as a fraction of the half size
_UNIT_POLYGONS: dict[str, np.ndarray] = {
    "square": np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float),
    "diamond": np.array([[0, -1], [1, 0], [0, 1], [-1, 0]], float),
    "triangle": _fit_unit_box(_regular_polygon(3, -90)),
    "hexagon": _fit_unit_box(_regular_polygon(6, 0)),
    "star": _fit_unit_box(_star()),
    "cross": np.array([[-_ARM, -1], [_ARM, -1], [_ARM, -_ARM], [1, -_ARM], [1, _ARM], [_ARM, _ARM], [_ARM, 1],
                       [-_ARM, 1], [-_ARM, _ARM], [-1, _ARM], [-1, -_ARM], [-_ARM, -_ARM]], float),
    "arrow": np.array([[-1, -0.3], [0.15, -0.3], [0.15, -1], [1, 0], [0.15, 1], [0.15, 0.3], [-1, 0.3]], float),
}
