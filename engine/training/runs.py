"""Training runs kept in a project: ``PROJECT/.resyolo/runs/<name>/`` with ``config.json``, ``results.csv``,
``last.pt`` and ``best.pt`` (the files the trainer and `resyolo train` write).

A run started from the app records in ``config.json`` under ``"data"`` the image paths it used:
``{"train_images": [...], "val_images": [...], "split_seed": int, "val_fraction": float}`` (paths relative to the
project folder), so its evaluation can be repeated on exactly its validation images.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.training.results_csv import read_results

RUNS_DIR = Path(".resyolo") / "runs"
ENDED = ("finished", "stopped", "failed")  # statuses a run's config.json holds once its trainer has let go
RECENT_S = 120.0  # a run not marked ended and written this recently may be training in another program


class RunInUse(RuntimeError):
    """The run is training (here, or by the look of its files in another program): it is not deleted."""


@dataclass
class RunInfo:
    name: str
    path: Path
    config: dict = field(default_factory=dict)
    results: list[dict] = field(default_factory=list)

    @property
    def last_checkpoint(self) -> Path | None:
        path = self.path / "last.pt"
        return path if path.is_file() else None

    @property
    def best_checkpoint(self) -> Path | None:
        path = self.path / "best.pt"
        return path if path.is_file() else None

    def image_paths(self, which: str, project_folder: Path) -> list[Path]:
        """``which`` = "train" or "val": the run's images, as absolute paths."""
        listed = self.config.get("data", {}).get(f"{which}_images", [])
        return [(Path(project_folder) / p) if not Path(p).is_absolute() else Path(p) for p in listed]

    def best_map50(self) -> float | None:
        """The figure its ``best.pt`` earned: the highest mAP@0.5 of the plain or the EMA weights (the trainer's
        choice of "best"; :func:`engine.model.checkpoint.inference_weights` detects with that set)."""
        values = [v for r in self.results for v in (r.get("map50"), r.get("ema_map50")) if v is not None and v == v]
        return max(values) if values else None


def runs_folder(project_folder: Path | str) -> Path:
    return Path(project_folder) / RUNS_DIR


def new_run_dir(project_folder: Path | str, name: str = "run") -> Path:
    """A fresh, not yet existing folder for the next run: run1, run2, ..."""
    parent = runs_folder(project_folder)
    number = 1
    while (parent / f"{name}{number}").exists():
        number += 1
    return parent / f"{name}{number}"


def read_run(path: Path | str) -> RunInfo:
    path = Path(path)
    config = {}
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass  # a run whose settings were never written (stopped at once) or were damaged: still listed
    return RunInfo(path.name, path, config, read_results(path / "results.csv"))


def list_runs(project_folder: Path | str) -> list[RunInfo]:
    """The project's runs, newest first."""
    parent = runs_folder(project_folder)
    if not parent.is_dir():
        return []
    runs = [read_run(p) for p in parent.iterdir() if p.is_dir()]
    return sorted(runs, key=lambda r: r.path.stat().st_mtime, reverse=True)


def run_size(path: Path | str) -> int:
    """Bytes taken by the files of a run folder."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def delete_run(project_folder: Path | str, run_path: Path | str, active_run: Path | str | None = None) -> int:
    """Delete run folder ``run_path`` of the project (its checkpoints, results and settings); returns the bytes
    freed. Raises ValueError for a folder that is not one of the project's runs, and :class:`RunInUse` for the
    run training now (``active_run``) or one that may be training elsewhere: not marked ended in its
    ``config.json`` and written in the last ``RECENT_S`` seconds."""
    parent = runs_folder(project_folder).resolve()
    path = Path(run_path).resolve()
    if path.parent != parent or not path.is_dir():
        raise ValueError(f"{run_path} is not a run of the project in {project_folder}")
    if active_run is not None and Path(active_run).resolve() == path:
        raise RunInUse(f"run {path.name} is training; stop it before deleting it")
    run = read_run(path)
    if run.config.get("status") not in ENDED:
        newest = max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)
        if time.time() - newest < RECENT_S:
            raise RunInUse(f"run {path.name} was written {time.time() - newest:.0f} s ago and is not marked ended: "
                           "it may be training in another program")
    size = run_size(path)
    shutil.rmtree(path)
    return size
