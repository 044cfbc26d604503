"""The PASCAL VOC devkit layout: ``VOC20xx/`` with ``JPEGImages/``, ``Annotations/`` (one XML per image) and
``ImageSets/Main/<split>.txt`` (image ids, one a line; ``<class>_<split>.txt`` files are per-class and skipped).

Opened at ``VOC2007/`` or at ``VOCdevkit/`` (every ``VOC20xx`` inside joined, as the YOLO paper's 07+12: split
``trainval`` is then the union of each year's). Pixels count from 1 here, as in the devkit: the XML is read
and written with ``origin=1`` (:mod:`engine.annotations.voc`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from engine.annotations import voc
from engine.annotations.listing import is_image_name, natural_sort_key
from engine.annotations.records import ImageAnnotation, LabelSet

ORIGIN = 1
_YEAR = re.compile(r"^VOC\d{4}$")


def label_path(image_path: Path) -> Path:
    image_path = Path(image_path)
    return image_path.parent.parent / "Annotations" / (image_path.stem + voc.SUFFIX)


def is_year_folder(folder: Path) -> bool:
    return (folder / "JPEGImages").is_dir() and (folder / "Annotations").is_dir()


def year_folders(folder: Path) -> list[Path]:
    folder = Path(folder)
    if is_year_folder(folder):
        return [folder]
    try:
        names = sorted(n for n in os.listdir(folder) if _YEAR.match(n))
    except OSError:
        return []
    return [folder / n for n in names if is_year_folder(folder / n)]


def splits(folder: Path) -> dict[str, list[Path]]:
    result: dict[str, list[Path]] = {}
    for year in year_folders(folder):
        main = year / "ImageSets" / "Main"
        images = {os.path.splitext(n)[0]: year / "JPEGImages" / n for n in _names(year / "JPEGImages")}
        for name in sorted(_names(main)):
            stem, ext = os.path.splitext(name)
            if ext != ".txt" or "_" in stem:
                continue
            ids = [ln.split()[0] for ln in (main / name).read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
            result.setdefault(stem, []).extend(images.get(i, year / "JPEGImages" / f"{i}.jpg") for i in ids)
    return result


def _names(directory: Path) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


# ---- the format table entry ---------------------------------------------------------------------------------
def images(listing) -> list[Path]:
    found = []
    for year in year_folders(listing.folder):
        found += sorted((year / "JPEGImages" / n for n in _names(year / "JPEGImages") if is_image_name(n)),
                        key=lambda p: natural_sort_key(p.name))
    return found


def detect(listing) -> int:
    folder = listing.folder
    if listing.has_dir(folder / "JPEGImages") and listing.has_dir(folder / "Annotations"):
        return 10**9 + 1
    if not any(_YEAR.match(n) for n in listing._dirs_in.get(str(folder), ())):
        return 0
    return 10**9 + 1 if year_folders(folder) else 0


def load(listing, loaded) -> None:
    loaded.splits = listing.splits if listing.splits is not None else splits(listing.folder)
    # the label file of each image read (all, or the first alone: load_folder's first_only)
    voc.load(listing, loaded, origin=ORIGIN, paths=[str(label_path(p)) for p in listing.images[:len(loaded.annotations)]])


def write(ann: ImageAnnotation, labels: LabelSet, target: Path | None = None, warnings: list | None = None,
          origin: int = ORIGIN) -> Path:
    target = target or label_path(ann.image_path)
    return voc.write_voc_xml(ann, target, origin=origin, warnings=warnings)


def _format():
    from engine.annotations.formats import LabelFormat

    return LabelFormat(
        name="vocdevkit", title="PASCAL VOC devkit (VOC20xx/)", detect=detect, load=load, images=images, write=write,
        label_path=label_path, pixel_origin=ORIGIN, keeps_verified=True, keeps="splits (ImageSets/Main), boxes (whole pixels, 1-based), difficult, truncated",
        loses="sub-pixel coordinates")


FORMAT = _format()
