"""Stopgap for a PySide6 6.12 refcount bug on CPython 3.11; applied on ``import resyolo_gui``.

In this build every call of a C++ method returning ``void`` (``setPen``, ``drawRect``, ``setEnabled``...)
hands back ``None`` without a new reference, and bool arguments/results lose references to ``True`` and
``False`` too. Python 3.12+ never frees these singletons (PEP 683, immortal objects), so the bug is
harmless there; on 3.11 their counts fall with each call and the process dies with "Fatal Python error:
none_dealloc" — after a few seconds of repainting a canvas with a few dozen boxes, or at interpreter exit.

The guard checks whether the installed build has the bug and, only then, gives the three singletons a
reference count no program can use up: the 3.12 behaviour. They are never deallocated either way.
``resyolo_gui/__init__.py`` applies it, so every widget of the app (and of any script importing the
package) is covered before it makes its first Qt call.
"""
from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 40  # void calls it would take to use up


def pyside_leaks_none_references() -> bool:
    from PySide6.QtCore import QRectF

    rect = QRectF()
    before = sys.getrefcount(None)
    for _ in range(16):
        rect.setWidth(1.0)  # a void method
    return sys.getrefcount(None) < before


def protect_singletons() -> bool:
    """Apply the guard if needed; True when it was applied (now or before)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if sys.getrefcount(None) > _HEADROOM // 2:
        return True
    if not pyside_leaks_none_references():
        return False
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every CPython object.
        ctypes.c_ssize_t.from_address(id(singleton)).value += _HEADROOM
    return True
