"""The run planner (engine.training.plan) shared by `resyolo train` and the app: run folder naming, the checks, the
resume rules, one config.json whoever plans the run, and runs of the earlier ``exp`` naming. Real files, real
(tiny: 64 px, resnet18, random weights) training steps where a checkpoint is needed."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.data.synth import generate_dataset
from engine.model.checkpoint import load_checkpoint
from engine.project.project import Project
from engine.training.plan import (CONFIG_KEYS, DATA_KEYS, PathSource, ProjectSource, RunRequest, SetupError,
                                  plan_run)
from engine.training.preflight import DataChoice
from engine.training.runs import is_resumable, list_runs, new_run_dir, next_run_dir, read_run, runs_folder

TINY = dict(backbone="resnet18", image_size=64, weights="none")
SETTINGS = {"epochs": 2, "batch_size": 2, "workers": 0, "eval_every": 1}


def make_data(folder: Path) -> Path:
    generate_dataset(folder, num_images=8, num_classes=2, seed=3, fmt="voc", image_size=(64, 64))
    return folder


def carry_out(plan, stop_at_once: bool = False):
    """What `resyolo train` and the app's worker do with a plan."""
    built = plan.build()
    plan.prepare_folder()
    trainer = plan.make_trainer(built)
    plan.record(built=built)
    if stop_at_once:
        trainer.request_stop()  # one batch, then a checkpoint
    result = trainer.fit()
    plan.record(result.status, result.message)
    return result


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_data(tmp_path_factory.mktemp("shapes"))


@pytest.fixture(scope="module")
def stopped_run(data, tmp_path_factory) -> Path:
    """A run stopped after its first batch: last.pt at epoch 0, batch 1 of 3; 2 epochs planned."""
    out = tmp_path_factory.mktemp("runs") / "run1"
    plan = plan_run(RunRequest(PathSource(data), SETTINGS, out=out, **TINY))
    assert carry_out(plan, stop_at_once=True).status == "stopped"
    assert load_checkpoint(out / "last.pt")["batch_in_epoch"] == 1
    return out


def copy_run(run: Path, where: Path) -> Path:
    return Path(shutil.copytree(run, where))


# ---- run folders ---------------------------------------------------------------------------------------------
def test_new_runs_are_numbered_run1_run2_after_the_highest_and_old_names_are_left_alone(tmp_path):
    assert next_run_dir(tmp_path / "none yet") == tmp_path / "none yet" / "run1"
    for name in ("exp", "exp2", "exp7", "run1", "run3", "runner", "run", "run2.bak"):
        (tmp_path / name).mkdir()
    assert next_run_dir(tmp_path) == tmp_path / "run4"  # after run3, even though run2 was deleted
    assert new_run_dir(tmp_path / "project") == runs_folder(tmp_path / "project") / "run1"


def test_a_plan_writes_nothing_until_its_folder_is_prepared_and_takes_the_next_free_name(data, tmp_path):
    plan = plan_run(RunRequest(PathSource(data), SETTINGS, runs_parent=tmp_path / "runs", **TINY))
    assert plan.out == tmp_path / "runs" / "run1" and not (tmp_path / "runs").exists()
    (tmp_path / "runs" / "run1").mkdir(parents=True)  # another run started meanwhile
    assert plan.prepare_folder() == tmp_path / "runs" / "run2" and plan.out.is_dir()


def test_the_app_numbers_its_runs_in_the_project(data, tmp_path):
    folder = make_data(tmp_path / "project")
    project = Project.open(folder)
    try:
        plan = plan_run(RunRequest(ProjectSource(project, DataChoice()), SETTINGS, **TINY))
    finally:
        project.close()
    assert plan.out == folder / ".resyolo" / "runs" / "run1"


# ---- the checks ------------------------------------------------------------------------------------------------
def test_a_folder_holding_a_run_is_refused_naming_its_files(stopped_run, data):
    with pytest.raises(SetupError, match="already holds a run .*config.json.*last.pt.*--resume"):
        plan_run(RunRequest(PathSource(data), SETTINGS, out=stopped_run, **TINY))
    plan = plan_run(RunRequest(PathSource(data), SETTINGS, out=stopped_run, exist_ok=True, **TINY))
    assert plan.replaces


def test_a_class_without_boxes_is_refused_in_a_project_and_noted_for_a_dataset(tmp_path):
    folder = make_data(tmp_path / "data")
    (folder / "classes.txt").write_text((folder / "classes.txt").read_text() + "bird\n")
    plan = plan_run(RunRequest(PathSource(folder), SETTINGS, **TINY, runs_parent=tmp_path / "runs"))
    assert plan.class_names[-1] == "bird" and any("no boxes" in note and "bird" in note for note in plan.notes)
    project = Project.open(folder)
    try:
        with pytest.raises(SetupError, match="“bird” has no boxes"):
            plan_run(RunRequest(ProjectSource(project, DataChoice()), SETTINGS, **TINY))
    finally:
        project.close()


@pytest.mark.parametrize("request_args, expected", [
    (dict(source=PathSource(None)), "DATA is missing"),
    (dict(source=PathSource(Path("nowhere"))), "nowhere: no such folder or list file"),
    (dict(source=ProjectSource(None)), "Open a folder of labelled images first"),
    (dict(image_size=50), "image size must be a positive multiple of 32"),
    (dict(settings={"val": 1}), "unknown training settings: val"),
])
def test_what_must_be_fixed_first_is_said(request_args, expected, data):
    args = {"source": PathSource(data), "settings": SETTINGS, **TINY, **request_args}
    with pytest.raises(SetupError, match=expected):
        plan_run(RunRequest(**args))


# ---- resuming ----------------------------------------------------------------------------------------------------
def test_a_resumed_run_keeps_its_model_classes_settings_folder_and_images(stopped_run, tmp_path):
    run = copy_run(stopped_run, tmp_path / "run1")
    before = json.loads((run / "config.json").read_text())
    plan = plan_run(RunRequest(PathSource(None), {"lr": 5e-4}, resume=run / "last.pt"))
    saved = load_checkpoint(run / "last.pt")
    assert plan.out == run and plan.resume == run / "last.pt" and plan.epochs_done == 0
    assert plan.model_config == saved["model_config"] and plan.class_names == saved["class_names"]
    assert plan.train_config.epochs == 2 and plan.train_config.batch_size == 2 and plan.train_config.lr == 5e-4
    assert plan.weights == "none" and plan.weights_record == "none"
    assert plan.data_record["train_images"] == before["data"]["train_images"]
    assert plan.data_record["val_images"] == before["data"]["val_images"]
    result = carry_out(plan)
    assert result.status == "finished" and result.epochs_done == 2
    after = json.loads((run / "config.json").read_text())
    assert after["resumed_from"] == str(run / "last.pt") and after["started"] == before["started"]
    assert after["train"]["lr"] == 5e-4 and after["status"] == "finished"


@pytest.mark.parametrize("change, expected", [
    (dict(backbone="resnet34"), "--backbone resnet34 differs from the run's resnet18"),
    (dict(image_size=96), "--img-size 96 differs from the run's 64"),
    (dict(head="recipe"), "--head recipe differs from the run's anchor_free"),
    (dict(settings={"preset": "recipe"}), "--preset cannot change a resumed run"),
    (dict(settings={"optimizer": "sgd"}), "--optimizer sgd differs from the run's adamw"),
    (dict(weights="imagenet"), "--weights imagenet cannot be used with --resume"),
    (dict(exist_ok=True), "give only one of them"),
    (dict(settings={"epochs": 0}), "epochs and batch size must be at least 1"),
])
def test_a_resumed_run_refuses_what_would_make_another_run(stopped_run, change, expected):
    args = {"source": PathSource(None), "resume": stopped_run / "last.pt", **change}
    with pytest.raises(SetupError, match=expected):
        plan_run(RunRequest(**args))


def test_only_a_runs_last_checkpoint_resumes_and_only_while_epochs_remain(stopped_run, tmp_path):
    run = copy_run(stopped_run, tmp_path / "run1")
    state = load_checkpoint(run / "last.pt")
    state["epoch"] = 2
    state["model_config"] = state["model_config"].to_dict()
    import torch

    torch.save(state, run / "last.pt")
    with pytest.raises(SetupError, match="already trained 2 of 2 epochs; pass --epochs N"):
        plan_run(RunRequest(PathSource(None), resume=run / "last.pt"))
    assert plan_run(RunRequest(PathSource(None), {"epochs": 3}, resume=run / "last.pt")).epochs_done == 2
    del state["optimizer"]
    torch.save(state, run / "best.pt")
    with pytest.raises(SetupError, match=r"best.pt holds no optimiser state.*--weights"):
        plan_run(RunRequest(PathSource(None), resume=run / "best.pt"))


def test_a_resumed_run_trains_on_its_own_images_not_on_those_added_since(stopped_run, data, tmp_path):
    run = copy_run(stopped_run, tmp_path / "run1")
    recorded = json.loads((run / "config.json").read_text())["data"]
    moved = Path(shutil.copytree(data, tmp_path / "data"))
    record = json.loads((run / "config.json").read_text())
    record["data"]["train"] = str(moved)
    (run / "config.json").write_text(json.dumps(record))
    generate_dataset(tmp_path / "more", num_images=2, num_classes=2, seed=9, fmt="voc", image_size=(64, 64))
    for extra in (tmp_path / "more").glob("synth_*"):
        shutil.copy(extra, moved / extra.name.replace("synth_", "new_"))
    gone = moved / recorded["train_images"][0]
    gone.unlink()
    plan = plan_run(RunRequest(PathSource(None), resume=run / "last.pt"))
    assert plan.data_record["train_images"] == recorded["train_images"][1:]
    assert plan.data_record["val_images"] == recorded["val_images"]
    assert any("1 of the run's images are no longer" in note for note in plan.notes)
    assert any("2 labelled image(s)" in note and "left out" in note for note in plan.notes)
    # new data given: a new split of it, as for any run
    fresh = plan_run(RunRequest(PathSource(moved), resume=run / "last.pt"))
    assert len(fresh.data_record["train_images"]) + len(fresh.data_record["val_images"]) == 9


# ---- one config.json ---------------------------------------------------------------------------------------------
def test_the_command_line_and_the_app_plan_the_same_run_alike(tmp_path):
    """The same folder and settings, planned from a path (`resyolo train`) and from the open project (the app):
    the same config.json but for the times."""
    folder = make_data(tmp_path / "project")
    records = []
    for source in ("path", "project"):
        project = Project.open(folder) if source == "project" else None
        try:
            origin = PathSource(folder) if project is None else ProjectSource(project, DataChoice())
            plan = plan_run(RunRequest(origin, SETTINGS, out=tmp_path / f"out-{source}", **TINY))
            built = plan.build()
            plan.prepare_folder()
            records.append(json.loads(plan.record(built=built).read_text()))
        finally:
            if project is not None:
                project.close()
    for record in records:
        assert tuple(record) == CONFIG_KEYS and tuple(record["data"]) == DATA_KEYS and record["status"] == "running"
        del record["started"]
    assert records[0] == records[1]
    assert len(records[0]["data"]["val_images"]) == 2 and not records[0]["data"]["train_images"][0].startswith("/")


# ---- runs named the earlier way --------------------------------------------------------------------------------
def old_style(run: Path, data: Path) -> None:
    """Rewrite ``run``'s config.json as `resyolo train` wrote it before the planner: counts, no status."""
    record = json.loads((run / "config.json").read_text())
    record["data"] = {"train": str(data), "val": None, "val_fraction": 0.2, "split_seed": 0,
                      "train_images": len(record["data"]["train_images"]),
                      "val_images": len(record["data"]["val_images"])}
    for key in ("status", "message", "ended", "started", "resumed", "resumed_from", "weights_loaded"):
        del record[key]
    (run / "config.json").write_text(json.dumps(record))


def test_an_exp_folder_of_the_earlier_naming_is_listed_and_resumed(stopped_run, tmp_path):
    project = make_data(tmp_path / "project")
    run = copy_run(stopped_run, runs_folder(project) / "exp2")
    old_style(run, project)
    (runs_folder(project) / "run1").mkdir()
    listed = {r.name: r for r in list_runs(project)}
    assert set(listed) == {"exp2", "run1"} and is_resumable(listed["exp2"])
    assert listed["exp2"].image_paths("val", project) == []  # counts, not lists: nothing to mistake for paths
    assert new_run_dir(project).name == "run2"

    cli = plan_run(RunRequest(PathSource(None), resume=run / "last.pt"))  # `resyolo train --resume .../exp2/last.pt`
    assert cli.out == run and len(cli.data.train) == 6 and len(cli.data.val) == 2  # split again, as recorded
    opened = Project.open(project)
    try:
        app = plan_run(RunRequest(ProjectSource(opened), {"workers": 0}, resume=run / "last.pt"))
        assert app.out == run and app.data_record["val_images"] == cli.data_record["val_images"]
        assert carry_out(app).status == "finished"
    finally:
        opened.close()
    resumed = read_run(run)
    assert resumed.config["status"] == "finished" and len(resumed.results) == 2 and not is_resumable(resumed)
    assert len(resumed.image_paths("val", project)) == 2  # recorded now
