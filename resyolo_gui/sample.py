"""The bundled sample project, opened when the app starts without a folder: a copy in the user's data folder.

``assets/sample`` is part of the source tree (and of the app bundle, often read-only): opening it in place wrote
label files, ``project.json`` and a lock into tracked files. The first start copies it to
``<user data dir>/sample`` (``platformdirs``; ``RESYOLO_DATA_DIR`` points elsewhere, as tests do) and every start
opens that copy, kept as the user left it. Qt-free.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import platformdirs

SAMPLE_FOLDER = Path(__file__).resolve().parents[1] / "assets" / "sample"
# what an app that opened the sample in place may have left there: never copied
LEFT_BY_THE_APP = shutil.ignore_patterns(".resyolo", "*.bak", "*.conflict", ".*.tmp*")


def data_dir() -> Path:
    override = os.environ.get("RESYOLO_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("resyolo", appauthor=False))


def sample_copy_folder() -> Path:
    return data_dir() / "sample"


def is_bundled_sample(folder: Path | str) -> bool:
    try:
        return Path(folder).resolve() == SAMPLE_FOLDER
    except OSError:
        return False


def user_sample(source: Path = SAMPLE_FOLDER) -> Path:
    """The user's copy of the sample project, made from ``source`` on first use (whole or not at all: copied
    beside it, then renamed into place). An existing copy is returned as it is. Raises OSError when it cannot
    be made."""
    target = sample_copy_folder()
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=target.parent))
    try:
        shutil.copytree(source, staging / "sample", ignore=LEFT_BY_THE_APP)
        try:
            os.replace(staging / "sample", target)
        except OSError:
            if not target.is_dir():  # not another start that made it meanwhile
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
