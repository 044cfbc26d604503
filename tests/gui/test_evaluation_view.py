"""The evaluation window on a generated project: a real tiny checkpoint end to end, and known detections
(the detection step replaced) for exact tables, clicks, the comparison view and the way back to labelling."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt

from engine.annotations.folder import load_folder
from engine.boxes import Detections
from engine.checkpoint import save_checkpoint
from engine.config import ModelConfig
from engine.runs import runs_folder
from engine.synth import generate_dataset
from engine.weights import build_model
from resyolo_gui.evaluation import open_evaluation, scoring

VAL_COUNT = 4


@pytest.fixture(scope="module")
def tiny_model_state(tmp_path_factory):
    """A random 2-class resnet18 checkpoint at 64 px (saved once, copied per test)."""
    torch.manual_seed(0)
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64), "none")
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", model, ["circle", "square"])


@pytest.fixture
def project_with_run(tmp_path, tiny_model_state):
    """6 generated images; run1 whose config lists the last 4 as validation images, with best.pt."""
    folder = tmp_path / "project"
    generate_dataset(folder, num_images=6, num_classes=2, seed=3, fmt="voc", image_size=(96, 96))
    run = runs_folder(folder) / "run1"
    run.mkdir(parents=True)
    names = sorted(p.name for p in folder.glob("*.jpg"))
    (run / "config.json").write_text(json.dumps({"data": {"train_images": names[:2], "val_images": names[2:]}}))
    (run / "best.pt").write_bytes(tiny_model_state.read_bytes())
    return folder, run / "best.pt"


def known_detections(monkeypatch, make):
    """Replace the detection step: ``make(i, ground-truth boxes) -> list of (x1, y1, x2, y2, score, class)``."""
    calls = []

    def run_detection(checkpoint, paths, progress, cancelled):
        gt = {Path(a.image_path).resolve(): a for a in load_folder(Path(paths[0]).parent).annotations}
        results = []
        for i, path in enumerate(paths):
            rows = make(i, gt[Path(path).resolve()].boxes)
            array = torch.tensor(rows, dtype=torch.float32).reshape(-1, 6)
            results.append(Detections(array[:, :4], array[:, 4], array[:, 5].long()))
            progress(i + 1, len(paths))
        calls.append(list(paths))
        return ["circle", "square"], results

    monkeypatch.setattr(scoring, "run_detection", run_detection)
    return calls


def evaluate(qtbot, window, checkpoint):
    view = open_evaluation(window, checkpoint, start=False)
    with qtbot.waitSignal(view.finished, timeout=60000) as blocker:
        assert view.start()
    assert blocker.args == [True], view.status.text()
    return view


def _view(window):
    from resyolo_gui.evaluation.window import EvaluationWindow

    return window.findChild(EvaluationWindow)


def click_cell(qtbot, table, row, column):
    index = table.model().index(row, column)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())


def test_menu_opens_the_window_with_the_run_checkpoints(open_window, project_with_run):
    folder, checkpoint = project_with_run
    window = open_window(folder)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Evaluate")
    action = next(a for a in menu.actions() if "checkpoint" in a.text())
    action.trigger()
    view = _view(window)
    assert view.isVisible()
    assert view.current_checkpoint() == checkpoint
    assert "run1" in view.checkpoints.currentText()


def test_real_checkpoint_fills_the_ap_table_and_the_matrix(qtbot, open_window, project_with_run):
    folder, checkpoint = project_with_run
    window = open_window(folder)
    view = evaluate(qtbot, window, checkpoint)
    assert "4 validation images of run run1" in view.status.text()
    assert view.ap_model.rowCount() == 2 and view.matrix_model.rowCount() == 3
    val_gt = sum(len(a.boxes) for a in view.evaluation.images)
    assert sum(view.ap_model.rows[r][3] for r in range(2)) == val_gt
    # every labelled box is somewhere in its row: found, confused or missed
    assert view.evaluation.analysis.matrix[:2].sum() == val_gt
    assert view.image_model.rowCount() == VAL_COUNT


def test_known_detections_exact_matrix_clicks_and_comparison(qtbot, open_window, project_with_run, monkeypatch):
    folder, checkpoint = project_with_run

    def make(i, boxes):
        if i == 0:  # every box found
            return [(*b.xyxy(), 0.9, ["circle", "square"].index(b.label)) for b in boxes]
        if i == 1:  # everything missed
            return []
        if i == 2:  # the first box under the other name, plus a confident false positive far away
            b = boxes[0]
            return [(*b.xyxy(), 0.8, 1 - ["circle", "square"].index(b.label)), (0, 0, 3, 3, 0.95, 0)]
        return [(*b.xyxy(), 0.1, 0) for b in boxes]  # under the threshold: all missed, nothing wrong predicted

    known_detections(monkeypatch, make)
    window = open_window(folder)
    view = evaluate(qtbot, window, checkpoint)
    images = view.evaluation.images
    label_id = {"circle": 0, "square": 1}
    expected = np.zeros((3, 3), int)
    for b in images[0].boxes:
        expected[label_id[b.label], label_id[b.label]] += 1
    for b in images[1].boxes + images[2].boxes[1:] + images[3].boxes:
        expected[label_id[b.label], 2] += 1
    first = label_id[images[2].boxes[0].label]
    expected[first, 1 - first] += 1
    expected[2, 0] += 1
    assert view.evaluation.analysis.matrix.tolist() == expected.tolist()
    assert [view.matrix_model.count(r, c) for r in range(3) for c in range(3)] == expected.ravel().tolist()

    # a confusion cell lists exactly image 2, and opening it draws the wrong class and the false positive
    click_cell(qtbot, view.matrix, first, 1 - first)
    assert view.image_model.rowCount() == 1
    assert view.image_model.rows[0][0] == Path(images[2].image_path).name
    outcomes = sorted(outcome for outcome, _ in view.comparison.items)
    assert outcomes.count("wrong class") == 2 and outcomes.count("false positive") == 1
    assert outcomes.count("missed") == len(images[2].boxes) - 1
    assert view.comparison.view.has_image()

    # the background row: false positives only in image 2
    click_cell(qtbot, view.matrix, 2, 0)
    assert [view.image_model.image_index(r) for r in range(view.image_model.rowCount())] == [2]

    # all images, worst first; a header click re-sorts by disagreement ascending
    view.show_all_images()
    disagreement = [view.evaluation.analysis.images[view.image_model.image_index(r)].disagreement
                    for r in range(view.image_model.rowCount())]
    assert disagreement == sorted(disagreement, reverse=True) and disagreement[-1] == 0
    header = view.image_table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(1) + 5, header.height() // 2))
    ascending = [view.evaluation.analysis.images[view.image_model.image_index(r)].disagreement
                 for r in range(view.image_model.rowCount())]
    assert ascending == sorted(disagreement)

    # clicking a class in the AP table shows its curve and lists its images
    row = next(r for r in range(2) if view.ap_model.rows[r][0] == "circle")
    click_cell(qtbot, view.ap_table, row, 0)
    assert view.pr_plot.class_name == "circle"
    assert set(view.image_model.image_index(r) for r in range(view.image_model.rowCount())) == \
        set(view.evaluation.analysis.images_for_class(0))

    # open the image shown in the labelling view
    view.show_all_images()
    view.image_table.selectRow(0)
    shown = view.shown_image()
    qtbot.mouseClick(view.comparison.open_button, Qt.MouseButton.LeftButton)
    assert window.current_annotation() is shown


def test_rescore_uses_the_labels_as_edited(qtbot, open_window, project_with_run, monkeypatch):
    folder, checkpoint = project_with_run
    known_detections(monkeypatch, lambda i, boxes: [(0, 0, 20, 20, 0.9, 0)] if i == 0 else [])
    window = open_window(folder)
    view = evaluate(qtbot, window, checkpoint)
    before = view.evaluation.analysis.matrix.copy()
    from engine.annotations.records import Box

    view.evaluation.images[0].boxes.append(Box("circle", 0, 0, 20, 20))  # the user labels what the model saw
    qtbot.mouseClick(view.rescore_button, Qt.MouseButton.LeftButton)
    after = view.evaluation.analysis.matrix
    assert after[0, 0] == before[0, 0] + 1 and after[2, 0] == before[2, 0] - 1
    view.threshold.setValue(0.95)  # the prediction no longer counts: the new box is missed
    assert view.evaluation.analysis.matrix[0, 0] == before[0, 0]


def test_a_plain_checkpoint_file_is_judged_on_the_labelled_images(qtbot, open_window, project_with_run, tmp_path,
                                                                    monkeypatch):
    folder, checkpoint = project_with_run
    calls = known_detections(monkeypatch, lambda i, boxes: [])
    elsewhere = tmp_path / "downloads" / "model.pt"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(checkpoint.read_bytes())
    window = open_window(folder)
    view = evaluate(qtbot, window, elsewhere)
    assert len(calls[0]) == 6
    assert "labelled images of the project" in view.status.text()


def test_an_unreadable_checkpoint_says_which_file(qtbot, open_window, project_with_run, tmp_path):
    folder, _ = project_with_run
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    window = open_window(folder)
    view = open_evaluation(window, broken, start=False)
    with qtbot.waitSignal(view.finished, timeout=30000) as blocker:
        assert view.start()
    assert blocker.args == [False]
    assert str(broken) in view.status.text()
    assert view.ap_model.rowCount() == 0 and view.evaluate_button.isEnabled()
