"""A live frame saved into the project as a new image; its detections are kept as proposals, not labels."""
from __future__ import annotations

from typing import TYPE_CHECKING

import io
import time
from pathlib import Path

import numpy as np
from PIL import Image

from engine.io.atomic import atomic_write_bytes
from engine.annotations.records import ImageAnnotation

if TYPE_CHECKING:  # torch-free at import: the app loads these before any model
    from engine.model.boxes import Detections


def snapshot_path(folder: Path, now: float | None = None) -> Path:
    """``snapshot_YYYYmmdd-HHMMSS.jpg`` in ``folder``, numbered when taken within the same second: never an
    existing file."""
    stem = "snapshot_" + time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    path, number = folder / f"{stem}.jpg", 2
    while path.exists():
        path, number = folder / f"{stem}_{number}.jpg", number + 1
    return path


def save_snapshot(project, image: np.ndarray) -> ImageAnnotation:
    """Write ``image`` (RGB) as a JPEG in the project folder (top level, where the folder loader finds it on the
    next open) and add it to ``project.annotations`` unlabelled. Raises OSError when the folder is not writable."""
    path = snapshot_path(Path(project.folder))
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=95)
    atomic_write_bytes(path, buffer.getvalue())
    ann = ImageAnnotation(path, int(image.shape[1]), int(image.shape[0]), [])
    project.annotations.append(ann)
    return ann


def detections_summary(detections: Detections, class_names: list[str]) -> str:
    labels = [int(v) for v in detections.labels.tolist()]
    counts: dict[str, int] = {}
    for label in labels:
        name = class_names[label] if 0 <= label < len(class_names) else str(label)
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "no detections"
