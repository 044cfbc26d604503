"""Packaging files: the desktop-entry installer run for real into a temporary home; the PyInstaller spec's
contents. Building the bundle itself takes many minutes and gigabytes, so it is not part of the suite: run
``packaging/build_bundle.sh`` (see docs/user-guide.md)."""
from __future__ import annotations

import ast
import configparser
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "packaging" / "install-desktop-entry.sh"


def run_installer(data_home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    return subprocess.run(["bash", str(INSTALLER), *args], env=env, capture_output=True, text=True, timeout=60)


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(path)
    return parser["Desktop Entry"]


def test_installer_puts_entry_and_icon_in_the_user_data_folder(tmp_path):
    result = run_installer(tmp_path)
    assert result.returncode == 0, result.stderr
    entry = read_entry(tmp_path / "applications" / "resyolo.desktop")
    assert (entry["Type"], entry["Name"], entry["Icon"], entry["Exec"]) == ("Application", "ResYOLO", "resyolo",
                                                                             "resyolo-gui %f")
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "resyolo.svg"
    assert icon.read_bytes() == (ROOT / "assets" / "icons" / "app.svg").read_bytes()

    assert run_installer(tmp_path, "--uninstall").returncode == 0
    assert not icon.exists() and not (tmp_path / "applications" / "resyolo.desktop").exists()


def test_installer_points_the_entry_at_a_bundle(tmp_path):
    bundle = tmp_path / "my apps" / "resyolo"  # a space in the path: the Exec line must quote it
    bundle.mkdir(parents=True)
    (bundle / "resyolo").write_text("#!/bin/sh\n")
    (bundle / "resyolo").chmod(0o755)
    result = run_installer(tmp_path / "share", "--bundle", str(bundle))
    assert result.returncode == 0, result.stderr
    assert read_entry(tmp_path / "share" / "applications" / "resyolo.desktop")["Exec"] == f'"{bundle}/resyolo" %f'


def test_installer_refuses_a_folder_without_the_bundle(tmp_path):
    result = run_installer(tmp_path / "share", "--bundle", str(tmp_path))
    assert result.returncode == 2 and "resyolo is not there" in result.stderr
    assert not (tmp_path / "share" / "applications").exists()


@pytest.mark.parametrize("needed", ["resyolo_launcher.py", "assets", 'collect_submodules("engine")',
                                    'collect_submodules("resyolo_gui")', "COLLECT(",
                                    "binaries=torchvision_extensions"])
def test_spec_builds_a_folder_with_the_app_engine_and_assets(needed):
    spec = (ROOT / "packaging" / "resyolo.spec").read_text()
    ast.parse(spec)  # at least valid Python
    assert needed in spec


def test_launcher_calls_freeze_support_before_anything_else():
    tree = ast.parse((ROOT / "packaging" / "resyolo_launcher.py").read_text())
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    first = main.body[0]
    assert isinstance(first, ast.Expr) and ast.unparse(first) == "multiprocessing.freeze_support()"
