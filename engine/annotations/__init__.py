"""Annotation records and file formats (Pascal VOC XML, YOLO txt, COCO JSON). Qt-free."""
from engine.annotations.atomic import atomic_write_bytes, atomic_write_text
from engine.annotations.records import AnnotationError, Box, ImageAnnotation, LabelSet

__all__ = ["AnnotationError", "Box", "ImageAnnotation", "LabelSet", "atomic_write_bytes", "atomic_write_text"]
