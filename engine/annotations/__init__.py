"""Annotation records and the table of label formats (engine/annotations/formats.py): Pascal VOC XML, the VOC devkit,
YOLO txt, Ultralytics data.yaml, COCO JSON, labelme JSON, CVAT XML. Qt-free."""
from engine.io.atomic import atomic_write_bytes, atomic_write_text
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet
from engine.annotations.coco import read_coco_json, write_coco_json
from engine.annotations.folder import IMAGE_EXTENSIONS, LoadedFolder, detect_format, load_folder, save_annotation
from engine.annotations.voc import read_voc_xml, write_voc_xml
from engine.annotations.yolo import read_classes_txt, read_yolo_txt, write_classes_txt, write_yolo_txt

__all__ = [
    "AnnotationError", "Box", "ImageAnnotation", "LabelSet", "atomic_write_bytes", "atomic_write_text",
    "IMAGE_EXTENSIONS", "LoadedFolder", "detect_format", "load_folder", "save_annotation",
    "read_voc_xml", "write_voc_xml", "read_classes_txt", "write_classes_txt", "read_yolo_txt", "write_yolo_txt",
    "read_coco_json", "write_coco_json",
]
