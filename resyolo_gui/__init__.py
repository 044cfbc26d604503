"""ResYOLO desktop application (PySide6). A thin client of :mod:`engine`."""
from resyolo_gui.refcount_guard import protect_singletons

protect_singletons()  # before any widget exists: see refcount_guard for the PySide6 bug it works around
