"""CVAT "for images 1.1" XML: one ``annotations.xml`` for a folder of images (as CVAT exports it).

    <annotations><version>1.1</version><meta><task><labels><label><name>car</name>...</label></labels></task></meta>
      <image id="0" name="a.jpg" width="640" height="480">
        <box label="car" source="manual" occluded="0" xtl="10.00" ytl="20.00" xbr="30.00" ybr="40.00" z_order="0"/>
        <polygon label="road" points="1,2;3,4;5,6" .../>
      </image>
    </annotations>

``<box>`` elements are boxes (float pixels, corners; ``occluded`` is not "difficult" and is kept as it was on
update); polygons, polylines, points, masks, tracks and attributes are not boxes: reported as "not a box" and kept
untouched when one image's boxes are replaced (:func:`update_cvat_xml`). Image ``name`` is relative to the
folder of the XML, or to its ``images/`` subfolder (CVAT's export with images).
"""
from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from engine.io.atomic import atomic_write_text
from engine.annotations.beside import image_size
from engine.annotations.clipping import boxes_to_write
from engine.annotations.limits import read_label_bytes
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet, NotABox

FILE_NAME = "annotations.xml"
_SHAPES = ("polygon", "polyline", "points", "mask", "cuboid", "ellipse", "skeleton", "tag")


def parse_cvat_xml(path: Path) -> ET.Element:
    data = read_label_bytes(path)
    try:
        root = SafeET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise AnnotationError(path, f"not valid XML: {exc}", f"line {line}, column {column}") from None
    except defusedxml.DefusedXmlException as exc:
        raise AnnotationError(path, f"refused unsafe XML ({type(exc).__name__})") from None
    except OSError as exc:
        raise AnnotationError(path, f"cannot read file: {exc.strerror or exc}") from None
    if root.tag != "annotations":
        raise AnnotationError(path, f"root element is <{root.tag}>, expected CVAT's <annotations>")
    return root


def is_cvat_file(path: Path) -> bool:
    try:
        root = parse_cvat_xml(path)
    except AnnotationError:
        return False
    return root.find("image") is not None or root.findtext("version") is not None


def read_cvat_xml(path: Path | str, problems: list | None = None) -> tuple[list[ImageAnnotation], LabelSet]:
    path = Path(path)
    root = parse_cvat_xml(path)
    labels = LabelSet([n.strip() for n in (e.findtext("name") or "" for e in root.iter("label")) if n.strip()])
    result = []
    for index, image in enumerate(root.findall("image")):
        name = (image.get("name") or "").replace("\\", "/")
        ann = ImageAnnotation(_image_path(path.parent, name), _int(image.get("width")), _int(image.get("height")))
        for number, element in enumerate(image, start=1):
            where = f"<image name='{name}'> element #{number}"
            if element.tag != "box":
                if element.tag in _SHAPES and problems is not None:
                    problems.append(NotABox(path, f"not a box: {element.tag} '{element.get('label', '')}' "
                                                          f"(kept as it is)", where))
                continue
            try:
                ann.boxes.append(_box(element, path, where))
            except AnnotationError as exc:
                if problems is None:
                    raise
                problems.append(exc)
        for box in ann.boxes:
            labels.add(box.label)
        result.append(ann)
    return result, labels


def write_cvat_xml(annotations: list[ImageAnnotation], labels: LabelSet, path: Path | str,
                   image_root: Path | str | None = None, warnings: list | None = None) -> Path:
    path = Path(path)
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    label_list = ET.SubElement(ET.SubElement(ET.SubElement(root, "meta"), "task"), "labels")
    for name in labels.names:
        label = ET.SubElement(label_list, "label")
        ET.SubElement(label, "name").text = name
        ET.SubElement(label, "type").text = "rectangle"
        ET.SubElement(label, "attributes")
    for index, ann in enumerate(annotations):
        image = ET.SubElement(root, "image", id=str(index), name=_name(ann.image_path, Path(image_root or path.parent)),
                              width=str(int(ann.width)), height=str(int(ann.height)))
        _append_boxes(image, ann, path, warnings)
    _write(root, path)
    return path


def update_cvat_xml(path: Path | str, anns: ImageAnnotation | list[ImageAnnotation], labels: LabelSet,
                    warnings: list | None = None) -> Path:
    """Replace the boxes of one image (or of several, written once) in an existing file, or start one; every other
    element stays as it is."""
    path = Path(path)
    anns = [anns] if isinstance(anns, ImageAnnotation) else list(anns)
    if not path.exists():
        return write_cvat_xml(anns, labels, path, warnings=warnings)
    root = parse_cvat_xml(path)
    images = root.findall("image")
    by_name = {(im.get("name") or "").replace("\\", "/"): im for im in images}
    next_id = 1 + max((_int(im.get("id")) for im in images), default=-1)
    for ann in anns:
        name = _name(ann.image_path, path.parent)
        image = by_name.get(name) or by_name.get(Path(name).name)
        if image is None:
            image = ET.SubElement(root, "image", id=str(next_id), name=name)
            next_id += 1
            by_name[name] = image
        image.set("width", str(int(ann.width)))
        image.set("height", str(int(ann.height)))
        for old in image.findall("box"):
            image.remove(old)
        _append_boxes(image, ann, path, warnings)
    label_list = next((e for e in (root.find("meta/task/labels"), root.find("meta/project/labels")) if e is not None),
                      None)
    if label_list is not None:
        known = {e.findtext("name") for e in label_list.findall("label")}
        for name in labels.names:
            if name not in known:
                ET.SubElement(ET.SubElement(label_list, "label"), "name").text = name
    _write(root, path)
    return path


def _append_boxes(image: ET.Element, ann: ImageAnnotation, path: Path, warnings) -> None:
    for box in boxes_to_write(ann, path, warnings):
        ET.SubElement(image, "box", label=box.label, source="manual", occluded="0",
                      xtl=f"{box.x1:.2f}", ytl=f"{box.y1:.2f}", xbr=f"{box.x2:.2f}", ybr=f"{box.y2:.2f}", z_order="0")


def _write(root: ET.Element, path: Path) -> None:
    ET.indent(root, space="  ")
    atomic_write_text(path, '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")


def _box(element: ET.Element, path: Path, where: str) -> Box:
    label = (element.get("label") or "").strip()
    if not label:
        raise AnnotationError(path, "<box> without a label", where)
    values = []
    for key in ("xtl", "ytl", "xbr", "ybr"):
        try:
            value = float(element.get(key, ""))
        except ValueError:
            raise AnnotationError(path, f"{key} is not a number: {element.get(key)!r}", where) from None
        if not math.isfinite(value):
            raise AnnotationError(path, f"{key} is not a finite number: {element.get(key)!r}", where)
        values.append(value)
    x1, y1, x2, y2 = values
    if x2 <= x1 or y2 <= y1:
        raise AnnotationError(path, f"box has no area ({x1:g}, {y1:g}, {x2:g}, {y2:g})", where)
    return Box(label, x1, y1, x2, y2)


def _int(text) -> int:
    try:
        return max(int(float(text)), 0)
    except (TypeError, ValueError):
        return 0


def _image_path(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / "images" / name):
        if candidate.is_file():
            return candidate
    return folder / name


def _name(image_path, root: Path) -> str:
    image_path = Path(os.path.abspath(image_path))
    for base in (Path(os.path.abspath(root)) / "images", Path(os.path.abspath(root))):
        if image_path.is_relative_to(base):
            return image_path.relative_to(base).as_posix()
    return str(image_path)


# ---- the format table entry ---------------------------------------------------------------------------------
def _file(listing) -> Path | None:
    folder = listing.folder
    if listing.has_file(folder / FILE_NAME) and is_cvat_file(folder / FILE_NAME):
        return folder / FILE_NAME
    return None


def detect(listing) -> int:
    return 10**9 if _file(listing) is not None else 0


def load(listing, loaded) -> None:
    path = _file(listing)
    try:
        records, labels = read_cvat_xml(path, loaded.errors)
    except AnnotationError as exc:
        loaded.errors.append(exc)
        return
    for name in labels.names:
        loaded.labels.add(name)
    position = {os.path.abspath(a.image_path): i for i, a in enumerate(loaded.annotations)}
    for record in records:
        i = position.get(os.path.abspath(record.image_path))
        if i is None:
            if not record.image_path.is_file():
                loaded.errors.append(AnnotationError(path, f"image file not found: {record.image_path}"))
                continue
            loaded.annotations.append(record)
        else:
            record.image_path = loaded.annotations[i].image_path
            loaded.annotations[i] = record
        if record.width <= 0 or record.height <= 0:
            try:
                record.width, record.height = image_size(record.image_path)
            except AnnotationError as exc:
                loaded.errors.append(exc)
        loaded.label_files[record.image_path] = path


def write(ann: ImageAnnotation, labels: LabelSet, target: Path | None = None, warnings: list | None = None) -> Path:
    return update_cvat_xml(target, ann, labels, warnings)


def write_many(anns: list[ImageAnnotation], labels: LabelSet, target: Path, warnings: list | None = None) -> Path:
    """Several images' entries in ``target``, read and written once."""
    return update_cvat_xml(target, anns, labels, warnings)


def default_file(image_path: Path) -> Path:
    folder = Path(image_path).parent
    return folder.parent / FILE_NAME if folder.name == "images" else folder / FILE_NAME


def _format():
    from engine.annotations.formats import LabelFormat

    return LabelFormat(
        name="cvat", title="CVAT for images 1.1 XML", detect=detect, load=load, write=write, write_many=write_many,
        dataset_file=default_file,
        write_dataset=lambda anns, labels, path, root=None: write_cvat_xml(anns, labels, path, root),
        keeps="boxes (2 decimals), class list; polygons, points, tracks and attributes untouched on update",
        loses="difficult, verified (kept in .resyolo/project.json); occluded is written as 0 for new boxes")


FORMAT = _format()
