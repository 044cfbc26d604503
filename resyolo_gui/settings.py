"""Per-user app settings (recent folders, window geometry, each workspace's layout) in an INI file under the user config folder.

Project settings (classes, colours, label format) live in the project folder instead
(:mod:`engine.project.project`). ``RESYOLO_CONFIG_DIR`` points elsewhere (tests use a temp folder).
"""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


def config_dir() -> Path:
    override = os.environ.get("RESYOLO_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("resyolo", appauthor=False))


class AppSettings:
    def __init__(self, path: Path | None = None):
        self._settings = QSettings(str(path or config_dir() / "resyolo-gui.ini"), QSettings.IniFormat)

    def recent_folders(self) -> list[Path]:
        value = self._settings.value("recent_folders", [])
        if isinstance(value, str):  # QSettings gives a bare string for a one-item list
            value = [value]
        return [Path(v) for v in value or []]

    def add_recent_folder(self, folder: Path) -> None:
        folder = Path(folder)
        folders = [folder] + [f for f in self.recent_folders() if f != folder]
        self._settings.setValue("recent_folders", [str(f) for f in folders[:MAX_RECENT]])

    def remove_recent_folder(self, folder: Path) -> None:
        self._settings.setValue("recent_folders", [str(f) for f in self.recent_folders() if f != Path(folder)])

    def window_geometry(self) -> QByteArray | None:
        return self._settings.value("window/geometry")

    def save_window_geometry(self, geometry: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)

    def workspace_state(self, name: str) -> QByteArray | None:
        return self._settings.value(f"workspaces/{name}")

    def save_workspace_state(self, name: str, state: QByteArray) -> None:
        self._settings.setValue(f"workspaces/{name}", state)

    def current_workspace(self) -> str | None:
        return self._settings.value("workspaces/current")

    def set_current_workspace(self, name: str) -> None:
        self._settings.setValue("workspaces/current", name)

    def live_confidence(self, default: float) -> float:
        """The live view's confidence threshold, as last set (any project: it is about the camera and model)."""
        try:
            value = float(self._settings.value("live/confidence", default))
        except (TypeError, ValueError):
            return default
        return value if 0.0 < value < 1.0 else default

    def set_live_confidence(self, value: float) -> None:
        self._settings.setValue("live/confidence", float(value))

    def sync(self) -> None:
        self._settings.sync()
