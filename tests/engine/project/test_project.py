"""engine.project.project: opening a folder, class edits, saving, backups of malformed files, formats."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.annotations.coco import read_coco_json
from engine.annotations.folder import load_folder
from engine.annotations.records import Box, ImageAnnotation
from engine.annotations.voc import read_voc_xml, write_voc_xml
from engine.project.project import Project, ProjectError, SaveError, backup_path_for


def make_folder(folder: Path, count=4, labelled=2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(np.full((40, 60, 3), 30 * i, np.uint8)).save(folder / f"img{i}.png")
        if i < labelled:
            boxes = [Box("cat", 1, 2, 20, 30), Box("dog", 10, 5, 50, 35, difficult=True)]
            write_voc_xml(ImageAnnotation(folder / f"img{i}.png", 60, 40, boxes))
    return folder


def test_open_lists_every_image_with_its_labels(tmp_path):
    project = Project.open(make_folder(tmp_path / "p"))
    assert [a.image_path.name for a in project.annotations] == ["img0.png", "img1.png", "img2.png", "img3.png"]
    assert project.format == "voc" and project.labels.names == ["cat", "dog"]
    assert [len(a.boxes) for a in project.annotations] == [2, 2, 0, 0]
    assert project.classes.box_counts() == {"cat": 2, "dog": 2}
    assert not project.has_unsaved_changes()


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ProjectError, match="Folder not found: .*nowhere"):
        Project.open(tmp_path / "nowhere")


def test_save_round_trips_through_load_folder(tmp_path):
    project = Project.open(make_folder(tmp_path / "p"))
    ann = project.annotations[2]
    ann.boxes.append(Box("dog", 3, 4, 33, 24))
    project.mark_dirty(ann)
    assert project.is_dirty(ann)
    assert project.save_all() == []
    assert not project.is_dirty(ann) and not project.has_unsaved_changes()
    reloaded = load_folder(project.folder)
    assert reloaded.annotations[2].boxes == [Box("dog", 3, 4, 33, 24)]
    assert (project.folder / ".resyolo" / "project.json").exists()


def test_malformed_label_untouched_until_edited_then_backed_up(tmp_path):
    folder = make_folder(tmp_path / "p")
    bad = folder / "img3.xml"
    bad.write_text("<annotation><object>")
    project = Project.open(folder)
    ann = project.annotations[3]
    assert project.errors[ann.image_path].path == bad
    project.save_all()
    assert bad.read_text() == "<annotation><object>"  # not edited: left alone

    ann.boxes.append(Box("cat", 1, 1, 10, 10))
    project.mark_dirty(ann)
    assert project.save_all() == []
    assert (folder / "img3.xml.bak").read_text() == "<annotation><object>"
    assert read_voc_xml(bad).boxes == [Box("cat", 1, 1, 10, 10)]
    assert ann.image_path not in project.errors


def test_backup_never_overwrites_an_older_backup(tmp_path):
    original = tmp_path / "a.xml"
    original.write_text("x")
    (tmp_path / "a.xml.bak").write_text("older")
    assert backup_path_for(original) == tmp_path / "a.xml.1.bak"
    (tmp_path / "a.xml.1.bak").write_text("older still")
    assert backup_path_for(original) == tmp_path / "a.xml.2.bak"


def test_class_edits_change_every_image_and_mark_them_dirty(tmp_path):
    project = Project.open(make_folder(tmp_path / "p"))
    project.classes.rename("cat", "kitten")
    assert project.labels.names == ["kitten", "dog"]
    assert all(project.is_dirty(a) for a in project.annotations[:2])
    assert not project.is_dirty(project.annotations[2])
    with pytest.raises(ValueError, match="already exists"):
        project.classes.rename("kitten", "dog")
    project.classes.merge("kitten", "dog")
    assert project.classes.box_counts() == {"dog": 4}
    project.classes.add("bird")
    project.classes.delete("dog", reassign_to=None)
    assert project.classes.box_counts() == {"bird": 0}
    assert project.save_all() == []
    assert load_folder(project.folder).annotations[0].boxes == []


def test_colours_are_stable_and_overrides_persist(tmp_path):
    folder = make_folder(tmp_path / "p")
    project = Project.open(folder)
    default_dog = project.classes.color_of("dog")
    assert default_dog.startswith("#") and len(default_dog) == 7 and default_dog != project.classes.color_of("cat")
    project.classes.recolor("cat", "#123456")
    project.classes.delete("cat", reassign_to="dog")  # dog keeps its colour although its index moves
    assert project.classes.color_of("dog") == default_dog
    project.classes.add("bird", "#abcdef")
    assert project.save_all() == []
    project.close()  # the folder's lock: another project of this process may open it now
    reopened = Project.open(folder)
    assert reopened.classes.color_of("bird") == "#abcdef" and reopened.classes.color_of("dog") == default_dog
    assert reopened.labels.names == ["dog", "bird"]


def test_yolo_format_on_request_keeps_boxes_and_verified(tmp_path):
    folder = make_folder(tmp_path / "p")
    project = Project.open(folder)
    project.set_format("yolo")
    project.annotations[1].verified = True
    assert project.save_all() == []
    assert (folder / "img0.txt").exists() and (folder / "classes.txt").read_text() == "cat\ndog\n"
    project.close()
    reopened = Project.open(folder)
    assert reopened.format == "yolo"
    for before, after in zip(project.annotations, reopened.annotations):
        assert [(b.label, *np.round(b.xyxy(), 3)) for b in after.boxes] == \
               [(b.label, *np.round(b.xyxy(), 3)) for b in before.boxes]
    assert [a.verified for a in reopened.annotations] == [False, True, False, False]


def test_export_coco_holds_every_image(tmp_path):
    project = Project.open(make_folder(tmp_path / "p"))
    out = tmp_path / "export.json"
    assert project.export_coco(out) == []
    annotations, labels = read_coco_json(out, image_root=project.folder)
    assert labels.names == ["cat", "dog"] and len(annotations) == 4
    assert sum(len(a.boxes) for a in annotations) == 4
    assert json.loads(out.read_text())["images"][0]["width"] == 60


def test_failed_save_keeps_the_edit_and_names_the_file(tmp_path):
    folder = make_folder(tmp_path / "p")
    project = Project.open(folder)
    (folder / "img2.xml").mkdir()  # something in the way of the label file
    ann = project.annotations[2]
    ann.boxes.append(Box("cat", 1, 1, 5, 5))
    project.mark_dirty(ann)
    with pytest.raises(SaveError, match="img2.xml"):
        project.save(ann)
    failures = project.save_all()
    assert [f.path.name for f in failures] == ["img2.xml"] and project.is_dirty(ann)

    project.output_folder = tmp_path / "elsewhere"
    assert project.save_all() == []
    assert read_voc_xml(tmp_path / "elsewhere" / "img2.xml").boxes == [Box("cat", 1, 1, 5, 5)]


def test_yolo_classes_txt_of_the_ultralytics_layout_is_where_load_folder_reads_it(tmp_path):
    root = tmp_path / "dataset"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(root / "images" / "train" / "a.png")
    project = Project.open(root)
    assert project.format == "yolo"
    project.classes.add("cat")
    ann = project.annotations[0]
    ann.boxes.append(Box("cat", 6, 4, 30, 20))
    project.mark_dirty(ann)
    assert project.save_all() == []
    assert (root / "labels" / "train" / "a.txt").exists()
    assert not (root / "labels" / "train" / "classes.txt").exists()
    assert project.classes_txt_path() == root / "classes.txt" and (root / "classes.txt").read_text() == "cat\n"
    reloaded = load_folder(root)
    assert reloaded.errors == [] and reloaded.labels.names == ["cat"]
    assert [(b.label, *np.round(b.xyxy(), 3)) for b in reloaded.annotations[0].boxes] == [("cat", 6, 4, 30, 20)]


def test_yolo_project_updates_the_classes_txt_it_was_read_from(tmp_path):
    root = tmp_path / "dataset"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(root / "images" / "train" / "a.png")
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "labels" / "train" / "classes.txt").write_text("cat\n")  # where labelImg puts it
    project = Project.open(root)
    assert project.errors == {} and project.labels.names == ["cat"]
    project.classes.add("dog")
    ann = project.annotations[0]
    ann.boxes.append(Box("dog", 1, 1, 9, 9))
    project.mark_dirty(ann)
    assert project.save_all() == []
    assert (root / "labels" / "train" / "classes.txt").read_text() == "cat\ndog\n"
    assert not (root / "classes.txt").exists()  # one class list, not two that can disagree
    assert [b.label for b in load_folder(root).annotations[0].boxes] == ["cat", "dog"]


def test_malformed_settings_are_reported_then_backed_up_when_rewritten(tmp_path):
    folder = make_folder(tmp_path / "p")
    settings = folder / ".resyolo" / "project.json"
    settings.parent.mkdir()
    settings.write_text("[1, 2")
    project = Project.open(folder)
    assert "project settings ignored" in str(project.errors[settings])
    project.classes.add("bird")
    assert project.save_all() == []
    assert (folder / ".resyolo" / "project.json.bak").read_text() == "[1, 2"
    assert json.loads(settings.read_text())["classes"] == ["cat", "dog", "bird"]
    assert settings not in project.errors


def test_a_renamed_class_does_not_come_back_from_a_voc_folders_classes_txt(tmp_path):
    """The bundled sample is VOC with a classes.txt beside it: the rename must reach that list too, or reopening
    the folder brings the old name back as an empty extra class."""
    folder = make_folder(tmp_path / "photos")
    (folder / "classes.txt").write_text("cat\ndog\n")
    project = Project.open(folder)
    project.classes.rename("cat", "lynx")
    assert project.save_all() == []
    assert (folder / "classes.txt").read_text() == "lynx\ndog\n"
    project.close()
    assert Project.open(folder).labels.names == ["lynx", "dog"]


TRAIN_VALUES = {"backbone": "resnet18", "image_size": 320, "epochs": 7, "lr": 0.0005, "ema": False,
                "val_folder": "", "weights": "none"}


def test_train_settings_are_remembered_alone_and_survive_every_later_save(tmp_path):
    folder = make_folder(tmp_path / "p")
    project = Project.open(folder)
    project.classes.rename("cat", "kitten")  # unsaved: remembering the Train form must not write it ahead
    project.remember_train_settings({**TRAIN_VALUES, "nested": {"no": 1}, 3: "bad key"})
    on_disk = json.loads((folder / ".resyolo" / "project.json").read_text())
    assert on_disk == {"version": 1, "train": TRAIN_VALUES}
    assert project.has_unsaved_changes()
    assert project.save_all() == []  # the ordinary save keeps them
    on_disk = json.loads((folder / ".resyolo" / "project.json").read_text())
    assert on_disk["train"] == TRAIN_VALUES and on_disk["classes"] == ["kitten", "dog"]
    project.close()
    reopened = Project.open(folder)
    assert reopened.train_settings == TRAIN_VALUES
    reopened.remember_train_settings({**TRAIN_VALUES, "epochs": 9})
    on_disk = json.loads((folder / ".resyolo" / "project.json").read_text())
    assert on_disk["train"]["epochs"] == 9 and on_disk["classes"] == ["kitten", "dog"]  # the rest as it was


def test_train_settings_leave_a_malformed_or_read_only_settings_file_alone(tmp_path):
    folder = make_folder(tmp_path / "p")
    settings = folder / ".resyolo" / "project.json"
    settings.parent.mkdir()
    settings.write_text("[1, 2")
    project = Project.open(folder)
    project.remember_train_settings(TRAIN_VALUES)
    assert settings.read_text() == "[1, 2"  # not parsed: the next save rewrites it, the original kept aside
    assert project.save_all() == []
    assert json.loads(settings.read_text())["train"] == TRAIN_VALUES
    project.close()
    before = settings.read_text()
    viewer = Project.open(folder, read_only=True)
    viewer.remember_train_settings({**TRAIN_VALUES, "epochs": 1})
    assert settings.read_text() == before and viewer.train_settings["epochs"] == 1
