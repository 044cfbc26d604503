"""Started without a folder, the app opens the sample project from a copy in the user's data folder: the
bundled ``assets/sample`` (tracked files, often read-only in a bundle) is never edited in place."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.annotations.records import Box
from resyolo_gui import sample
from resyolo_gui.app import _open_sample

ROOT = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder``, with a hash of each file."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RESYOLO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_first_start_without_a_folder_copies_the_sample_and_leaves_assets_alone(data_dir, tmp_path):
    before = snapshot(sample.SAMPLE_FOLDER)
    shot = tmp_path / "window.png"
    result = subprocess.run([sys.executable, "-m", "resyolo_gui.app", "--screenshot", str(shot)],
                            capture_output=True, text=True, timeout=90, cwd=ROOT,
                            env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    copy = data_dir / "sample"
    assert snapshot(sample.SAMPLE_FOLDER) == before  # not a file written, not a lock, not a .resyolo folder
    listed = {name: digest for name, digest in snapshot(copy).items() if not name.startswith(".resyolo")}
    assert listed == before


def test_edits_to_the_sample_go_to_the_copy_with_relative_paths(data_dir, open_window):
    before = snapshot(sample.SAMPLE_FOLDER)
    project = _open_sample()
    assert project.folder == (data_dir / "sample").resolve()
    project.close()
    window = open_window(project.folder)
    ann = window.current_annotation()
    ann.boxes.append(Box(window.project.labels.names[0], 10, 10, 60, 60))
    window.project.mark_dirty(ann)
    window.save()
    written = window.project.label_path(ann)
    assert written.parent == project.folder and len(ET.parse(written).getroot().findall("object")) >= 1
    assert ET.parse(written).getroot().findtext("path") == Path(ann.image_path).name  # not a machine's path
    assert str(data_dir) not in written.read_text()
    assert snapshot(sample.SAMPLE_FOLDER) == before


def test_an_existing_copy_is_reused_as_the_user_left_it(data_dir):
    first = sample.user_sample()
    (first / "synth_0000.xml").unlink()  # the user's own edits to their copy
    (first / "notes.txt").write_text("mine")
    assert sample.user_sample() == first
    assert not (first / "synth_0000.xml").exists() and (first / "notes.txt").read_text() == "mine"
    assert sample.is_bundled_sample(sample.SAMPLE_FOLDER) and _open_sample().folder == first.resolve()  # by name: the copy too


def test_without_a_writable_data_folder_the_bundled_sample_opens_read_only(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("RESYOLO_DATA_DIR", str(blocker))
    before = snapshot(sample.SAMPLE_FOLDER)
    project = _open_sample()
    assert project.folder == sample.SAMPLE_FOLDER and project.read_only
    assert "could not copy the sample project" in capsys.readouterr().err
    project.annotations[0].verified = True
    project.mark_dirty(project.annotations[0])
    assert project.save_all()  # refused, named
    project.save_settings()
    assert snapshot(sample.SAMPLE_FOLDER) == before
