"""COCO JSON for a whole dataset (object detection part only).

- ``images``: ``id``, ``file_name`` (relative to ``image_root``, default: the JSON's folder), ``width``, ``height``.
- ``annotations``: ``bbox`` = ``[x, y, w, h]`` pixels, ``area`` = w*h, ``iscrowd`` = 0.
- ``categories``: ids 1..K in LabelSet order when we write; any ids when we read (order = sorted by id).

COCO has no "difficult" flag. We write difficult boxes with an extra ``"difficult": 1`` key, and read
either that key or ``iscrowd: 1`` as difficult (both mean "do not count it against the detector").
labelImg's "verified" travels as an extra ``"verified": true`` on the image entry.
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.annotations.atomic import atomic_write_text
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet

COCO_KEYS = ("images", "annotations", "categories")


def read_coco_json(path: Path | str, image_root: Path | str | None = None) -> tuple[list[ImageAnnotation], LabelSet]:
    """Read a COCO detection file. Raises :class:`AnnotationError` naming the entry at fault."""
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    data = load_coco_dict(path)

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
        where = f"images[{i}]"
        image_id = _field(image, "id", int, path, where)
        if image_id in by_id:
            raise AnnotationError(path, f"image id {image_id} used twice", where)
        by_id[image_id] = ImageAnnotation(
            image_path=root / _field(image, "file_name", str, path, where),
            width=int(image.get("width") or 0),
            height=int(image.get("height") or 0),
            verified=bool(image.get("verified", False)),
        )

    for i, entry in enumerate(data["annotations"]):
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
    return list(by_id.values()), labels


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


def update_coco_json(path: Path | str, ann: ImageAnnotation, labels: LabelSet,
                     image_root: Path | str | None = None) -> Path:
    """Replace one image's boxes in an existing COCO file (or start a new one), keeping everything else.

    Other images, their annotations and any keys we do not know (info, licenses, segmentation) stay as
    they are; classes new to the file get the next free category ids.
    """
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    data = load_coco_dict(path) if path.exists() else {key: [] for key in COCO_KEYS}
    category_ids = {c["name"]: c["id"] for c in data["categories"]}
    for name in labels.names:
        if name not in category_ids:
            category_ids[name] = max(category_ids.values(), default=0) + 1
            data["categories"].append({"id": category_ids[name], "name": name, "supercategory": ""})

    file_name = _file_name(ann.image_path, root)
    image_entry = next((im for im in data["images"] if im.get("file_name") == file_name), None)
    if image_entry is None:  # file_name written relative to another root: accept a unique match by name
        same_name = [im for im in data["images"] if Path(str(im.get("file_name", ""))).name == Path(file_name).name]
        image_entry = same_name[0] if len(same_name) == 1 else None
    if image_entry is None:
        image_id = max((im["id"] for im in data["images"]), default=0) + 1
        image_entry = {"id": image_id}
        data["images"].append(image_entry)
    fresh = _image_entry(ann, image_entry["id"], root)
    fresh["file_name"] = image_entry.get("file_name", fresh["file_name"])
    image_entry.update(fresh)
    if not ann.verified:
        image_entry.pop("verified", None)

    kept = [a for a in data["annotations"] if a.get("image_id") != image_entry["id"]]
    next_id = max((a.get("id", 0) for a in data["annotations"]), default=0) + 1
    for box in ann.boxes:
        if box.label not in category_ids:
            raise KeyError(f"unknown class {box.label!r}; known classes: {', '.join(labels.names) or '(none)'}")
        kept.append(_box_entry(box, next_id, image_entry["id"], category_ids[box.label]))
        next_id += 1
    data["annotations"] = kept
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    return path


def load_coco_dict(path: Path | str) -> dict:
    """Parse a file and check it has the COCO top level: an object with images, annotations, categories lists."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AnnotationError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(path, f"cannot read file: {exc}") from None
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
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
