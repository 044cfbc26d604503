"""The Runs panel prunes old runs: Delete run asks first (the real question, answered), shows what it frees,
and never deletes the run that is training."""
from __future__ import annotations

import json
import os
import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.training.runs import runs_folder
from engine.data.synth import generate_dataset


@pytest.fixture
def training_window(open_window, monkeypatch, qtbot):
    """(window, training feature) with the Runs panel in front; a run still training is stopped at the end,
    never left to ask its question while the window closes."""
    from resyolo_gui import features
    from resyolo_gui.training import controller

    monkeypatch.setattr(features, "FEATURE_PACKAGES", ["resyolo_gui.training"])
    monkeypatch.setattr(controller, "ask_stop_training", lambda parent: True)
    opened = []

    def open_(folder):
        window = open_window(folder)
        feature = next(f for f in window.features if isinstance(f, controller.TrainingFeature))
        feature.show_panel()
        feature._raise(feature.runs_dock)
        qtbot.waitExposed(feature.runs_panel.tree)
        opened.append(feature)
        return window, feature

    yield open_
    for feature in opened:
        feature.stop_and_wait()


def make_run(folder, name, status="finished", age_s=3600.0, checkpoint_bytes=2_000_000):
    run = runs_folder(folder) / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"status": status, "train": {"epochs": 1}}))
    (run / "results.csv").write_text("epoch,map50\n1,0.5\n")
    (run / "last.pt").write_bytes(b"\0" * checkpoint_bytes)
    (run / "best.pt").write_bytes(b"\0" * (checkpoint_bytes // 6))
    then = time.time() - age_s
    for path in [*run.iterdir(), run]:
        os.utime(path, (then, then))
    return run


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "shapes"
    generate_dataset(folder, num_images=8, num_classes=2, seed=0, image_size=(96, 96))
    return folder


def answer_next_question(button_text: str, seen: list):
    """Click ``button_text`` in the next modal question, as a person would, and note what it said."""
    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, answer)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text().replace("&", "") == button_text).click()

    QTimer.singleShot(0, answer)


def select(runs, name, qtbot):
    item = next(runs.tree.topLevelItem(i) for i in range(runs.tree.topLevelItemCount())
                if runs.tree.topLevelItem(i).text(0) == name)
    rect = runs.tree.visualItemRect(item)
    qtbot.mouseClick(runs.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert runs.tree.currentItem() is item


def test_delete_run_asks_and_deletes_only_when_told(training_window, project, qtbot):
    old = make_run(project, "run1")
    kept = make_run(project, "run2")
    window, feature = training_window(project)
    runs = feature.runs_panel
    assert sorted(runs.run_names()) == ["run1", "run2"]
    size_column = [runs.tree.headerItem().text(c) for c in range(runs.tree.columnCount())].index("Size")
    select(runs, "run1", qtbot)
    assert runs.tree.currentItem().text(size_column) == "2.3 MB"
    assert runs.delete_button.isEnabled() and runs.delete_action in runs.tree.actions()

    seen = []
    answer_next_question("Cancel", seen)
    qtbot.mouseClick(runs.delete_button, Qt.MouseButton.LeftButton)
    assert seen and "Delete run run1" in seen[0] and "2.3 MB" in seen[0] and "cannot be undone" in seen[0]
    assert old.is_dir()

    answer_next_question("Delete", seen)
    window.activateWindow()
    runs.tree.setFocus()
    qtbot.waitUntil(runs.tree.hasFocus)
    qtbot.keyClick(runs.tree, Qt.Key_Delete)  # the Delete key, as in a file manager
    assert len(seen) == 2 and not old.exists() and kept.is_dir()
    assert runs.run_names() == ["run2"]
    assert "Deleted run run1: 2.3 MB freed" in window.statusBar().currentMessage()


def test_the_run_training_is_never_deleted(training_window, project, qtbot, monkeypatch):
    from resyolo_gui.training import runs_panel as runs_module

    asked = []
    monkeypatch.setattr(runs_module, "ask_delete_run", lambda *args: asked.append(args) or True)
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    window, feature = training_window(project)
    panel = feature.panel
    panel.backbone.setCurrentText("resnet18")
    panel.image_size.setValue(64)
    panel.epochs.setValue(200)  # long enough to be training while we try
    panel.batch_size.setValue(2)
    panel.weights.setCurrentIndex(panel.weights.findData("none"))
    runs = feature.runs_panel
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    feature._raise(feature.runs_dock)
    qtbot.waitUntil(lambda: runs.active_run is not None and "run1" in runs.run_names(), timeout=60_000)
    training = runs.active_run
    select(runs, "run1", qtbot)
    assert not runs.delete_button.isEnabled() and not runs.delete_action.isEnabled()
    assert not runs.delete_run(0) and training.is_dir() and not asked
    assert shown and "is training" in shown[-1]
    # behind the panel's back too: the engine refuses the active run
    from engine.training.runs import RunInUse, delete_run

    with pytest.raises(RunInUse):
        delete_run(project, training, active_run=training)
    with qtbot.waitSignal(feature.run_finished, timeout=60_000):
        feature.stop()
    assert runs.delete_button.isEnabled()  # ended: now it may go
    assert runs.delete_run(0) and not training.exists() and len(asked) == 1


def answer_next_number(value: int, seen: list):
    """Type ``value`` into the next number question (QInputDialog) and press OK, noting what it asked."""
    from PySide6.QtWidgets import QInputDialog, QSpinBox

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(10, answer)
            return
        seen.append((dialog.labelText(), dialog.intMinimum(), dialog.intValue()))
        box = dialog.findChild(QSpinBox)
        box.selectAll()
        QTest.keyClicks(box, str(value))
        QTest.keyClick(box, Qt.Key_Return)

    from PySide6.QtTest import QTest

    QTimer.singleShot(0, answer)


def test_resume_this_run_continues_it_in_its_own_folder_until_the_epoch_asked(training_window, project, qtbot):
    from engine.training.runs import read_run

    window, feature = training_window(project)
    panel = feature.panel
    panel.backbone.setCurrentText("resnet18")
    panel.image_size.setValue(64)
    panel.epochs.setValue(1)
    panel.batch_size.setValue(2)
    panel.eval_every.setValue(1)
    panel.weights.setCurrentIndex(panel.weights.findData("none"))
    runs = feature.runs_panel
    with qtbot.waitSignal(feature.run_finished, timeout=60_000):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    feature._raise(feature.runs_dock)
    make_run(project, "run0", checkpoint_bytes=0)
    (runs_folder(project) / "run0" / "last.pt").unlink()  # a run without last.pt cannot be resumed
    runs.refresh()
    select(runs, "run0", qtbot)
    assert not runs.resume_button.isEnabled() and not runs.resume_action.isEnabled()
    select(runs, "run1", qtbot)
    assert runs.resume_button.isEnabled() and runs.resume_action in runs.tree.actions()

    asked = []
    answer_next_number(3, asked)
    with qtbot.waitSignal(feature.run_finished, timeout=90_000) as finished:
        qtbot.mouseClick(runs.resume_button, Qt.MouseButton.LeftButton)
        assert feature.running and not runs.resume_button.isEnabled()  # one run at a time
    assert asked == [("Run run1 has trained 1 of 1 epochs.\nTrain until epoch:", 2, 2)]
    outcome = finished.args[0]
    assert outcome.status == "finished" and outcome.out_dir == runs_folder(project) / "run1", outcome.message
    run = read_run(runs_folder(project) / "run1")
    assert [int(r["epoch"]) for r in run.results] == [1, 2, 3] and run.config["resumed"]
    assert run.config["train"]["epochs"] == 3 and sorted(runs.run_names()) == ["run0", "run1"]
    assert feature.charts.point_count("epoch_loss") == 3  # the epoch done before, then the new ones live
