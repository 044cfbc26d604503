"""Finding a model: the file dialog starts in the project's newest run and takes a typed path (one under the
hidden .resyolo, an exported .onnx); the Detect panel and the live view list a run once it has finished."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QLineEdit

from engine.model.checkpoint import save_checkpoint
from resyolo_gui.training.worker import RunOutcome
from engine.model.config import ModelConfig
from engine.model.weights import build_model
from resyolo_gui.detection.feature import DetectionFeature


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64), "none")
    return save_checkpoint(tmp_path_factory.mktemp("model") / "tiny.pt", model, ["cat", "dog"], epoch=2)


def add_run(project: Path, name: str, checkpoint: Path | None, age_s: float = 0) -> Path:
    run = project / ".resyolo" / "runs" / name
    run.mkdir(parents=True)
    if checkpoint is not None:
        shutil.copy(checkpoint, run / "best.pt")
    stamp = time.time() - age_s
    os.utime(run, (stamp, stamp))
    return run


class DialogAnswer:
    """Answers the next modal file dialog as a person would: notes the folder it opened in, types ``text`` one
    key at a time (letting the dialog's file model catch up, as between real key presses), notes whether Open
    is enabled and presses it (or Cancel when it is grey)."""

    def __init__(self, text: str):
        self.text, self.directory, self.open_enabled = text, None, None
        QTimer.singleShot(200, self._answer)

    def _answer(self) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(100, self._answer)
            return
        self.directory = Path(dialog.directory().absolutePath())
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        QTest.qWait(200)
        for character in self.text:
            QTest.keyClicks(edit, character)
            QTest.qWait(10)
        QTest.qWait(300)
        buttons = dialog.findChild(QDialogButtonBox)
        open_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        self.open_enabled = open_button.isEnabled()
        if self.open_enabled:
            open_button.click()
        else:
            dialog.reject()


def detection(window) -> DetectionFeature:
    return next(f for f in window.features if isinstance(f, DetectionFeature))


def test_picker_dialog_opens_in_the_newest_run_and_takes_a_typed_path(qtbot, open_window, image_folder, checkpoint):
    add_run(image_folder, "run1", checkpoint, age_s=100)
    newest = add_run(image_folder, "run2", checkpoint)
    add_run(image_folder, "run3", None)  # started, stopped before its first checkpoint: nothing to open there
    picker = detection(open_window(image_folder)).picker

    answer = DialogAnswer(str(image_folder / ".resyolo" / "runs" / "run1" / "best.pt"))
    assert picker.browse()
    assert answer.directory == newest
    assert answer.open_enabled  # a typed path under the hidden .resyolo: Open was grey
    assert picker.current_checkpoint() == image_folder / ".resyolo" / "runs" / "run1" / "best.pt"


def test_picker_dialog_without_runs_opens_in_the_project(qtbot, open_window, image_folder, checkpoint):
    picker = detection(open_window(image_folder)).picker
    answer = DialogAnswer(str(checkpoint))
    assert picker.browse()
    assert answer.directory == image_folder and picker.current_checkpoint() == checkpoint


def test_typed_onnx_path_enables_open_and_the_picker_reads_it(qtbot, open_window, image_folder, checkpoint, tmp_path):
    from engine.inference.export import export_onnx

    onnx = export_onnx(checkpoint, tmp_path / "exported" / "tiny.onnx")
    picker = detection(open_window(image_folder)).picker
    answer = DialogAnswer(str(onnx))
    assert picker.browse()
    assert answer.open_enabled  # was grey: the filter named only .pt and .pth
    text = picker.info_label.text()
    assert "tiny.onnx" in text and "exported ONNX model" in text and "2 classes: cat, dog" in text


def test_live_view_dialog_opens_in_the_newest_run(qtbot, open_window, image_folder, checkpoint):
    from resyolo_gui.live.feature import LiveFeature

    window = open_window(image_folder)
    newest = add_run(image_folder, "run1", checkpoint)
    view = next(f for f in window.features if isinstance(f, LiveFeature)).show_live_view()
    qtbot.waitExposed(view)
    answer = DialogAnswer(str(newest / "best.pt"))
    view.checkpoint.browse()
    assert answer.directory == newest and answer.open_enabled
    assert view.checkpoint.checkpoint() == newest / "best.pt"
    view.close()


def test_a_finished_run_is_listed_by_the_detect_panel_and_the_live_view(qtbot, open_window, image_folder,
                                                                        checkpoint):
    from resyolo_gui.live.feature import LiveFeature
    from resyolo_gui.training.controller import TrainingFeature

    window = open_window(image_folder)
    picker = detection(window).picker
    live = next(f for f in window.features if isinstance(f, LiveFeature))
    view = live.show_live_view()
    assert picker.combo.itemText(0) == "No trained runs in this project"
    assert view.checkpoint.combo.count() == 0

    run = add_run(image_folder, "run1", checkpoint)  # what the trainer leaves when its run ends
    training = next(f for f in window.features if isinstance(f, TrainingFeature))
    training.run_finished.emit(RunOutcome("finished", "finished", run, best_checkpoint=run / "best.pt"))
    assert [picker.combo.itemText(i) for i in range(picker.combo.count())] == ["Choose a checkpoint…",
                                                                                 "run1 / best.pt"]
    assert view.checkpoint.checkpoint() == run / "best.pt"
    view.close()


def test_opening_another_project_lists_its_runs(qtbot, open_window, image_folder, make_folder, tmp_path, checkpoint):
    from engine.project.project import Project

    window = open_window(image_folder)
    other = make_folder(tmp_path / "other")
    add_run(other, "run7", checkpoint)
    with qtbot.waitSignal(window.first_image_shown, timeout=5000):
        window.set_project(Project.open(other))
    picker = detection(window).picker
    assert picker.combo.itemText(1) == "run7 / best.pt"


def test_evaluation_window_lists_a_finished_run_and_browses_from_it(qtbot, open_window, image_folder, checkpoint):
    from resyolo_gui.evaluation.feature import EvaluationFeature
    from resyolo_gui.training.controller import TrainingFeature

    window = open_window(image_folder)
    evaluation = next(f for f in window.features if isinstance(f, EvaluationFeature)).open()
    assert evaluation.checkpoints.count() == 0
    run = add_run(image_folder, "run1", checkpoint)
    next(f for f in window.features if isinstance(f, TrainingFeature)).run_finished.emit(
        RunOutcome("finished", "finished", run, best_checkpoint=run / "best.pt"))
    assert evaluation.current_checkpoint() == run / "best.pt"

    answer = DialogAnswer(str(run / "best.pt"))
    evaluation.browse_checkpoint()
    assert answer.directory == run and answer.open_enabled
    evaluation.close()
