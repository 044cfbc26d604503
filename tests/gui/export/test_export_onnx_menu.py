"""File > Export Model to ONNX…: the real window, a real tiny checkpoint, the file dialogs answered by the test."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.model.checkpoint import save_checkpoint
from engine.model.config import ModelConfig
from engine.model.network import ResYOLO


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    torch.manual_seed(0)
    model = ResYOLO(ModelConfig(num_classes=2, backbone="resnet18", image_size=64))
    return save_checkpoint(tmp_path / "runs" / "exp" / "best.pt", model, ["cat", "dog"])


@pytest.fixture
def dialogs(monkeypatch):
    """Answers for the open and save dialogs; the message boxes are recorded instead of shown."""
    answers = {"open": "", "save": ""}
    shown = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (answers["open"], ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (answers["save"], ""))
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.append(("info", text)))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(("warning", text)))
    return answers, shown


def export_action(window):
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
    return next(a for a in file_menu.actions() if "ONNX" in a.text())


def export_feature(window):
    return next(f for f in window.features if type(f).__name__ == "ExportFeature")


def test_menu_exports_a_checkpoint_that_onnxruntime_runs(open_window, image_folder, checkpoint, dialogs, qtbot, tmp_path):
    from engine.inference.onnx_detector import OnnxModel

    window = open_window(image_folder)
    answers, shown = dialogs
    answers["open"], answers["save"] = str(checkpoint), str(tmp_path / "out" / "detector")  # no suffix typed
    with qtbot.waitSignal(export_feature(window).export_done, timeout=60_000) as done:
        export_action(window).trigger()
    out, error = done.args
    assert error == "" and Path(out) == tmp_path / "out" / "detector.onnx"
    model = OnnxModel(out)
    assert model.class_names == ["cat", "dog"] and model.fixed_batch is None  # the app exports dynamic batch
    assert model(torch.rand(2, 3, 64, 64)).shape == (2, 2, 2, 12)
    assert shown and shown[0][0] == "info" and "detector.onnx" in shown[0][1]
    assert export_action(window).isEnabled()


def test_menu_reports_a_file_that_is_not_a_checkpoint(open_window, image_folder, dialogs, qtbot, tmp_path):
    window = open_window(image_folder)
    answers, shown = dialogs
    bogus = tmp_path / "holiday.pt"
    bogus.write_text("not a checkpoint")
    answers["open"], answers["save"] = str(bogus), str(tmp_path / "model.onnx")
    with qtbot.waitSignal(export_feature(window).export_done, timeout=30_000) as done:
        export_action(window).trigger()
    assert done.args[0] == "" and "holiday.pt is not a readable PyTorch file" in done.args[1]
    assert shown == [("warning", f"The export failed:\n{done.args[1]}")]
    assert not (tmp_path / "model.onnx").exists()


def test_cancelled_dialog_exports_nothing(open_window, image_folder, checkpoint, dialogs, tmp_path):
    window = open_window(image_folder)
    answers, shown = dialogs
    answers["open"] = str(checkpoint)  # the save dialog is cancelled (empty answer)
    export_action(window).trigger()
    assert export_feature(window).worker is None and shown == []
