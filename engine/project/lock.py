"""One writer per project folder: ``FOLDER/.resyolo/lock`` holds the process id and host name of the holder.

A second process opening the folder is told who holds it (:class:`ProjectLocked`) and may open read-only or take
over; a lock left by a dead process on this host is stale and taken over quietly. Within one process, two live
projects (two windows) on one folder exclude each other the same way: the holder is the project object, kept in
:data:`_HELD_HERE` until it is closed or garbage collected. A folder where the lock cannot be written (read-only
media) opens without one. Qt-free.
"""
from __future__ import annotations

import json
import os
import socket
import time
import weakref
from pathlib import Path

from engine.io.atomic import atomic_write_text

LOCK_FILE = "lock"
#: folder (resolved, as a string) -> weak reference to the live project of this process that holds it
_HELD_HERE: dict[str, weakref.ref] = {}


class ProjectLocked(OSError):
    """Another live process holds the folder. ``holder``: its pid, host and since when."""

    def __init__(self, path: Path, holder: dict):
        self.path, self.holder = Path(path), holder
        where = "another window of this ResYOLO" if holder.get("here") else "another ResYOLO"
        super().__init__(f"{path.parent.parent} is open in {where} (process {holder.get('pid')} on "
                         f"{holder.get('host')}, since {holder.get('since', '?')}): open it read-only, or take over")


def lock_path(folder: Path) -> Path:
    from engine.project.settings import SETTINGS_DIR

    return Path(folder) / SETTINGS_DIR / LOCK_FILE


def read_lock(folder: Path) -> dict | None:
    try:
        data = json.loads(lock_path(folder).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def acquire(folder: Path, take_over: bool = False) -> Path | None:
    """Hold the folder's lock; returns its path (None where it cannot be written). Raises ProjectLocked, also
    when another live project of this process holds it (see :func:`hold_here`)."""
    holder = read_lock(folder)
    if not take_over and _held_here(folder) is not None:
        raise ProjectLocked(lock_path(folder), {"pid": os.getpid(), "host": socket.gethostname(),
                                                **(holder if holder and _ours(holder) else {}), "here": True})
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


def hold_here(folder: Path, owner: object) -> None:
    """Record ``owner`` (a project) as this process's holder of ``folder``; a project that is garbage collected
    without being closed lets go of the folder as well."""
    key = str(folder)
    _HELD_HERE[key] = weakref.ref(owner)
    weakref.finalize(owner, _forget, key, _HELD_HERE[key])


def release(folder: Path, owner: object | None = None) -> None:
    """Let go of the folder; with ``owner``, only if that project still holds it here (not taken over by another
    window since)."""
    key = str(folder)
    if owner is not None:
        ref = _HELD_HERE.get(key)
        if ref is not None and ref() is not owner:
            return
        _HELD_HERE.pop(key, None)
    holder = read_lock(folder)
    if holder is not None and _ours(holder):
        try:
            lock_path(folder).unlink()
        except OSError:
            pass


def held_by_us(folder: Path) -> bool:
    holder = read_lock(folder)
    return holder is None or _ours(holder)


def _held_here(folder: Path) -> object | None:
    ref = _HELD_HERE.get(str(folder))
    return ref() if ref is not None else None


def _forget(key: str, ref: weakref.ref) -> None:
    if _HELD_HERE.get(key) is ref:  # still the holder: nobody took over, nobody closed it
        del _HELD_HERE[key]
        release(Path(key))


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
