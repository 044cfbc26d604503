"""Pruning a project's runs (engine.training.runs.delete_run): only its own run folders, never one training."""
import json
import os
import time

import pytest

from engine.training.runs import RunInUse, delete_run, list_runs, runs_folder


def make_run(project, name, status=None, age_s=3600.0):
    run = runs_folder(project) / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"status": status} if status else {}))
    (run / "last.pt").write_bytes(b"\0" * 1000)
    then = time.time() - age_s
    for path in run.iterdir():
        os.utime(path, (then, then))
    return run


def test_an_ended_or_long_interrupted_run_is_deleted_and_its_size_returned(tmp_path):
    ended = make_run(tmp_path, "run1", "finished", age_s=1)
    interrupted = make_run(tmp_path, "run2", "running", age_s=3600)  # the app was killed an hour ago
    assert delete_run(tmp_path, ended) == 1000 + len(json.dumps({"status": "finished"}))
    assert delete_run(tmp_path, interrupted) > 1000
    assert list_runs(tmp_path) == [] and runs_folder(tmp_path).is_dir()


def test_a_run_training_here_or_elsewhere_is_not_deleted(tmp_path):
    here = make_run(tmp_path, "run1", "finished")
    with pytest.raises(RunInUse, match="run1 is training"):
        delete_run(tmp_path, here, active_run=here)
    elsewhere = make_run(tmp_path, "run2", "running", age_s=5)  # written 5 s ago, not marked ended
    cli = make_run(tmp_path, "run3", None, age_s=5)  # `resyolo train --out` records no status
    for run in (elsewhere, cli):
        with pytest.raises(RunInUse, match="may be training in another program"):
            delete_run(tmp_path, run)
    assert here.is_dir() and elsewhere.is_dir() and cli.is_dir()


def test_only_the_projects_own_run_folders_can_be_deleted(tmp_path):
    project = tmp_path / "project"
    make_run(project, "run1", "finished")
    for target in (project, runs_folder(project), tmp_path, project / ".resyolo" / "runs" / "run1" / "last.pt",
                   runs_folder(project) / "run1" / ".." / ".." / "..", runs_folder(project) / "gone"):
        with pytest.raises(ValueError, match="is not a run of the project"):
            delete_run(project, target)
    assert (runs_folder(project) / "run1").is_dir()
