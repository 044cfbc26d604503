"""engine.project.project.Opening: a project opened in steps (lock and settings, the first image alone, everything)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from engine.annotations.folder import load_folder
from engine.annotations.records import Box, ImageAnnotation
from engine.annotations.voc import write_voc_xml
from engine.project.lock import ProjectLocked, read_lock
from engine.project.project import Opening, Project


def voc_folder(folder: Path, count: int = 5, broken: int | None = 3) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (40, 30), (10 * i, 0, 0)).save(folder / f"img{i}.jpg")
        write_voc_xml(ImageAnnotation(folder / f"img{i}.jpg", 40, 30, [Box(f"class{i}", 1, 2, 10, 20)]))
    if broken is not None:
        (folder / f"img{broken}.xml").write_text("<annotation><object>")
    return folder


def ultralytics_folder(folder: Path, count: int = 4) -> Path:
    for split in ("train", "val"):
        (folder / "images" / split).mkdir(parents=True)
        (folder / "labels" / split).mkdir(parents=True)
    for i in range(count):
        split = "val" if i == count - 1 else "train"
        Image.new("RGB", (40, 30)).save(folder / "images" / split / f"u{i}.jpg")
        (folder / "labels" / split / f"u{i}.txt").write_text(f"{i % 2} 0.5 0.5 0.25 0.5\n")
    (folder / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames: [a, b]\n")
    return folder


def test_first_only_reads_the_first_label_file_alone(tmp_path):
    folder = voc_folder(tmp_path / "voc")
    first = load_folder(folder, first_only=True)
    assert first.partial and first.image_count == 5 and first.format == "voc"
    assert [a.image_path.name for a in first.annotations] == ["img0.jpg"]
    assert [b.label for b in first.annotations[0].boxes] == ["class0"]
    assert first.errors == [] and list(first.fingerprints) == [folder / "img0.xml"]  # the broken img3.xml: not read
    everything = load_folder(folder)
    assert not everything.partial and len(everything.annotations) == everything.image_count == 5
    assert [str(e.path) for e in everything.errors] == [str(folder / "img3.xml")]


def test_first_only_of_an_ultralytics_layout(tmp_path):
    folder = ultralytics_folder(tmp_path / "u")
    first = load_folder(folder, first_only=True)
    assert first.partial and first.image_count == 4 and first.format == "ultralytics"
    assert [a.image_path for a in first.annotations] == [folder / "images" / "train" / "u0.jpg"]
    assert [b.label for b in first.annotations[0].boxes] == ["a"]
    everything = load_folder(folder)
    assert everything.splits == {"train": [folder / "images" / "train" / f"u{i}.jpg" for i in range(3)],
                                 "val": [folder / "images" / "val" / "u3.jpg"]}
    assert [b.label for a in everything.annotations for b in a.boxes] == ["a", "b", "a", "b"]


def test_a_dataset_file_is_read_whole_even_when_only_the_first_image_is_asked(tmp_path):
    folder = tmp_path / "coco"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (40, 30)).save(folder / f"c{i}.jpg")
    (folder / "annotations.json").write_text(json.dumps({
        "images": [{"id": i + 1, "file_name": f"c{i}.jpg", "width": 40, "height": 30} for i in range(3)],
        "annotations": [{"id": 1, "image_id": 3, "category_id": 1, "bbox": [1, 1, 5, 5]}],
        "categories": [{"id": 1, "name": "x"}]}))
    first = load_folder(folder, first_only=True)
    assert not first.partial and len(first.annotations) == 3 and first.annotations[2].boxes


def test_opening_in_steps_gives_what_open_gives(tmp_path):
    folder = voc_folder(tmp_path / "voc")
    opening = Opening(folder)
    assert read_lock(folder) is not None  # the lock is taken before anything is read
    with pytest.raises(ProjectLocked):  # and held meanwhile: another window of this process is told so
        Project.open(folder)
    preview = opening.preview(opening.read(first_only=True))
    assert preview.read_only and preview.image_count == 5 and len(preview.annotations) == 1
    project = opening.finish(opening.read())
    assert not project.read_only
    project.close()
    reference = Project.open(folder)
    assert [(a.image_path, a.boxes) for a in project.annotations] == [(a.image_path, a.boxes)
                                                                      for a in reference.annotations]
    assert project.labels.names == reference.labels.names and project._fingerprints == reference._fingerprints
    assert {k: [str(e) for e in v] for k, v in project.problems.items()} == \
        {k: [str(e) for e in v] for k, v in reference.problems.items()}
    reference.close()


def test_an_abandoned_opening_lets_go_of_the_folder(tmp_path):
    folder = voc_folder(tmp_path / "voc", broken=None)
    opening = Opening(folder)
    opening.read(first_only=True)
    opening.abandon()
    assert read_lock(folder) is None
    Project.open(folder).close()  # nobody holds it


def test_read_only_opening_takes_no_lock(tmp_path):
    folder = voc_folder(tmp_path / "voc", broken=None)
    opening = Opening(folder, read_only=True)
    assert read_lock(folder) is None
    project = opening.finish(opening.read())
    assert project.read_only and len(project.annotations) == 5
    assert not os.path.exists(folder / ".resyolo" / "lock")
