"""The files a project keeps beside the user's labels: ``FOLDER/.resyolo/project.json`` and backups.

``project.json`` holds what label files cannot: class order and colours, the label format to write,
verified flags (YOLO has none), and the Train form's last values (``"train"``, written on their own by
:func:`write_train_settings` so that remembering them never writes unsaved class edits ahead of the labels). A malformed one is reported and ignored on opening, and kept
aside (a numbered ``.bak``) before it is first rewritten. Qt-free, like :mod:`engine.project.project`.
"""
from __future__ import annotations

import json
from pathlib import Path

from engine.io.atomic import atomic_write_bytes, atomic_write_text
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


def clean_train_settings(values) -> dict:
    """The Train form's values as ``project.json`` keeps them: names with JSON scalars; anything else dropped."""
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items()
            if isinstance(k, str) and (v is None or isinstance(v, (bool, int, float, str)))}


def settings_text(label_format: str, classes: list[str], colors: dict[str, str], verified: list[str],
                  pixel_origin: int | None = None, train: dict | None = None) -> str:
    data = {"version": SETTINGS_VERSION, "label_format": label_format, "classes": list(classes),
            "colors": colors, "verified": sorted(verified)}
    if pixel_origin is not None:  # VOC files count pixels from 0 (labelImg) or 1 (the devkit): the project's choice
        data["voc_pixel_origin"] = pixel_origin
    if train:
        data["train"] = clean_train_settings(train)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_train_settings(path: Path, train: dict) -> bool:
    """Set the ``"train"`` entry of the settings file at ``path`` (made if missing), the rest left as it is on
    disk. False, writing nothing, when the file cannot be parsed: the project's next save rewrites it (keeping
    the original aside) with these values. Raises OSError."""
    data: dict = {"version": SETTINGS_VERSION}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            return False
        if not isinstance(data, dict):
            return False
    data["train"] = clean_train_settings(train)
    write_settings(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", keep_original=False)
    return True


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
