"""Detections drawn onto an image: a box per detection with "class score" on a filled tag above it.

Class i gets colour i of the app's default palette (:data:`engine.project.project.DEFAULT_PALETTE`), so a
class looks the same in saved pictures as in the labelling window of a new project.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from engine.project.project import DEFAULT_PALETTE

if TYPE_CHECKING:  # torch-free at import: the app loads these before any model
    from engine.model.boxes import Detections

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_color(class_id: int) -> tuple[int, int, int]:
    """RGB of a class id from the fixed palette (cycled past its end)."""
    hex_color = DEFAULT_PALETTE[class_id % len(DEFAULT_PALETTE)].lstrip("#")
    return tuple(int(hex_color[i:i + 2], 16) for i in (0, 2, 4))


def draw_detections(image: np.ndarray, detections: Detections, class_names: list[str], *,
                    font_scale: float | None = None, thickness: int | None = None) -> np.ndarray:
    """A copy of ``image`` (RGB uint8, H x W x 3) with the detections drawn; line width and text grow with
    the image so they stay readable on large photos and do not swamp small ones. ``font_scale`` (OpenCV's,
    1.0 = text about 22 pixels high) and ``thickness`` (line width in pixels) replace those defaults, e.g. for a
    picture drawn at the size it is shown on screen (:func:`screen_font_scale`)."""
    canvas = np.ascontiguousarray(image).copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(min(height, width) / 300)) if thickness is None else max(1, int(thickness))
    font_scale = max(0.35, min(height, width) / 900) if font_scale is None else float(font_scale)
    boxes = detections.boxes.tolist()
    scores = detections.scores.tolist()
    labels = [int(v) for v in detections.labels.tolist()]
    # Lowest score first, so the most confident box and tag end up on top.
    for box, score, label in sorted(zip(boxes, scores, labels), key=lambda item: item[1]):
        color = class_color(label)
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
        name = class_names[label] if 0 <= label < len(class_names) else str(label)
        _draw_tag(canvas, f"{name} {score:.2f}", x1, y1, color, font_scale, thickness)
    return canvas


def screen_font_scale(width: int, height: int, pixel_ratio: float = 1.0) -> float:
    """The font scale for tags on a picture shown on screen at ``width`` x ``height`` device pixels: it grows with
    the picture, but text stays between about 11 and 17 screen pixels high, readable on a 320 x 240 view without
    covering small boxes, and not shouting on a 1920 x 1080 one."""
    ratio = max(1.0, float(pixel_ratio))
    shorter = min(width, height) / ratio  # in screen (device-independent) pixels
    return ratio * min(0.65, max(0.42, shorter / 1000))


def _draw_tag(canvas: np.ndarray, text: str, x: int, y: int, color, font_scale: float, thickness: int) -> None:
    (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, font_scale, max(1, thickness - 1))
    tag_h = text_h + baseline + 2
    # Above the box when there is room, else just inside its top edge.
    top = y - tag_h if y - tag_h >= 0 else y
    x = min(max(x, 0), max(canvas.shape[1] - text_w - 2, 0))
    cv2.rectangle(canvas, (x, top), (x + text_w + 2, top + tag_h), color, cv2.FILLED)
    luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    text_color = (0, 0, 0) if luminance > 150 else (255, 255, 255)  # dark text on light tags
    cv2.putText(canvas, text, (x + 1, top + text_h + 1), _FONT, font_scale, text_color, max(1, thickness - 1),
                cv2.LINE_AA)
