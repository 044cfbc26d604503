"""The engine modules the labelling app loads while no model is used import neither torch nor torchvision
(``import torch`` alone is most of a gigabyte resident); what only a model needs is imported where it is used."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.model.components import ALL_COMPONENTS, ANCHOR_FREE_COMPONENTS, RECIPE_COMPONENTS

ROOT = Path(__file__).resolve().parents[2]
LIGHT = ["engine.model.components", "engine.model.imagenet_files", "engine.data.augment_config",
         "engine.training.config", "engine.model.checkpoint", "engine.model.device", "engine.training.events",
         "engine.training.results_csv", "engine.training.runs", "engine.training.setup", "engine.training.preflight",
         "engine.training.plan", "engine.inference.autolabel", "engine.inference.draw", "engine.inference.outputs",
         "engine.inference.snapshot", "engine.inference.prediction_outputs", "engine.inference.scoring",
         "engine.inference.sources", "engine.inference.latest_frame"]


def test_light_modules_import_without_torch():
    code = ("import importlib, sys\n"
            f"for name in {LIGHT!r}: importlib.import_module(name)\n"
            "heavy = sorted(m for m in ('torch', 'torchvision') if m in sys.modules)\n"
            "assert not heavy, heavy\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-3000:]


def test_components_are_those_the_losses_report():
    from engine.model import heads, loss, loss_modern

    assert RECIPE_COMPONENTS == loss.COMPONENTS and ANCHOR_FREE_COMPONENTS == loss_modern.COMPONENTS
    assert heads.ALL_COMPONENTS == ALL_COMPONENTS == tuple(dict.fromkeys((*loss.COMPONENTS, *loss_modern.COMPONENTS)))


@pytest.mark.parametrize("torch_home", [None, "custom"])
def test_imagenet_file_names_are_torchvisions(monkeypatch, tmp_path, torch_home):
    from engine.model import imagenet_files, weights
    from engine.model.config import BACKBONES

    if torch_home:
        monkeypatch.setenv("TORCH_HOME", str(tmp_path / torch_home))
    monkeypatch.delitem(sys.modules, "torch.hub")  # the rule used before torch is loaded
    for backbone in BACKBONES:
        assert imagenet_files.imagenet_cache_path(backbone) == weights.imagenet_cache_path(backbone), backbone
