"""Top-level windows never larger than the screen they open on (a 1366 x 768 laptop as well as a big monitor)."""
from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

# Room left for the window manager's frame and title bar (the size given to resize() is the inside).
FRAME_ALLOWANCE = (16, 40)


def available_size(widget: QWidget) -> tuple[int, int]:
    """Width and height a window's inside may take on ``widget``'s screen (its frame included in the rest)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    return area.width() - FRAME_ALLOWANCE[0], area.height() - FRAME_ALLOWANCE[1]


def fit_to_screen(widget: QWidget, width: int | None = None, height: int | None = None) -> None:
    """Resize ``widget`` to ``width`` x ``height`` (default: its size now), shrunk to what its screen can show."""
    max_width, max_height = available_size(widget)
    width, height = width or widget.width(), height or widget.height()
    widget.resize(min(width, max_width), min(height, max_height))
