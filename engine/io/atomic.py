"""Atomic file writes: a temporary file in the same folder, fsync, then ``os.replace``.

A reader (or a crash at any moment) sees either the old file or the complete new one.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            # Keep the permissions of the file we replace.
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


# What atomic_write_bytes' mkstemp leaves when the process is killed between writing and os.replace:
# ".<name>.<8 random characters>.tmp". Only such names are ever removed.
_LEFTOVER = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def clean_leftover_temp_files(directories) -> list[Path]:
    """Remove our own leftover temporary files from ``directories``; returns those removed."""
    removed = []
    for directory in dict.fromkeys(str(d) for d in directories):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if _LEFTOVER.match(name):
                try:
                    os.unlink(os.path.join(directory, name))
                    removed.append(Path(directory) / name)
                except OSError:
                    pass
    return removed
