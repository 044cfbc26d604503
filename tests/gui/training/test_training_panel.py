"""The Train panel end to end: a real (tiny) training started from the button, its live charts, its run in the
project and the Runs panel; the pre-flight refusals; closing the window while a run trains."""
from __future__ import annotations

import json

import pytest

from engine.data.synth import generate_dataset


@pytest.fixture
def training_window(open_window, monkeypatch):
    """``training_window(folder)`` -> (window, training feature). Only the training feature is installed, so
    these tests do not depend on the other feature packages being finished."""
    from resyolo_gui import features

    monkeypatch.setattr(features, "FEATURE_PACKAGES", ["resyolo_gui.training"])

    def open_(folder):
        from resyolo_gui.training.controller import TrainingFeature

        window = open_window(folder)
        feature = next(f for f in window.features if isinstance(f, TrainingFeature))
        return window, feature

    return open_


def tiny_settings(panel, epochs=2):
    panel.backbone.setCurrentText("resnet18")
    panel.image_size.setValue(64)
    panel.epochs.setValue(epochs)
    panel.batch_size.setValue(2)
    panel.eval_every.setValue(1)
    panel.weights.setCurrentIndex(panel.weights.findData("none"))


@pytest.fixture
def synth_project(tmp_path):
    folder = tmp_path / "shapes"
    generate_dataset(folder, num_images=8, num_classes=2, seed=0, image_size=(96, 96))
    return folder


def test_training_started_from_the_button_charts_points_and_lists_the_run(training_window, synth_project, qtbot,
                                                                           tmp_path):
    from PySide6.QtCore import Qt

    window, feature = training_window(synth_project)
    feature.show_action.trigger()  # Train > Train a Model…
    panel = feature.panel
    assert feature.train_dock.isVisible() and feature.charts_dock.isVisible()
    tiny_settings(panel)
    assert panel.weights_warning.isVisibleTo(panel)  # random weights: said plainly
    edited = window.project.annotations[0]
    edited.verified = True
    window.project.mark_dirty(edited)  # an unsaved edit: saved before the run reads the labels

    with qtbot.waitSignal(feature.run_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.start_button, Qt.LeftButton)
        assert feature.running and not panel.start_button.isEnabled()
    outcome = finished.args[0]

    assert outcome.status == "finished", outcome.message
    assert not window.project.has_unsaved_changes()
    charts = feature.charts
    assert charts.point_count("batch_loss") >= 2 and charts.point_count("batch_class") >= 2
    assert charts.point_count("epoch_loss") == 2 and charts.point_count("map50") == 2
    assert charts.point_count("lr") >= 2
    qtbot.waitUntil(lambda: charts.shown_point_count("epoch_loss") == 2, timeout=2000)  # redrawn by the timer
    run_dir = synth_project / ".resyolo" / "runs" / "run1"
    assert (run_dir / "last.pt").is_file() and (run_dir / "results.csv").is_file()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["status"] == "finished" and config["model"]["backbone"] == "resnet18"
    assert config["model"]["head"] == "anchor_free" and config["train"]["augment"] == "modern"  # the defaults
    assert charts.point_count("batch_iou") >= 2 and charts.point_count("batch_regression") == 0
    data = config["data"]
    assert len(data["train_images"]) + len(data["val_images"]) == 8 and len(data["val_images"]) == 2
    assert data["split_seed"] == 0 and data["val_fraction"] == pytest.approx(0.2)
    assert all(not p.startswith("/") for p in data["train_images"])  # relative to the project
    assert panel.start_button.isEnabled() and "Finished" in panel.progress.format()

    runs = feature.runs_panel
    assert runs.run_names() == ["run1"] and runs.status_of("run1") == "finished"
    assert runs.tree.topLevelItem(0).text(2) == "2/2"
    dialog = runs.show_charts(0)
    assert dialog.charts.point_count("epoch_loss") == 2 and dialog.charts.point_count("map50") == 2
    dialog.close()
    png = tmp_path / "charts.png"
    assert charts.save_png(png) and png.stat().st_size > 1000
    # The new run's checkpoint is now offered as starting weights for the same backbone.
    assert panel.weights.findData(str(run_dir / "best.pt")) >= 0 or panel.weights.findData(str(run_dir / "last.pt")) >= 0


def test_recipe_preset_is_one_click_away_and_fills_head_and_settings(training_window, synth_project):
    window, feature = training_window(synth_project)
    panel = feature.panel
    assert panel.preset.currentData() == "modern" and panel.head_choice() == "anchor_free"
    assert (panel.optimizer.currentData(), panel.schedule.currentData(), panel.augment.currentData()) == (
        "adamw", "cosine", "modern")
    assert panel.mosaic.isEnabled()

    panel.preset.setCurrentIndex(panel.preset.findData("recipe"))
    panel.preset.activated.emit(panel.preset.currentIndex())  # what a click on the entry sends
    settings = panel.train_settings()
    assert panel.head_choice() == "recipe" and settings["preset"] == "recipe"
    assert (settings["optimizer"], settings["schedule"], settings["augment"]) == ("sgd", "multistep", "recipe")
    assert (settings["epochs"], settings["batch_size"], settings["warmup_epochs"]) == (80, 10, 0.0)
    assert not panel.mosaic.isEnabled()  # mosaic settings belong to the modern augmentation (greyed, not hidden)

    from engine.training.setup import build_train_config

    config = build_train_config(**settings)  # what the worker builds from the form
    assert config.optimizer == "sgd" and config.milestones == [40, 60] and config.augment == "recipe"


def test_preflight_says_what_is_wrong_and_starts_nothing(training_window, make_folder, tmp_path):
    window, feature = training_window(make_folder(tmp_path / "unlabelled", count=3, labelled=0))
    assert not feature.start()
    assert "No labelled images" in feature.panel.message.text()
    assert not (tmp_path / "unlabelled" / ".resyolo" / "runs").exists()

    window, feature = training_window(make_folder(tmp_path / "one", count=3, labelled=1, classes=("cat",)))
    assert not feature.start()
    assert "too few to split off validation" in feature.panel.message.text()

    window, feature = training_window(make_folder(tmp_path / "pets", count=4, labelled=4))
    window.project.classes.add("bird")
    feature.panel.val_mode.setCurrentIndex(feature.panel.val_mode.findData("none"))
    assert not feature.start()
    assert "“bird” has no boxes" in feature.panel.message.text()
    assert feature.worker is None and not (tmp_path / "pets" / ".resyolo" / "runs").exists()

    feature.panel.val_mode.setCurrentIndex(feature.panel.val_mode.findData("folder"))
    feature.panel.val_folder.setText(str(tmp_path / "missing"))
    window.project.classes.delete("bird", None)
    assert not feature.start()
    assert "Validation folder" in feature.panel.message.text() and "missing" in feature.panel.message.text()


def test_closing_while_training_asks_then_stops_the_run_keeping_a_checkpoint(training_window, synth_project, qtbot,
                                                                           monkeypatch):
    from resyolo_gui.training import controller

    window, feature = training_window(synth_project)
    tiny_settings(feature.panel, epochs=200)
    feature.panel.eval_every.setValue(100)
    assert feature.start()
    qtbot.waitUntil(lambda: feature.charts.point_count("batch_loss") > 0, timeout=30_000)
    worker = feature.worker

    questions = []
    monkeypatch.setattr(controller, "ask_stop_training", lambda parent: questions.append(parent) or False)
    window.close()
    assert questions == [window] and window.isVisible() and feature.running  # "no": it goes on training

    feature.toggle_pause()
    assert worker.paused and feature.panel.pause_button.text() == "Resume"
    monkeypatch.setattr(controller, "ask_stop_training", lambda parent: questions.append(parent) or True)
    window.close()  # stopping a paused run works too
    assert len(questions) == 2 and not window.isVisible()
    assert worker.isFinished() and not feature.running
    run_dir = synth_project / ".resyolo" / "runs" / "run1"
    assert (run_dir / "last.pt").is_file()
    qtbot.waitUntil(lambda: json.loads((run_dir / "config.json").read_text())["status"] == "stopped", timeout=5000)


def test_a_run_that_diverges_ends_failed_in_the_panel_and_in_its_record(training_window, synth_project, qtbot,
                                                                        monkeypatch):
    from PySide6.QtCore import Qt

    from engine.training.trainer import Trainer

    window, feature = training_window(synth_project)
    feature.show_action.trigger()
    panel = feature.panel
    tiny_settings(panel, epochs=3)
    monkeypatch.setattr(Trainer, "_statistics_overflowed", lambda self: True)  # as a diverging run's BatchNorm
    with qtbot.waitSignal(feature.run_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    outcome = finished.args[0]
    assert outcome.status == "failed" and "statistics overflowed at epoch 1, batch 1" in outcome.message
    assert panel.progress.format() == "Failed" and panel.start_button.isEnabled() and not feature.running
    assert panel.message.text() == outcome.message and outcome.kept_checkpoint is None
    run_dir = synth_project / ".resyolo" / "runs" / "run1"
    record = json.loads((run_dir / "config.json").read_text())
    assert record["status"] == "failed" and "overflowed" in record["message"]
