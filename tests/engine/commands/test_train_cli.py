"""`resyolo train` end to end on tiny generated data (64 px, resnet18, random weights, no loader workers):
the run folder it writes, refusing to overwrite a run, resuming, Ctrl+C, and the error paths (exit code 2,
a message naming the file, no traceback)."""
from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from engine.model.checkpoint import load_checkpoint
from engine.cli import main
from engine.commands import train_console
from engine.training.results_csv import read_results
from engine.data.synth import generate_dataset
from engine.training.plan import CONFIG_KEYS
from engine.training.setup import SetupError, load_training_data

FAST = ["--epochs", "1", "--batch", "2", "--img-size", "64", "--backbone", "resnet18", "--weights", "none",
        "--workers", "0"]


def train(*args) -> int:
    return main(["train", *map(str, args)])


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shapes")
    generate_dataset(folder, num_images=8, num_classes=2, seed=3, fmt="voc", image_size=(64, 64))
    return folder


@pytest.fixture(scope="module")
def trained_run(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "exp"
    assert train(data, *FAST, "--out", out) == 0
    return out


def numbers(row: dict) -> dict:
    return {k: v for k, v in row.items() if v == v}  # NaN (an empty cell) equals nothing, itself included


def copy_run(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / "run"))


def test_writes_the_run_folder(trained_run, data):
    assert sorted(p.name for p in trained_run.iterdir()) == ["best.pt", "config.json", "last.pt", "results.csv"]
    rows = read_results(trained_run / "results.csv")
    assert [row["epoch"] for row in rows] == [1.0]
    assert rows[0]["map50"] >= 0  # the only epoch is the last one: always evaluated
    config = json.loads((trained_run / "config.json").read_text())
    assert config["model"]["backbone"] == "resnet18" and config["model"]["image_size"] == 64
    assert config["classes"] == ["circle", "square"]
    assert config["train"]["epochs"] == 1 and config["train"]["ema"] is True
    assert tuple(config) == CONFIG_KEYS and config["status"] == "finished" and config["ended"]
    assert config["weights"] == "none" and config["resumed_from"] is None and config["world_size"] == 1
    listed = config["data"].pop("train_images"), config["data"].pop("val_images")
    assert config["data"] == {"train": str(data), "val": None, "val_fraction": 0.2, "split_seed": 0, "split": None,
                              "val_split": None, "verified_only": False}
    assert [len(images) for images in listed] == [6, 2]  # relative to DATA, as the app records its images
    assert sorted(listed[0] + listed[1]) == sorted(p.name for p in data.glob("*.jpg"))
    checkpoint = load_checkpoint(trained_run / "last.pt")
    assert checkpoint["epoch"] == 1 and checkpoint["class_names"] == ["circle", "square"]


def test_refuses_a_folder_that_holds_a_run(trained_run, data, capsys):
    before = (trained_run / "last.pt").read_bytes()
    assert train(data, *FAST, "--out", trained_run) == 2
    err = capsys.readouterr().err
    assert f"{trained_run} already holds a run" in err and "--resume" in err and "--exist-ok" in err
    assert (trained_run / "last.pt").read_bytes() == before


def test_exist_ok_replaces_the_run_lists_broken_label_files_and_warns_once(trained_run, data, tmp_path,
                                                                         monkeypatch, capsys):
    run = copy_run(trained_run, tmp_path)
    broken_data = Path(shutil.copytree(data, tmp_path / "data"))
    (broken_data / "synth_0005.xml").write_text("<annotation><object>")  # malformed XML
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no cached ImageNet file, and offline
    monkeypatch.setenv("RESYOLO_OFFLINE", "1")
    assert train(broken_data, *FAST, "--weights", "imagenet", "--val-fraction", "0", "--no-ema", "--out", run,
                 "--exist-ok") == 0
    out, err = capsys.readouterr()
    assert "1 label file(s) could not be read" in err and "synth_0005.xml" in err
    assert err.count("ImageNet weights for resnet18 could not be loaded") == 1
    assert "warning: ImageNet weights" in err and "weights: random (see the warning above)" in out
    assert "7 training, no validation image(s)" in out and "EMA off" in out
    assert "epoch 1/1  loss " in out and "ciou " in out and "mAP50" not in out  # nothing to validate on
    assert not (run / "best.pt").exists()  # the earlier run's best.pt is not passed off as this run's
    listed = json.loads((run / "config.json").read_text())["data"]["train_images"]
    assert len(listed) == 7 and "synth_0005.jpg" not in listed


def test_without_out_runs_are_numbered_run1_run2_beside_the_old_exp_folders(data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for old in ("exp", "exp2"):  # what earlier versions numbered: left alone, not counted
        (tmp_path / "runs" / "train" / old).mkdir(parents=True)
    assert train(data, *FAST, "--val-fraction", "0") == 0
    assert train(data, *FAST, "--val-fraction", "0") == 0
    assert sorted(p.name for p in (tmp_path / "runs" / "train").iterdir()) == ["exp", "exp2", "run1", "run2"]
    assert "run folder: runs/train/run2" in capsys.readouterr().out
    assert (tmp_path / "runs" / "train" / "run2" / "last.pt").is_file()


def test_resume_continues_the_run_with_its_own_data(trained_run, tmp_path, capsys):
    run = copy_run(trained_run, tmp_path)
    first_row = numbers(read_results(run / "results.csv")[0])
    assert train("--resume", run / "last.pt", "--epochs", "2") == 0  # DATA and --out from the run
    assert "resuming after epoch 1" in capsys.readouterr().out
    rows = read_results(run / "results.csv")
    assert [row["epoch"] for row in rows] == [1.0, 2.0] and numbers(rows[0]) == first_row
    assert load_checkpoint(run / "last.pt")["epoch"] == 2
    before, after = (json.loads((folder / "config.json").read_text()) for folder in (trained_run, run))
    assert after["resumed_from"] == str(run / "last.pt") and after["started"] == before["started"]
    assert after["train"]["epochs"] == 2 and after["status"] == "finished"
    assert {k: after["data"][k] for k in ("train_images", "val_images")} == {
        k: before["data"][k] for k in ("train_images", "val_images")}  # the very images it trained on


def test_resume_of_a_finished_run_asks_for_more_epochs(trained_run, capsys):
    assert train("--resume", trained_run / "last.pt") == 2
    assert "already trained 1 of 1 epochs" in capsys.readouterr().err


@pytest.mark.parametrize("option, expected", [
    (["--backbone", "resnet34"], "--backbone resnet34 differs from the run's resnet18"),
    (["--optimizer", "sgd"], "--optimizer sgd differs from the run's adamw"),
    (["--preset", "recipe"], "--preset cannot change a resumed run"),
    (["--weights", "imagenet"], "--weights imagenet cannot be used with --resume"),
    (["--exist-ok"], "give only one of them"),
])
def test_resume_refuses_what_would_make_another_run(trained_run, option, expected, capsys):
    before = (trained_run / "config.json").read_text()
    assert train("--resume", trained_run / "last.pt", "--epochs", "2", *option) == 2
    assert expected in capsys.readouterr().err
    assert (trained_run / "config.json").read_text() == before


def test_ctrl_c_saves_a_checkpoint_and_exits_130(data, tmp_path, monkeypatch, capsys):
    real_update = train_console.EpochProgress._update_bar

    def press_ctrl_c_once(self, batch):
        real_update(self, batch)
        if batch.batch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(train_console.EpochProgress, "_update_bar", press_ctrl_c_once)
    out = tmp_path / "run"
    assert train(data, *FAST, "--epochs", "3", "--out", out) == 130
    err = capsys.readouterr().err
    assert f"Checkpoint saved: {out / 'last.pt'}" in err and f"--resume {out / 'last.pt'}" in err
    saved = load_checkpoint(out / "last.pt")
    assert saved["epoch"] == 0 and saved["batch_in_epoch"] == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


@pytest.mark.parametrize("problem, expected", [
    ("missing", "no such folder or list file"),
    ("unlabelled", "none of its 2 image(s) is labelled"),
    ("bad-weights", "is not a readable PyTorch file"),
    ("missing-weights", "does not exist"),
    ("unknown-val-class", "validation data: 1 box(es) use classes not in the class list"),
    ("img-size", "image size must be a positive multiple of 32"),
])
def test_bad_input_is_a_clear_error(problem, expected, data, tmp_path, capsys):
    args = [data, *FAST, "--out", tmp_path / "run"]
    if problem == "missing":
        args[0] = tmp_path / "nowhere"
    elif problem == "unlabelled":
        args[0] = tmp_path / "pictures"
        args[0].mkdir()
        for name in ("a.jpg", "b.jpg"):
            shutil.copy(data / "synth_0000.jpg", args[0] / name)
    elif problem in ("bad-weights", "missing-weights"):
        weights = tmp_path / "weights.pt"
        if problem == "bad-weights":
            weights.write_bytes(b"not a checkpoint")
        args += ["--weights", weights]
    elif problem == "unknown-val-class":
        val = Path(shutil.copytree(data, tmp_path / "val"))
        xml = val / "synth_0001.xml"
        xml.write_text(xml.read_text().replace("<name>circle</name>", "<name>Circle</name>", 1))
        args += ["--val", val]
    elif problem == "img-size":
        args += ["--img-size", "50"]
    assert train(*args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing written for a run that never started


def test_list_file_selects_images_and_reports_only_their_problems(data, tmp_path):
    folder = Path(shutil.copytree(data, tmp_path / "data"))
    (folder / "synth_0007.xml").write_text("<annotation>")  # broken, but not listed
    (folder / "synth_0002.xml").write_text("<annotation>")  # broken and listed
    listing = tmp_path / "train.txt"
    listing.write_text("# darknet style\ndata/synth_0000.jpg\ndata/synth_0001.jpg\ndata/synth_0002.jpg\n")
    loaded = load_training_data(listing, val_fraction=0)
    assert [a.image_path.name for a in loaded.train] == ["synth_0000.jpg", "synth_0001.jpg"]
    assert [p.path.name for p in loaded.problems] == ["synth_0002.xml"]
    listing.write_text("data/synth_0000.jpg\ndata/absent.jpg\n")
    with pytest.raises(SetupError, match="absent.jpg"):
        load_training_data(listing)
