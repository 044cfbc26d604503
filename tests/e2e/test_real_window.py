"""Every real-window scenario (tests/e2e/scenarios/real_*.py), each in its own child process on the Xvfb display."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"


def scenario_ids() -> list[str]:
    """``file::test`` for each test function of the scenario files (parametrised ones run all their cases)."""
    ids = []
    for path in sorted(SCENARIOS.glob("real_*.py")):
        tree = ast.parse(path.read_text())
        ids += [f"{path.name}::{node.name}" for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    return ids


@pytest.mark.parametrize("node_id", scenario_ids())
def test_real_window(run_scenario, node_id):
    run_scenario(node_id)
