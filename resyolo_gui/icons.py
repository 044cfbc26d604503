"""Icons drawn for ResYOLO (``assets/icons/*.svg``), loaded once and shared."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_DIR = Path(__file__).resolve().parents[1] / "assets" / "icons"


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon ``assets/icons/<name>.svg``; an empty icon (not a crash) if the file is missing."""
    path = ICON_DIR / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
