"""The labelling canvas: an image with its editable ground-truth boxes (see :class:`AnnotationCanvas`)."""
from resyolo_gui.canvas.refcount_guard import protect_singletons

protect_singletons()  # before any painting: see refcount_guard for the PySide6 bug it works around

from resyolo_gui.canvas.view import AnnotationCanvas  # noqa: E402

__all__ = ["AnnotationCanvas"]
