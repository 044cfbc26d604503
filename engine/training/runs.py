"""Training runs: folders with ``config.json``, ``results.csv``, ``last.pt`` and ``best.pt`` (written by the run
planner, :mod:`engine.training.plan`, and the trainer). The app keeps a project's runs in
``PROJECT/.resyolo/runs/<name>/``; ``resyolo train`` in ``runs/train/<name>/`` unless told otherwise.

New run folders are numbered one way, ``run1``, ``run2``, ... (:func:`next_run_dir`). A folder of any other name in
a runs folder (``exp``, ``exp2``: what ``resyolo train`` made before) is still a run: listed, resumable, deletable.

A run records in ``config.json`` under ``"data"`` the image paths it used (``"train_images"`` and
``"val_images"``, relative to its data folder: the project), so its evaluation can be repeated on exactly its
validation images and a resumed run trains on the same images. Runs written before that hold counts there.
"""
from __future__ import annotations

import json
import re
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
        listed = self.config.get("data", {}).get(f"{which}_images")
        if not isinstance(listed, list):  # runs from before the lists were recorded hold a count
            return []
        return [(Path(project_folder) / p) if not Path(p).is_absolute() else Path(p) for p in listed]

    def best_map50(self) -> float | None:
        """The figure its ``best.pt`` earned: the highest mAP@0.5 of the plain or the EMA weights (the trainer's
        choice of "best"; :func:`engine.model.checkpoint.inference_weights` detects with that set)."""
        values = [v for r in self.results for v in (r.get("map50"), r.get("ema_map50")) if v is not None and v == v]
        return max(values) if values else None


def runs_folder(project_folder: Path | str) -> Path:
    return Path(project_folder) / RUNS_DIR


RUN_PREFIX = "run"
_NUMBERED = re.compile(rf"{RUN_PREFIX}(\d+)")


def next_run_dir(parent: Path | str) -> Path:
    """The folder for the next run in ``parent``: ``run<N>``, N one more than the highest ``run<N>`` there
    (``run1`` in an empty or new folder), so names follow the order runs were started in, even after deletions.
    Folders of other names (an earlier version's ``exp``, ``exp2``) are left alone and do not count."""
    parent = Path(parent)
    try:
        numbers = [int(m.group(1)) for p in parent.iterdir() if (m := _NUMBERED.fullmatch(p.name))]
    except OSError:  # no such folder yet
        numbers = []
    return parent / f"{RUN_PREFIX}{max(numbers, default=0) + 1}"


def new_run_dir(project_folder: Path | str) -> Path:
    """A fresh, not yet existing folder for the project's next run (:func:`next_run_dir` of its runs folder)."""
    return next_run_dir(runs_folder(project_folder))


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
    _refuse_if_training_elsewhere(read_run(path))
    size = run_size(path)
    shutil.rmtree(path)
    return size


def may_be_training_elsewhere(run: RunInfo) -> float | None:
    """Seconds since ``run`` was last written, when it is not marked ended and that was under ``RECENT_S`` ago
    (it may be training in another program); else None."""
    if run.config.get("status") in ENDED:
        return None
    newest = max((p.stat().st_mtime for p in Path(run.path).rglob("*") if p.is_file()), default=0.0)
    age = time.time() - newest
    return age if age < RECENT_S else None


def _refuse_if_training_elsewhere(run: RunInfo) -> None:
    age = may_be_training_elsewhere(run)
    if age is not None:
        raise RunInUse(f"run {run.name} was written {age:.0f} s ago and is not marked ended: "
                       "it may be training in another program")


def is_resumable(run: RunInfo) -> bool:
    """Whether ``run`` can be continued: it has a ``last.pt`` and did not finish (stopped, failed, interrupted,
    or fewer epochs in its results than it planned). Whether it is training now is for the caller to say."""
    if run.last_checkpoint is None or run.config.get("status") == "finished":
        return False
    planned = run.config.get("train", {}).get("epochs")
    return not isinstance(planned, int) or len(run.results) < planned
