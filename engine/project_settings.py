"""The files a project keeps beside the user's labels: ``FOLDER/.resyolo/project.json`` and backups.

``project.json`` holds what label files cannot: class order and colours, the label format to write,
and verified flags (YOLO has none). A malformed one is reported and ignored on opening, and kept
aside (a numbered ``.bak``) before it is first rewritten. Qt-free, like :mod:`engine.project`.
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.annotations.atomic import atomic_write_bytes, atomic_write_text
from engine.annotations.records import AnnotationError

SETTINGS_DIR = ".resyolo"
SETTINGS_FILE = "project.json"
SETTINGS_VERSION = 1


def settings_path(folder: Path) -> Path:
    return Path(folder) / SETTINGS_DIR / SETTINGS_FILE


def read_settings(folder: Path, errors: dict[Path, AnnotationError]) -> dict:
    """The settings of the project in ``folder`` ({} if none); a malformed file goes to ``errors``."""
    path = settings_path(folder)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data
    except (OSError, ValueError) as exc:
        errors[path] = AnnotationError(path, f"project settings ignored: {exc}")
        return {}


def settings_text(label_format: str, classes: list[str], colors: dict[str, str], verified: list[str],
                  pixel_origin: int | None = None) -> str:
    data = {"version": SETTINGS_VERSION, "label_format": label_format, "classes": list(classes),
            "colors": colors, "verified": sorted(verified)}
    if pixel_origin is not None:  # VOC files count pixels from 0 (labelImg) or 1 (the devkit): the project's choice
        data["voc_pixel_origin"] = pixel_origin
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_settings(path: Path, text: str, keep_original: bool) -> None:
    """Write ``text`` unless the file already holds it; ``keep_original``: back up the file first (it could
    not be parsed, and may be the user's). Raises OSError."""
    if path.exists() and path.read_text(encoding="utf-8", errors="replace") == text:
        return
    path.parent.mkdir(exist_ok=True)
    if keep_original:
        keep_backup(path)
    atomic_write_text(path, text)


def backup_path_for(path: Path) -> Path:
    """``name.xml.bak``, or ``name.xml.1.bak``, ``name.xml.2.bak``... : an older backup is never overwritten."""
    candidate = path.with_name(path.name + ".bak")
    number = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{number}.bak")
        number += 1
    return candidate


def keep_backup(original: Path) -> None:
    """Keep a copy of a file we could not parse before it is replaced (and only then)."""
    if original.exists():
        atomic_write_bytes(backup_path_for(original), original.read_bytes())
