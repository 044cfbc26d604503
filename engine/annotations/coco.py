"""COCO JSON for a whole dataset (object detection part only).

- ``images``: ``id``, ``file_name`` (relative to ``image_root``, default: the JSON's folder), ``width``, ``height``.
- ``annotations``: ``bbox`` = ``[x, y, w, h]`` pixels, ``area`` = w*h, ``iscrowd`` = 0.
- ``categories``: ids 1..K in LabelSet order when we write; any ids when we read (order = sorted by id).

COCO has no "difficult" flag. We write difficult boxes with an extra ``"difficult": 1`` key, and read
either that key or ``iscrowd: 1`` as difficult (both mean "do not count it against the detector").
labelImg's "verified" travels as an extra ``"verified": true`` on the image entry.

As released (COCO 2017) and exported: several files under ``annotations/`` (``instances_train2017.json``...)
with the image folders beside (``train2017/``); every qualifying file is read, each its own split. One bad
annotation is a named problem and is skipped, never the whole file; ``\\`` in ``file_name`` (Windows tools)
is a folder separator.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import os

from engine.io.atomic import atomic_write_text
from engine.annotations.beside import image_size
from engine.annotations.limits import read_label_text
from engine.annotations.listing import natural_sort_key
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet

COCO_KEYS = ("images", "annotations", "categories")
COCO_DEFAULT_NAME = "annotations.json"


def read_coco_json(path: Path | str, image_root: Path | str | None = None,
                   problems: list | None = None, data: dict | None = None) -> tuple[list[ImageAnnotation], LabelSet]:
    """Read a COCO detection file. Raises :class:`AnnotationError` naming the entry at fault; with a
    ``problems`` list, a bad annotation entry goes there instead and the others are kept. ``data``: the file
    already parsed by :func:`load_coco_dict` (not read again)."""
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    records, labels = _read_records(path, data if data is not None else load_coco_dict(path), problems)
    for record in records:
        record.image_path = root / record.image_path
    return records, labels


def _read_records(path: Path, data: dict, problems: list | None) -> tuple[list[ImageAnnotation], LabelSet]:
    """:func:`read_coco_json` with each ``image_path`` the ``file_name`` as written (``/`` separators), a string:
    100,000 images are not 100,000 Path joins."""
    category_names: dict[int, str] = {}
    for i, cat in enumerate(data["categories"]):
        where = f"categories[{i}]"
        cat_id, name = _field(cat, "id", int, path, where), str(_field(cat, "name", str, path, where)).strip()
        if cat_id in category_names:
            raise AnnotationError(path, f"category id {cat_id} used twice", where)
        if name in category_names.values():
            raise AnnotationError(path, f"category name {name!r} used twice", where)
        category_names[cat_id] = name
    labels = LabelSet([category_names[k] for k in sorted(category_names)])

    by_id: dict[int, ImageAnnotation] = {}
    for i, image in enumerate(data["images"]):
        image_id = image.get("id") if type(image) is dict else None
        file_name = image.get("file_name") if type(image) is dict else None
        if type(image_id) is not int or type(file_name) is not str or not file_name.strip():  # checked, named
            where = f"images[{i}]"
            image_id = _field(image, "id", int, path, where)
            file_name = _field(image, "file_name", str, path, where)
        if image_id in by_id:
            raise AnnotationError(path, f"image id {image_id} used twice", f"images[{i}]")
        by_id[image_id] = ImageAnnotation(
            image_path=file_name.replace("\\", "/"),
            width=int(image.get("width") or 0),
            height=int(image.get("height") or 0),
            verified=bool(image.get("verified", False)),
        )

    for i, entry in enumerate(data["annotations"]):
        if _read_usual_annotation(entry, by_id, category_names):
            continue
        try:
            _read_annotation(entry, i, by_id, category_names, path)
        except AnnotationError as exc:
            if problems is None:
                raise
            problems.append(exc)
    return list(by_id.values()), labels


def _read_usual_annotation(entry, by_id: dict, category_names: dict) -> bool:
    """The quick path of :func:`_read_annotation` for a valid entry (whole-number ids of known images and
    categories, four finite numbers with a positive size): True when it was read. Anything else, False: the
    checked path then reads it or names what is wrong."""
    if type(entry) is not dict:
        return False
    bbox, image_id, category_id = entry.get("bbox"), entry.get("image_id"), entry.get("category_id")
    if type(bbox) is not list or len(bbox) != 4 or type(image_id) is not int or type(category_id) is not int:
        return False
    ann, name = by_id.get(image_id), category_names.get(category_id)
    if ann is None or name is None:
        return False
    x, y, w, h = bbox
    if not (type(x) in _NUMBER_TYPES and type(y) in _NUMBER_TYPES and type(w) in _NUMBER_TYPES
            and type(h) in _NUMBER_TYPES):
        return False
    try:
        x, y, w, h = float(x), float(y), float(w), float(h)
    except OverflowError:
        return False
    if not (w > 0 and h > 0 and math.isfinite(x + y + w + h)):
        return False
    difficult = bool(entry.get("iscrowd", 0)) or bool(entry.get("difficult", 0))
    ann.boxes.append(Box(name, x, y, x + w, y + h, difficult=difficult))
    return True


_NUMBER_TYPES = (int, float)  # compared by type(): bool (a subclass of int) is not a number here


def _read_annotation(entry, i: int, by_id: dict, category_names: dict, path: Path) -> None:
    where = f"annotations[{i}]" + (f" (id {entry['id']})" if isinstance(entry, dict) and "id" in entry else "")
    image_id = _field(entry, "image_id", int, path, where)
    if image_id not in by_id:
        raise AnnotationError(path, f"unknown image_id {image_id}", where)
    category_id = _field(entry, "category_id", int, path, where)
    if category_id not in category_names:
        raise AnnotationError(path, f"unknown category_id {category_id}", where)
    bbox = entry.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) for v in bbox)):
        raise AnnotationError(path, f"bbox must be [x, y, w, h] numbers, found {bbox!r}", where)
    x, y, w, h = (float(v) for v in bbox)
    if w <= 0 or h <= 0:
        raise AnnotationError(path, f"bbox has zero or negative size: {bbox!r}", where)
    difficult = bool(entry.get("iscrowd", 0)) or bool(entry.get("difficult", 0))
    by_id[image_id].boxes.append(Box(category_names[category_id], x, y, x + w, y + h, difficult=difficult))


def write_coco_json(annotations: list[ImageAnnotation], labels: LabelSet, path: Path | str,
                    image_root: Path | str | None = None) -> Path:
    """Write the whole dataset. Every box label must be in ``labels``; category id = LabelSet index + 1."""
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    data = {
        "images": [],
        "annotations": [],
        "categories": [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(labels.names)],
    }
    for image_id, ann in enumerate(annotations, start=1):
        data["images"].append(_image_entry(ann, image_id, root))
        for box in ann.boxes:
            data["annotations"].append(_box_entry(box, len(data["annotations"]) + 1, image_id, labels.index(box.label) + 1))
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    return path


def update_coco_json(path: Path | str, anns: ImageAnnotation | list[ImageAnnotation], labels: LabelSet,
                     image_root: Path | str | None = None) -> Path:
    """Replace the boxes of one image (or of several, written once) in an existing COCO file, or start a new one,
    keeping everything else.

    Other images, their annotations and any keys we do not know (info, licenses, segmentation) stay as
    they are; classes new to the file get the next free category ids.
    """
    path = Path(path)
    anns = [anns] if isinstance(anns, ImageAnnotation) else list(anns)
    root = Path(image_root) if image_root is not None else path.parent
    data = load_coco_dict(path) if path.exists() else {key: [] for key in COCO_KEYS}
    category_ids = {c["name"]: c["id"] for c in data["categories"]}
    for name in labels.names:
        if name not in category_ids:
            category_ids[name] = max(category_ids.values(), default=0) + 1
            data["categories"].append({"id": category_ids[name], "name": name, "supercategory": ""})
    by_file_name = {im.get("file_name"): im for im in data["images"]}
    by_base_name: dict[str, list[dict]] = {}
    for im in data["images"]:
        by_base_name.setdefault(Path(str(im.get("file_name", ""))).name, []).append(im)
    next_image_id = max((im["id"] for im in data["images"]), default=0) + 1
    updated: dict[object, ImageAnnotation] = {}
    for ann in anns:
        file_name = _file_name(ann.image_path, root)
        image_entry = by_file_name.get(file_name)
        if image_entry is None:  # file_name written relative to another root: accept a unique match by name
            same_name = by_base_name.get(Path(file_name).name, [])
            image_entry = same_name[0] if len(same_name) == 1 else None
        if image_entry is None:
            image_entry = {"id": next_image_id}
            next_image_id += 1
            data["images"].append(image_entry)
            by_file_name[file_name] = image_entry
        fresh = _image_entry(ann, image_entry["id"], root)
        fresh["file_name"] = image_entry.get("file_name", fresh["file_name"])
        image_entry.update(fresh)
        if not ann.verified:
            image_entry.pop("verified", None)
        updated[image_entry["id"]] = ann

    kept = [a for a in data["annotations"] if a.get("image_id") not in updated]
    next_id = max((a.get("id", 0) for a in data["annotations"]), default=0) + 1
    for image_id, ann in updated.items():
        for box in ann.boxes:
            if box.label not in category_ids:
                raise KeyError(f"unknown class {box.label!r}; known classes: {', '.join(labels.names) or '(none)'}")
            kept.append(_box_entry(box, next_id, image_id, category_ids[box.label]))
            next_id += 1
    data["annotations"] = kept
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    return path


def load_coco_dict(path: Path | str) -> dict:
    """Parse a file and check it has the COCO top level: an object with images, annotations, categories lists."""
    path = Path(path)
    text = read_label_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationError(path, f"not valid JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise AnnotationError(path, f"top level is a JSON {type(data).__name__}, expected an object with {COCO_KEYS}")
    for key in COCO_KEYS:
        if not isinstance(data.get(key), list):
            raise AnnotationError(path, f"missing the {key!r} list of a COCO file", key)
    return data


def _image_entry(ann: ImageAnnotation, image_id: int, root: Path) -> dict:
    entry = {"id": image_id, "file_name": _file_name(ann.image_path, root), "width": int(ann.width),
             "height": int(ann.height)}
    if ann.verified:
        entry["verified"] = True
    return entry


def _box_entry(box: Box, ann_id: int, image_id: int, category_id: int) -> dict:
    w, h = box.x2 - box.x1, box.y2 - box.y1
    entry = {"id": ann_id, "image_id": image_id, "category_id": category_id, "bbox": [box.x1, box.y1, w, h],
             "area": w * h, "iscrowd": 0, "segmentation": []}
    if box.difficult:
        entry["difficult"] = 1
    return entry


def _file_name(image_path: Path | str, root: Path) -> str:
    """Path relative to the image root, with forward slashes; absolute when the image is elsewhere."""
    image_path, root = Path(image_path).resolve(), root.resolve()
    if image_path.is_relative_to(root):
        return image_path.relative_to(root).as_posix()
    return str(image_path)


def _field(entry: object, key: str, kind: type, path: Path, where: str):
    if not isinstance(entry, dict):
        raise AnnotationError(path, f"expected a JSON object, found {entry!r}", where)
    value = entry.get(key)
    if kind is int:
        if isinstance(value, bool) or not _is_number(value) or float(value) != int(value):
            raise AnnotationError(path, f"{key!r} must be a whole number, found {value!r}", where)
        return int(value)
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise AnnotationError(path, f"{key!r} must be a non-empty {kind.__name__}, found {value!r}", where)
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ---- the format table entry: which files, and loading them into a folder --------------------------------------
def json_candidates(listing) -> list[tuple[Path, dict | None]]:
    """Each ``*.json`` in the folder and its ``annotations/``: its data if COCO-shaped, None if not JSON.

    Valid JSON of another shape is not a candidate at all, and a JSON named like an image beside it
    (labelme writes one per image) is not even opened: a labelme folder would otherwise be parsed in full.
    Parsed once per listing: detecting the format and loading it share the result.
    """
    cache = listing.__dict__.setdefault("_coco_candidates", [])
    if not cache:
        cache.append(_json_candidates(listing))
    return cache[0]


def _json_candidates(listing) -> list[tuple[Path, dict | None]]:
    folder = listing.folder
    names = [name for name in listing.files_in(str(folder)) if name.endswith(".json")]
    if names:  # no JSON at the top: no stem of 100,000 images to compute
        image_stems = {os.path.splitext(name)[0] for name in listing.top_level_image_names}
        names = [name for name in names if name[:-len(".json")] not in image_stems]
    paths = [folder / name for name in sorted(names, key=natural_sort_key)]
    annotations_dir = folder / "annotations"
    paths += [annotations_dir / n for n in sorted(listing.files_in(str(annotations_dir)), key=natural_sort_key)
              if n.endswith(".json")]
    result = []
    for path in paths:
        try:
            result.append((path, load_coco_dict(path)))
        except AnnotationError as exc:
            if exc.problem.startswith(("not valid JSON", "cannot read", "file too large")):
                result.append((path, None))
    return result


def dataset_files(candidates: list[tuple[Path, dict | None]]) -> list[Path]:
    """The COCO files of a dataset: every qualifying file under ``annotations/`` (the release layout), else the
    top-level one named ``annotations.json``, else the first top-level one in name order."""
    qualifying = [path for path, data in candidates if data is not None]
    nested = [p for p in qualifying if p.parent.name == "annotations"]
    if nested:
        return nested
    if not qualifying:
        return []
    return [next((p for p in qualifying if p.name == COCO_DEFAULT_NAME), qualifying[0])]


def find_coco_json(folder) -> Path | None:
    from engine.annotations.listing import FolderListing

    files = dataset_files(json_candidates(FolderListing(folder)))
    return files[0] if files else None


def detect(listing) -> int:
    candidates = json_candidates(listing)
    if any(data is not None for _, data in candidates):
        return 10**9
    return 0


def default_dataset_file(image_path: Path) -> Path:
    """The COCO file an image's entry is saved in: the dataset's (its folder, or above ``images/``), else a new
    ``annotations.json`` there."""
    image_path = Path(image_path)
    root = image_path.parent.parent if image_path.parent.name == "images" else image_path.parent
    return find_coco_json(root) or find_coco_json(image_path.parent) or root / COCO_DEFAULT_NAME


def _split_name(path: Path) -> str:
    stem = path.stem
    for prefix in ("instances_", "person_keypoints_", "annotations_"):
        if stem.startswith(prefix):
            return stem[len(prefix):]
    return stem


def load(listing, loaded) -> None:
    folder = listing.folder
    candidates = json_candidates(listing)
    files = dataset_files(candidates)
    if not files:
        broken = [path for path, data in candidates if data is None]
        for path in broken:
            try:
                load_coco_dict(path)
            except AnnotationError as exc:
                loaded.errors.append(exc)
        if not broken:
            loaded.errors.append(AnnotationError(folder, "no COCO JSON file found (a *.json with images, "
                                                 "annotations and categories)"))
        return
    position = {os.path.normcase(os.path.abspath(a.image_path)): i for i, a in enumerate(loaded.annotations)}
    by_name: dict[str, list[int]] = {}
    for i, ann in enumerate(loaded.annotations):
        by_name.setdefault(ann.image_path.name, []).append(i)
    for coco_path in files:
        root = folder if coco_path.parent.name == "annotations" else coco_path.parent
        split = _split_name(coco_path)
        # COCO 2017: instances_train2017.json describes the images of train2017/ beside annotations/
        roots = [root] + ([root / split] if (root / split).is_dir() else []) + \
                ([root / "images" / split] if (root / "images" / split).is_dir() else [])
        data = next(d for p, d in candidates if p == coco_path)
        try:
            records, labels = _read_records(coco_path, data, loaded.errors)
        except AnnotationError as exc:
            loaded.errors.append(exc)
            continue
        for name in labels.names:
            loaded.labels.add(name)
        split_images = loaded.splits.setdefault(split, []) if len(files) > 1 else None
        root_text, root_texts = str(root), [str(r) for r in roots]
        for record in records:
            # Strings and the folder listing, not Path joins and a stat per image: 100,000 images in seconds
            file_name = record.image_path  # as written in the file ('/' separators), relative to ``root``
            text = os.path.join(root_text, file_name)
            relative = os.path.normpath(file_name) if not os.path.isabs(file_name) else \
                os.path.relpath(text, root_text)
            found = next((c for c in (os.path.join(r, relative) for r in root_texts) if listing.has_file(c)), None)
            if found is not None and not os.path.isabs(relative) and not relative.startswith(".."):
                key = os.path.normcase(found)  # already absolute and normalised
            else:
                key = os.path.normcase(os.path.abspath(found or text))
            i = position.get(key)
            base_name = os.path.basename(file_name.rstrip("/"))
            if i is None and len(by_name.get(base_name, [])) == 1:
                i = by_name[base_name][0]  # file_name relative to another root: match by name
            if i is None:
                if found is not None:  # an image outside the places we scan: still part of the dataset
                    record.image_path = Path(found)
                    loaded.annotations.append(record)
                    i = len(loaded.annotations) - 1
                    position[os.path.normcase(os.path.abspath(found))] = i
                else:
                    record.image_path = Path(text)
                    loaded.errors.append(AnnotationError(coco_path, f"image file not found: {record.image_path}",
                                                         f"images: {record.image_path.name}"))
                    continue
            else:
                record.image_path = loaded.annotations[i].image_path
                loaded.annotations[i] = record
            if record.width <= 0 or record.height <= 0:
                try:
                    record.width, record.height = image_size(record.image_path)
                except AnnotationError as exc:
                    loaded.errors.append(exc)
            loaded.label_files[record.image_path] = coco_path
            if split_images is not None:
                split_images.append(record.image_path)


def write(ann: ImageAnnotation, labels: LabelSet, target: Path | None = None, warnings: list | None = None) -> Path:
    """One image's entry in the dataset file ``target`` (others kept)."""
    return update_coco_json(target, ann, labels)


def write_many(anns: list[ImageAnnotation], labels: LabelSet, target: Path, warnings: list | None = None) -> Path:
    """Several images' entries in the dataset file ``target``, read and written once (others kept)."""
    return update_coco_json(target, anns, labels)


def _format():
    from engine.annotations.formats import LabelFormat

    return LabelFormat(
        name="coco", title="COCO JSON", detect=detect, load=load, write=write, write_many=write_many,
        dataset_file=default_dataset_file,
        write_dataset=lambda anns, labels, path, root=None: write_coco_json(anns, labels, path, root),
        keeps="boxes (float pixels), category ids, verified and difficult (as extra keys), unknown keys on update",
        loses="nothing of a box; segmentation is not edited")


FORMAT = _format()
