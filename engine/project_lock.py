"""One writer per project folder: ``FOLDER/.resyolo/lock`` holds the process id and host name of the holder.

A second process opening the folder is told who holds it (:class:`ProjectLocked`) and may open read-only or take
over; a lock left by a dead process on this host is stale and taken over quietly. Within one process the lock is
re-entrant (the app reopening its own folder). A folder where the lock cannot be written (read-only media) opens
without one. Qt-free.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from engine.annotations.atomic import atomic_write_text

LOCK_FILE = "lock"


class ProjectLocked(OSError):
    """Another live process holds the folder. ``holder``: its pid, host and since when."""

    def __init__(self, path: Path, holder: dict):
        self.path, self.holder = Path(path), holder
        super().__init__(f"{path.parent.parent} is open in another ResYOLO (process {holder.get('pid')} on "
                         f"{holder.get('host')}, since {holder.get('since', '?')}): open it read-only, or take over")


def lock_path(folder: Path) -> Path:
    from engine.project_settings import SETTINGS_DIR

    return Path(folder) / SETTINGS_DIR / LOCK_FILE


def read_lock(folder: Path) -> dict | None:
    try:
        data = json.loads(lock_path(folder).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def acquire(folder: Path, take_over: bool = False) -> Path | None:
    """Hold the folder's lock; returns its path (None where it cannot be written). Raises ProjectLocked."""
    holder = read_lock(folder)
    if holder is not None and not take_over and not _ours(holder) and _alive(holder):
        raise ProjectLocked(lock_path(folder), holder)
    path = lock_path(folder)
    try:
        path.parent.mkdir(exist_ok=True)
        atomic_write_text(path, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                            "since": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
    except OSError:
        return None
    return path


def release(folder: Path) -> None:
    holder = read_lock(folder)
    if holder is not None and _ours(holder):
        try:
            lock_path(folder).unlink()
        except OSError:
            pass


def held_by_us(folder: Path) -> bool:
    holder = read_lock(folder)
    return holder is None or _ours(holder)


def _ours(holder: dict) -> bool:
    return holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname()


def _alive(holder: dict) -> bool:
    if holder.get("host") != socket.gethostname():
        return True  # another machine's process: we cannot tell, so it counts as live
    try:
        os.kill(int(holder.get("pid")), 0)
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
