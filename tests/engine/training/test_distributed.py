"""`torchrun --nproc_per_node 2 -m engine train ...` on the CPU (gloo): two real processes train one model with
DistributedDataParallel; rank 0 alone prints and writes the run folder."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine.model.checkpoint import model_from_checkpoint
from engine.training.results_csv import read_results
from engine.data.synth import generate_dataset

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(120)
def test_two_processes_train_one_run(tmp_path):
    data = tmp_path / "data"
    generate_dataset(data, num_images=8, num_classes=2, seed=5, fmt="voc", image_size=(64, 64))
    out = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               "-m", "engine", "train", str(data), "--epochs", "2", "--batch", "2", "--img-size", "64",
               "--backbone", "resnet18", "--weights", "none", "--workers", "0", "--eval-every", "1",
               "--device", "cpu", "--out", str(out / "exp")]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=110)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert "distributed: 2 processes joined (ranks 0, 1, backend gloo)" in log
    assert log.count("Done: 2 epoch(s)") == 1 and log.count("data: 6 training") == 1  # rank 0 alone prints

    assert [p.name for p in out.rglob("results.csv")] == ["results.csv"]  # one run folder, written once
    rows = read_results(out / "exp" / "results.csv")
    assert [row["epoch"] for row in rows] == [1.0, 2.0]
    assert all(row["loss"] > 0 and row["map50"] >= 0 for row in rows)
    model, classes, state = model_from_checkpoint(out / "exp" / "last.pt")
    assert classes == ["circle", "square"] and state["epoch"] == 2
    # 6 training images, 3 per process, batch 2 per process: one step per epoch for the pair.
    assert state["global_step"] == 2
