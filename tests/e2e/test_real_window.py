"""Every real-window scenario (tests/e2e/scenarios/real_*.py), each in its own child process on an Xvfb display:
the default laptop screen, or each of the sizes a scenario file lists in its ``SCREENS``."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"


def _screens(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SCREENS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return [None]  # the default screen of conftest.py


def scenario_cases() -> list:
    """(``file::test``, screen) for each test function of the scenario files, on each of the file's screens."""
    cases = []
    for path in sorted(SCENARIOS.glob("real_*.py")):
        tree = ast.parse(path.read_text())
        screens = _screens(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                node_id = f"{path.name}::{node.name}"
                cases += [pytest.param(node_id, screen, id=node_id if len(screens) == 1 else f"{node_id}@{screen}")
                          for screen in screens]
    return cases


@pytest.mark.parametrize("node_id,screen", scenario_cases())
def test_real_window(run_scenario, node_id, screen):
    run_scenario(node_id, *([screen] if screen else []))
