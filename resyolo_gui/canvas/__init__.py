"""The labelling canvas: an image with its editable ground-truth boxes (see :class:`AnnotationCanvas`)."""
from resyolo_gui.canvas.view import AnnotationCanvas

__all__ = ["AnnotationCanvas"]
