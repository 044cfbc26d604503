"""What the per-image formats (VOC, YOLO, labelme) share: one label file per image, found by name in the
folder listing (no ``stat`` per image), read one by one with per-file errors."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from engine.annotations.records import AnnotationError


def same_stem(suffix: str) -> Callable[[Path], Path]:
    """``a.jpg`` -> ``a<suffix>`` beside it."""
    def label_path(image_path: Path) -> Path:
        return Path(os.path.splitext(str(image_path))[0] + suffix)
    return label_path


def label_paths(images: list[Path] | list[str], label_path: Callable[[Path], Path],
                per_folder: bool = False) -> list[str]:
    """The label path of each image (Paths or strings); ``per_folder``: ``label_path`` depends on the folder
    only, so it is asked once per folder (YOLO asks the disk whether a ``labels/`` tree exists)."""
    if not per_folder:
        return [str(label_path(Path(image))) for image in images]
    from engine.annotations.listing import split_path, split_stem

    folders: dict[str, tuple[str, str]] = {}
    paths = []
    for image in images:
        directory, name = split_path(image if isinstance(image, str) else str(image))
        found = folders.get(directory)
        if found is None:
            example = label_path(Path(directory) / name)
            parent = str(example.parent)
            found = folders[directory] = (parent if parent.endswith(os.sep) else parent + os.sep, example.suffix)
        paths.append(found[0] + split_stem(name) + found[1])
    return paths


def cached_label_paths(listing, key: str, label_path: Callable[[Path], Path]) -> list[str]:
    """:func:`label_paths` of the listing's images (per folder), computed once per listing for detection and
    loading alike."""
    cache = listing.__dict__.setdefault("_label_paths", {})
    if key not in cache:
        cache[key] = label_paths(listing.image_texts, label_path, per_folder=True)
    return cache[key]


def count_existing(listing, paths: list[str]) -> int:
    return sum(map(listing.has_file, paths))


def count_label_files(listing, label_path: Callable[[Path], Path]) -> int:
    """How many of the listing's images have their label file (``label_path`` depending on the folder only, asked
    once per folder): the names looked up in the folder listings, no path built per image (detection)."""
    from itertools import repeat
    from operator import add

    count = 0
    for directory, stems in listing.stems_by_folder().items():
        example = label_path(Path(directory) / listing.images_by_folder()[directory][0])
        files, suffix = listing.files_in(str(example.parent)), example.suffix
        count += sum(map(files.__contains__, map(add, stems, repeat(suffix))))
    return count


def first_label_paths(listing, loaded, label_path: Callable[[Path], Path]) -> list[str]:
    """The label paths of the images ``loaded`` holds: the listing's first ones (all of them, or only the first
    after ``load_folder(first_only=True)``)."""
    images = [str(a.image_path) for a in loaded.annotations] if loaded.partial else listing.image_texts
    return label_paths(images, label_path, per_folder=True)


def load_each(loaded, listing, paths: list[str], read_one: Callable) -> None:
    """``read_one(label_path, ann, problems) -> ImageAnnotation`` for each image whose label file exists; a file
    that cannot be read at all is an error and its image stays listed without boxes."""
    from engine.annotations import fingerprints

    with fingerprints.recording() as read:  # (size, mtime, hash) of the bytes each reader parsed
        for i, (ann, path) in enumerate(zip(loaded.annotations, paths)):
            if not listing.has_file(path):
                continue
            path = Path(path)
            loaded.label_files[ann.image_path] = path
            try:
                loaded.annotations[i] = read_one(path, ann, loaded.errors)
            except AnnotationError as exc:
                loaded.errors.append(exc)
            # a file refused unread (too large, unreadable) has only its stat: never read whole just to hash it
            loaded.fingerprints[path] = read.pop(str(path), None) or fingerprints.of_stat(path)


def fingerprint(path: Path | str):
    """(size, mtime in ns, hash) of a file as it is now, None if it does not exist: what "still what was read"
    is checked against (:mod:`engine.annotations.fingerprints`)."""
    from engine.annotations.fingerprints import of_file

    return of_file(path)


def image_size(image_path: Path) -> tuple[int, int]:
    from engine.io.images import read_image_size  # deferred: image decoding is not needed to detect a format

    try:
        return read_image_size(image_path)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        raise AnnotationError(image_path, f"cannot read the image size: {reason}") from None
