"""Read a COCO results file (``[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]``)
into per-image detection arrays, checking every entry against the ground truth's ids."""
from __future__ import annotations

import json
import math
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np

from engine.evaluation.result import ImageDetections

MAX_PROBLEMS_SHOWN = 10


class DetectionsFileError(ValueError):
    """A detections file that cannot be used; the message names the file and each bad entry."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        lines = [f"{self.path}: {p}" for p in shown]
        if more:
            lines.append(f"{self.path}: ... and {more} more problem{'s' if more > 1 else ''}")
        super().__init__("\n".join(lines))


def read_detections_json(
    path: Path | str, image_ids: Sequence[Hashable], category_ids: Sequence[int]
) -> dict[Hashable, ImageDetections]:
    """Detections per image id, boxes xyxy, labels = position of the entry's category id in
    ``category_ids``; each detection's ``order`` is its entry's position in the file (score ties follow the file,
    as the devkit). Every problem is collected
    and raised together as :class:`DetectionsFileError`."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DetectionsFileError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DetectionsFileError(path, [f"cannot read: {exc}"]) from None
    except json.JSONDecodeError as exc:
        raise DetectionsFileError(path, [f"not valid JSON: {exc}"]) from None
    if not isinstance(doc, list):
        raise DetectionsFileError(path, [f"expected a JSON list of detections, found a JSON {type(doc).__name__}"])

    image_lookup = _image_id_lookup(image_ids)
    class_of = {cid: i for i, cid in enumerate(category_ids)}
    per_image: dict[Hashable, list[tuple[list[float], float, int, int]]] = {}
    problems: list[str] = []
    for index, entry in enumerate(doc):
        image_id, row, entry_problems = _check_entry(entry, image_lookup, class_of)
        problems += [f"entry {index}: {p}" for p in entry_problems]
        if not entry_problems:
            per_image.setdefault(image_id, []).append((*row, index))
    if problems:
        raise DetectionsFileError(path, problems)
    return {
        image_id: ImageDetections(
            boxes=np.array([r[0] for r in rows], dtype=np.float64).reshape(-1, 4),
            scores=np.array([r[1] for r in rows], dtype=np.float64),
            labels=np.array([r[2] for r in rows], dtype=np.int64),
            order=np.array([r[3] for r in rows], dtype=np.int64),
        )
        for image_id, rows in per_image.items()
    }


def _check_entry(entry, image_lookup, class_of: dict[int, int]):
    """(image id, (xyxy, score, class id), problems) of one results entry; every problem, not just the first."""
    if not isinstance(entry, dict):
        return None, None, ["expected an object with image_id, category_id, bbox, score"]
    problems = [f"missing {key}" for key in ("image_id", "category_id", "bbox", "score") if key not in entry]
    image_id = class_id = None
    if "image_id" in entry:
        image_id = image_lookup(entry["image_id"])
        if image_id is None:
            problems.append(f"unknown image_id {entry['image_id']!r} (not in the ground truth)")
    if "category_id" in entry:
        category = entry["category_id"]
        class_id = class_of.get(category) if _is_integral(category) else None
        if class_id is None:
            problems.append(f"unknown category_id {category!r} (known: {', '.join(str(c) for c in class_of)})")
    bbox = entry.get("bbox")
    if "bbox" in entry:
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_finite_number(v) for v in bbox)):
            problems.append(f"bbox must be 4 finite numbers [x, y, w, h], got {bbox!r}")
        elif bbox[2] <= 0 or bbox[3] <= 0:
            problems.append(f"bbox width and height must be positive, got {bbox!r}")
    if "score" in entry and not _is_finite_number(entry["score"]):
        problems.append(f"score must be a finite number, got {entry['score']!r}")
    if problems:
        return None, None, problems
    x, y, w, h = (float(v) for v in bbox)
    return image_id, ([x, y, x + w, y + h], float(entry["score"]), class_id), []


def _image_id_lookup(image_ids: Sequence[Hashable]):
    known = set(image_ids)
    # Folder datasets name images by file stem (a string); results writers often turn "12" into 12.
    by_text = {i: i for i in known if isinstance(i, str)}

    def lookup(value):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return None
        if value in known and type(value) is not float:
            return value
        if isinstance(value, int) and str(value) in by_text:
            return by_text[str(value)]
        return None

    return lookup


def _is_finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_integral(value) -> bool:
    return _is_finite_number(value) and float(value).is_integer()
