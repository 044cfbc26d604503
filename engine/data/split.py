"""Choosing which images train and which validate: a seeded split and darknet-style list files."""
from __future__ import annotations

import os
import random
from pathlib import Path

from engine.annotations.records import ImageAnnotation


class DatasetError(ValueError):
    """A dataset that cannot be used as given; the message names the file(s) and the problem."""


def split_train_val(annotations: list[ImageAnnotation], val_fraction: float,
                    seed: int = 0) -> tuple[list[ImageAnnotation], list[ImageAnnotation]]:
    """Split into (train, val), both sorted by path. The same images for the same seed whatever the input order:
    images are sorted by path before the seeded shuffle. With a non-zero fraction and at least two images, each
    side gets at least one image."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    ordered = sorted(annotations, key=lambda annotation: Path(annotation.image_path).as_posix())
    count = len(ordered)
    val_count = round(count * val_fraction)
    if val_fraction > 0 and count >= 2:
        val_count = min(max(val_count, 1), count - 1)
    positions = list(range(count))
    random.Random(seed).shuffle(positions)  # random.Random's shuffle is stable across Python versions
    val_positions = set(positions[:val_count])
    train = [a for i, a in enumerate(ordered) if i not in val_positions]
    val = [a for i, a in enumerate(ordered) if i in val_positions]
    return train, val


def read_list_file(path: Path | str) -> list[Path]:
    """Image paths listed one per line in ``path`` (darknet ``train.txt`` style). Relative paths are relative to
    the list file's folder; blank lines and lines starting with ``#`` are ignored; order and repeats are kept."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{path}: list file not found") from None
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not a UTF-8 text list of image paths ({error.reason} at byte "
                           f"{error.start})") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot read list file ({error.strerror or error})") from None
    images = []
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        images.append(Path(os.path.normpath(path.parent / entry)))
    return images


def select_listed(annotations: list[ImageAnnotation], image_paths: list[Path],
                  list_name: str = "list") -> list[ImageAnnotation]:
    """The annotations of ``image_paths`` (e.g. from :func:`read_list_file`), in list order. A listed image with
    no annotation is an error naming it: silently training on fewer images would hide a broken list."""
    by_path = {_same_file_key(a.image_path): a for a in annotations}
    selected, missing = [], []
    for image_path in image_paths:
        annotation = by_path.get(_same_file_key(image_path))
        if annotation is None:
            missing.append(image_path)
        else:
            selected.append(annotation)
    if missing:
        shown = ", ".join(str(p) for p in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DatasetError(f"{list_name}: {len(missing)} listed image(s) have no annotation record "
                           f"(missing or outside the loaded folders): {shown}")
    return selected


def _same_file_key(path: Path | str) -> str:
    return os.path.normcase(os.path.abspath(path))
