"""What "a label file is still what was read" means: its size, modification time and a hash of its bytes.

Size and mtime alone miss a rewrite of the same length within one mtime tick (FAT and some network file systems
count whole seconds, ext4 and NTFS a few milliseconds of the kernel clock): the hash of the bytes decides. The
readers record the fingerprint of the very bytes they parsed (:func:`recording`, fed by
:func:`engine.annotations.limits.read_label_bytes` from ``fstat`` of the open file): no second ``stat`` or read
per file when a folder opens.
"""
from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple


class Fingerprint(NamedTuple):
    size: int
    mtime_ns: int
    digest: bytes | None  # blake2b-128 of the bytes; None where only the stat is known


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


_recording = threading.local()


@contextmanager
def recording():
    """Collect ``{str(path): Fingerprint}`` of every label file this thread reads meanwhile."""
    sink: dict[str, Fingerprint] = {}
    previous = getattr(_recording, "sink", None)
    _recording.sink = sink
    try:
        yield sink
    finally:
        _recording.sink = previous


def record(path, stat: os.stat_result, data: bytes) -> None:
    """Called by the label reader with the ``fstat`` of the open file and the bytes it read."""
    sink = getattr(_recording, "sink", None)
    if sink is not None:
        sink[str(path)] = Fingerprint(stat.st_size, stat.st_mtime_ns, digest(data))


def of_file(path: Path | str) -> Fingerprint | None:
    """The fingerprint of ``path`` as it is now (its bytes read and hashed); None if there is no such file."""
    try:
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            data = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return Fingerprint(stat.st_size, stat.st_mtime_ns, digest(data))


def of_stat(path: Path | str) -> Fingerprint | None:
    """Size and mtime only (no hash): for a file that was not read."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return Fingerprint(stat.st_size, stat.st_mtime_ns, None)


def changed(path: Path | str, expected: Fingerprint | tuple | None) -> bool:
    """Is ``path`` no longer what ``expected`` recorded? A file that appeared where none was read, or that
    vanished, has changed. Same size: the bytes' hash decides (an mtime-only change, e.g. ``touch``, is no change);
    without a recorded hash, the mtime does."""
    try:
        stat = os.stat(path)
    except OSError:
        return expected is not None
    if expected is None:
        return True
    if stat.st_size != expected[0]:
        return True
    recorded = expected[2] if len(expected) > 2 else None
    if recorded is None:
        return stat.st_mtime_ns != expected[1]
    now = of_file(path)
    return now is None or now.digest != recorded


def quick_changed(stat: os.stat_result, expected: Fingerprint | tuple | None) -> bool:
    """Cheap first look from a directory listing's stat: False means unchanged for sure only when size and mtime
    are those recorded and the file is not fresh (written within the last two seconds: one coarse mtime tick)."""
    if expected is None or stat.st_size != expected[0] or stat.st_mtime_ns != expected[1]:
        return True
    import time

    return time.time_ns() - stat.st_mtime_ns < 2_000_000_000
