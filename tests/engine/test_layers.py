"""The house by stage: engine packages import only packages below them (and never Qt or the app); the app's
feature packages never import each other (they meet in resyolo_gui.features)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Lowest first: a package may import itself and the packages before it.
ENGINE_LAYERS = ["io", "annotations", "model", "data", "project", "evaluation", "training", "inference", "commands",
                 "cli"]
FEATURES = ["training", "evaluation", "detection", "live", "folder_detection", "export"]


def imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def engine_package(path: Path) -> str:
    parts = path.relative_to(ROOT / "engine").with_suffix("").parts
    return parts[0]


def engine_files():
    return sorted(p for p in (ROOT / "engine").rglob("*.py") if engine_package(p) not in ("__init__", "__main__"))


def test_every_engine_package_has_its_layer():
    packages = {engine_package(p) for p in engine_files()}
    assert packages <= set(ENGINE_LAYERS), f"engine/ has packages with no layer: {packages - set(ENGINE_LAYERS)}"


@pytest.mark.parametrize("path", engine_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_imports_point_down(path):
    here = ENGINE_LAYERS.index(engine_package(path))
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top not in ("PySide6", "resyolo_gui", "pyqtgraph"), f"{path.name} imports {name}: engine/ never imports Qt"
        if top == "engine" and "." in name:
            target = name.split(".")[1]
            if target in ENGINE_LAYERS:
                assert ENGINE_LAYERS.index(target) <= here, \
                    f"{path.relative_to(ROOT)} ({ENGINE_LAYERS[here]}) imports {name}, a layer above it"


@pytest.mark.parametrize("feature", FEATURES)
def test_feature_packages_do_not_import_each_other(feature):
    others = {f"resyolo_gui.{f}" for f in FEATURES if f != feature} | {"resyolo_gui.main_window"}
    for path in (ROOT / "resyolo_gui" / feature).rglob("*.py"):
        for name in imported_modules(path):
            assert not any(name == o or name.startswith(o + ".") for o in others), \
                f"{path.relative_to(ROOT)} imports {name}: features meet only through resyolo_gui.features"


@pytest.mark.parametrize("feature", FEATURES)
def test_a_feature_package_init_only_installs_it(feature):
    tree = ast.parse((ROOT / "resyolo_gui" / feature / "__init__.py").read_text())
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert defined == ["install"]
