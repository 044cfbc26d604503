"""Pascal VOC XML, one file beside each image, compatible with labelImg.

Pixel origin, one choice per project (``origin``): labelImg (the tool most VOC-style folders
beside images come from) reads and writes ``xmin..ymax`` as the 0-based box corners (``origin=0``,
the default for XML beside the images); the VOC devkit counts pixels from 1, and Ultralytics'
VOC converter and supervision read it so (``origin=1``: every number in the file is the 0-based
corner plus one; the default of :mod:`engine.annotations.vocdevkit`). Either way a round trip
with the tool of that convention is exact. We write whole pixels (as labelImg does) and read
integers or decimals; non-finite numbers are refused with the file and the object.

labelImg marks a checked image with ``<annotation verified="yes">``; that is
``ImageAnnotation.verified``. Reading uses defusedxml, so entity bombs and external entities
in a hostile file are refused rather than expanded.
"""
from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from engine.io.atomic import atomic_write_text
from engine.annotations.beside import count_label_files, first_label_paths, image_size, load_each, same_stem
from engine.annotations.clipping import boxes_to_write
from engine.annotations.limits import read_label_bytes
from engine.annotations.records import AnnotationError, Box, ImageAnnotation

SUFFIX = ".xml"
_beside = same_stem(SUFFIX)


def label_path(image_path: Path) -> Path:
    """Beside the image; or, for an image in ``images/`` of a folder with ``Annotations/`` (Label Studio's and
    CVAT's VOC export), ``Annotations/<stem>.xml``."""
    image_path = Path(image_path)
    if image_path.parent.name == "images" and (image_path.parent.parent / "Annotations").is_dir():
        return image_path.parent.parent / "Annotations" / (image_path.stem + SUFFIX)
    return _beside(image_path)

# Beside-the-image lookup order when the file's <filename> does not name an existing file.
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def read_voc_xml(xml_path: Path | str, image_path: Path | str | None = None, problems: list | None = None,
                 origin: int = 0) -> ImageAnnotation:
    """Read one labelImg / Pascal VOC file. Raises :class:`AnnotationError` naming the element at fault.

    ``image_path``: the image the file belongs to, when the caller already knows it (the folder loader
    found both); otherwise it is looked for on disk from ``<filename>`` and the file's stem.
    ``problems``: a list to receive each bad ``<object>`` (which is then skipped, the others kept);
    without it the first bad object raises. ``origin``: see the module docstring.
    """
    xml_path = xml_path if isinstance(xml_path, Path) else Path(xml_path)
    root = _parse(xml_path)
    if root.tag != "annotation":
        raise AnnotationError(xml_path, f"root element is <{root.tag}>, expected <annotation>", "line 1")

    width = _optional_int(root, "size/width", xml_path)
    height = _optional_int(root, "size/height", xml_path)
    boxes = []
    for i, obj in enumerate(root.findall("object"), start=1):
        try:
            boxes.append(_read_object(obj, i, xml_path, origin))
        except AnnotationError as exc:
            if problems is None:
                raise
            problems.append(exc)
    return ImageAnnotation(
        image_path=(image_path if isinstance(image_path, Path) else Path(image_path)) if image_path is not None else _image_path_for(xml_path, root.findtext("filename")),
        width=width,
        height=height,
        boxes=boxes,
        verified=root.get("verified", "").strip().lower() == "yes",
    )


def write_voc_xml(ann: ImageAnnotation, xml_path: Path | str | None = None, origin: int = 0,
                  warnings: list | None = None) -> Path:
    """Write ``ann`` as labelImg XML (default: beside the image, same stem, ``.xml``). Returns the path.
    Boxes are clipped to the image and empty ones dropped, each change reported in ``warnings``."""
    image_path = Path(ann.image_path)
    xml_path = Path(xml_path) if xml_path is not None else label_path(image_path)

    root = ET.Element("annotation")
    if ann.verified:
        root.set("verified", "yes")
    ET.SubElement(root, "folder").text = image_path.resolve().parent.name
    ET.SubElement(root, "filename").text = image_path.name
    ET.SubElement(root, "path").text = _relative_path(image_path, xml_path)
    ET.SubElement(ET.SubElement(root, "source"), "database").text = "Unknown"
    size = ET.SubElement(root, "size")
    ET.SubElement(size, "width").text = str(int(ann.width))
    ET.SubElement(size, "height").text = str(int(ann.height))
    ET.SubElement(size, "depth").text = "3"  # images are read as RGB
    ET.SubElement(root, "segmented").text = "0"
    for box in boxes_to_write(ann, xml_path, warnings):
        x1, y1, x2, y2 = _whole_pixels(box, ann)
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = box.label
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "1" if _touches_border(x1, y1, x2, y2, ann) else "0"
        ET.SubElement(obj, "difficult").text = "1" if box.difficult else "0"
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), (x1, y1, x2, y2)):
            ET.SubElement(bndbox, tag).text = str(value + origin)
    ET.indent(root, space="\t")
    atomic_write_text(xml_path, ET.tostring(root, encoding="unicode") + "\n")
    return xml_path


def _relative_path(image_path: Path, xml_path: Path) -> str:
    """``<path>``: the image as seen from the XML's folder ("dog1.jpg", "../JPEGImages/dog1.jpg"), never an
    absolute path: labelImg writes the labelling machine's own, which leaks it into shared and tracked files
    (readers, ours included, go by ``<filename>`` beside the XML)."""
    try:
        relative = os.path.relpath(Path(image_path).resolve(), Path(xml_path).resolve().parent)
    except ValueError:  # another drive (Windows): no relative path exists
        return Path(image_path).name
    return Path(relative).as_posix()


def _parse(xml_path: Path) -> ET.Element:
    data = read_label_bytes(xml_path)  # size-checked: a 200 MB XML is refused before parsing
    try:
        if _without_declarations(data):
            return ET.fromstring(data)  # no DTD: no entity to expand or fetch; the C parser, several times quicker
        return SafeET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        problem = re.sub(r":? *line \d+, column \d+$", "", str(exc))  # the location goes in `where`
        raise AnnotationError(xml_path, f"not valid XML: {problem}", f"line {line}, column {column}") from None
    except defusedxml.DefusedXmlException as exc:
        raise AnnotationError(xml_path, f"refused unsafe XML ({type(exc).__name__}: {exc})") from None


def _without_declarations(data: bytes) -> bool:
    """No ``<!`` anywhere (so no DOCTYPE, no ENTITY; comments and CDATA also take the careful path) in a file of an
    ASCII-compatible encoding (UTF-16 and -32 would hide them from this byte search): plain ``xml.etree`` is as
    safe as defusedxml on it, and several times quicker (defusedxml parses with the pure-Python parser)."""
    return b"<!" not in data and b"\x00" not in data and not data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _read_object(obj: ET.Element, number: int, xml_path: Path, origin: int = 0) -> Box:
    name = (obj.findtext("name") or "").strip()
    where = f"<object> #{number}" + (f" '{name}'" if name else "")
    if not name:
        raise AnnotationError(xml_path, "missing or empty <name>", where)
    bndbox = obj.find("bndbox")
    if bndbox is None:
        raise AnnotationError(xml_path, "missing <bndbox>", where)
    coords = []
    for tag in ("xmin", "ymin", "xmax", "ymax"):
        text = bndbox.findtext(tag)
        if text is None or not text.strip():
            raise AnnotationError(xml_path, f"missing <{tag}> in <bndbox>", where)
        try:
            coords.append(float(text))
        except ValueError:
            raise AnnotationError(xml_path, f"<{tag}> is not a number: {text.strip()!r}", where) from None
        if not math.isfinite(coords[-1]):
            raise AnnotationError(xml_path, f"<{tag}> is not a finite number: {text.strip()!r}", where)
    x1, y1, x2, y2 = (v - origin for v in coords)
    if x2 <= x1:
        raise AnnotationError(xml_path, f"xmax ({x2:g}) must be greater than xmin ({x1:g})", where)
    if y2 <= y1:
        raise AnnotationError(xml_path, f"ymax ({y2:g}) must be greater than ymin ({y1:g})", where)
    difficult = (obj.findtext("difficult") or "0").strip().lower() in ("1", "true", "yes")
    return Box(name, x1, y1, x2, y2, difficult=difficult)


def _optional_int(root: ET.Element, path: str, xml_path: Path) -> int:
    """A size field; 0 (unknown) when absent, as labelImg files for unread images have it."""
    text = root.findtext(path)
    if text is None or not text.strip():
        return 0
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(xml_path, f"not a number: {text.strip()!r}", f"<{path.replace('/', '><')}>") from None
    if value < 0 or not value.is_integer():
        raise AnnotationError(xml_path, f"not a pixel count: {text.strip()!r}", f"<{path.replace('/', '><')}>")
    return int(value)


def _image_path_for(xml_path: Path, filename: str | None) -> Path:
    """The image an XML file describes: its <filename> beside it, else the same stem with an image suffix.

    <path> is ignored on purpose: labelImg stores an absolute path from the labelling machine,
    which is wrong as soon as the folder is moved or shared.
    """
    if filename and filename.strip():
        candidate = xml_path.parent / Path(filename.strip()).name
        if candidate.exists():
            return candidate
    for suffix in _IMAGE_SUFFIXES:
        for variant in (suffix, suffix.upper()):
            candidate = xml_path.with_suffix(variant)
            if candidate.exists():
                return candidate
    if filename and filename.strip():
        return xml_path.parent / Path(filename.strip()).name
    return xml_path.with_suffix(".jpg")


def _whole_pixels(box: Box, ann: ImageAnnotation) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (int(round(v)) for v in box.xyxy())
    # Rounding must not collapse a thin box: the file would then be unreadable. Nor push it past the image.
    if x2 <= x1:
        x1, x2 = (x1 - 1, x1) if ann.width > 0 and x1 + 1 > ann.width else (x1, x1 + 1)
    if y2 <= y1:
        y1, y2 = (y1 - 1, y1) if ann.height > 0 and y1 + 1 > ann.height else (y1, y1 + 1)
    return x1, y1, x2, y2


def _touches_border(x1: int, y1: int, x2: int, y2: int, ann: ImageAnnotation) -> bool:
    """labelImg's meaning of <truncated>: the box reaches the image border."""
    if ann.width <= 0 or ann.height <= 0:
        return False
    return x1 <= 0 or y1 <= 0 or x2 >= ann.width or y2 >= ann.height


# ---- the format table entry ---------------------------------------------------------------------------------
def detect(listing) -> int:
    return count_label_files(listing, label_path)


def load(listing, loaded, origin: int = 0, paths: list[str] | None = None) -> None:
    if loaded.pixel_origin is not None:  # the project's documented choice wins over the layout's default
        origin = loaded.pixel_origin

    def read_one(path, ann, problems):
        read = read_voc_xml(path, image_path=ann.image_path, problems=problems, origin=origin)
        if read.width <= 0 or read.height <= 0:
            read.width, read.height = image_size(ann.image_path)
        return read

    load_each(loaded, listing, first_label_paths(listing, loaded, label_path) if paths is None else paths, read_one)
    seen = set().union(*(a.labels() for a in loaded.annotations)) if loaded.annotations else set()
    for name in sorted(seen - set(loaded.labels.names)):
        loaded.labels.add(name)


def write(ann: ImageAnnotation, labels, target: Path | None = None, warnings: list | None = None,
          origin: int = 0) -> Path:
    return write_voc_xml(ann, target, origin=origin, warnings=warnings)


def _format():
    from engine.annotations.formats import LabelFormat
    from engine.annotations.yolo import classes_txt_path_if_any, read_class_names, write_class_names

    return LabelFormat(
        name="voc", title="Pascal VOC XML (labelImg)", detect=detect, load=load, write=write, label_path=label_path,
        class_list_path=classes_txt_path_if_any, read_class_list=read_class_names, write_class_list=write_class_names,
        pixel_origin=0, keeps_verified=True, keeps="class names, boxes (whole pixels), difficult, truncated, verified",
        loses="sub-pixel coordinates, shapes other than boxes")


FORMAT = _format()
