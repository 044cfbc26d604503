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
from engine.model.boxes import Detections
from engine.model.checkpoint import save_checkpoint
from engine.model.config import ModelConfig
from engine.training.runs import runs_folder
from engine.data.synth import generate_dataset
from engine.model.weights import build_model
from engine.inference import scoring
from resyolo_gui.evaluation.feature import open_evaluation

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


# ---- the figures agree with the checkpoint list; the tables are readable (issue 11) ----------------------------
def _val_dataset(folder):
    from engine.data.dataset import DetectionDataset

    loaded = load_folder(folder)
    names = sorted(p.name for p in folder.glob("*.jpg"))[2:]  # run1's validation images (project_with_run)
    return DetectionDataset([a for a in loaded.annotations if Path(a.image_path).name in names], loaded.labels,
                            64, train=False)


def test_the_listed_best_figure_is_what_evaluating_best_pt_finds(qtbot, open_window, project_with_run):
    """As a short run leaves it: best.pt holds the plain weights that scored the run's mAP@0.5 and an EMA never
    updated (the initial weights). The list said "best (mAP@0.5 0.009)" and the evaluation found 0.000."""
    from engine.training.results_csv import write_results
    from engine.training.validation import evaluate_model

    folder, checkpoint = project_with_run
    val = _val_dataset(folder)
    config = ModelConfig(num_classes=2, backbone="resnet18", image_size=64)
    scored = []
    for seed in range(12):  # random weights: some find a few shapes, some none
        torch.manual_seed(seed)
        model, _ = build_model(config, "none")
        scored.append((evaluate_model(model, val, torch.device("cpu"), 4)["map50"], model))
        plain = next(((s, m) for s, m in scored if s > 0), None)
        initial = next(((s, m) for s, m in scored if plain and s != plain[0]), None)
        if plain and initial:
            break
    assert plain and initial, "no two random models that score differently"
    listed = plain[0]
    save_checkpoint(checkpoint, plain[1], ["circle", "square"], ema=initial[1].state_dict(), ema_updates=0, epoch=1,
                    metrics={"map50": listed})
    write_results(checkpoint.parent / "results.csv", [{"epoch": 1, "loss": 1.0, "map50": listed, "map": 0.0}])

    window = open_window(folder)
    view = open_evaluation(window, checkpoint, start=False)
    assert f"best (mAP@0.5 {listed:.3f})" in view.checkpoints.currentText()
    view = evaluate(qtbot, window, checkpoint)
    assert view.evaluation.voc07.mAP == pytest.approx(listed, abs=1e-6)
    assert f"VOC07 {listed:.3f}" in view.map_label.text()


def test_detections_under_the_threshold_are_counted_apart_from_tp_and_fp(qtbot, open_window, project_with_run,
                                                                         monkeypatch):
    """16 detections of a class showed TP 0, FP 0: all scored under the 0.25 threshold, and the table said not."""
    folder, checkpoint = project_with_run
    known_detections(monkeypatch, lambda i, boxes: [(*b.xyxy(), 0.1, 0) for b in boxes])  # all "circle", at 0.1
    window = open_window(folder)
    view = evaluate(qtbot, window, checkpoint)
    model = view.ap_model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[4:9] == ["Det", "Det ≥ 0.25", "TP", "FP", "Missed"]
    circle = next(r for r in range(model.rowCount()) if model.rows[r][0] == "circle")
    detections = sum(len(a.boxes) for a in view.evaluation.images)
    assert model.rows[circle][4] == detections > 0 and model.rows[circle][5:8] == (0, 0, 0)
    tip = model.data(model.index(circle, 5), Qt.ItemDataRole.ToolTipRole)
    assert f"{detections} detection(s) scored ≥ 0.01" in tip and "0 of them score at least the threshold (0.25)" in tip

    view.threshold.setValue(0.05)  # now every one is judged: each is a TP (circles) or a wrong class (squares)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[5] == "Det ≥ 0.05"
    circle = next(r for r in range(model.rowCount()) if model.rows[r][0] == "circle")
    assert model.rows[circle][5] == detections == model.rows[circle][6] + model.rows[circle][7]


@pytest.mark.parametrize("long_names", [False, True], ids=["synth-names", "long-names"])
def test_image_names_are_readable_on_a_laptop_screen(qtbot, open_window, project_with_run, monkeypatch, long_names):
    """Image names were cut to "synt..." in the image list: they are shown whole where there is room, else cut
    in the middle so that their distinguishing end stays; every count column stays in sight."""
    folder, checkpoint = project_with_run
    if long_names:  # as long as a camera's, distinct only at their end
        for i, image in enumerate(sorted(folder.glob("*.jpg"))):
            image.with_suffix(".xml").rename(folder / f"synthetic_shapes_from_the_generator_{i:04d}.xml")
            image.rename(folder / f"synthetic_shapes_from_the_generator_{i:04d}.jpg")
        names = sorted(p.name for p in folder.glob("*.jpg"))
        (checkpoint.parent / "config.json").write_text(json.dumps({"data": {"train_images": names[:2],
                                                                             "val_images": names[2:]}}))
    known_detections(monkeypatch, lambda i, boxes: [(*b.xyxy(), 0.9, 0) for b in boxes])
    window = open_window(folder)
    view = evaluate(qtbot, window, checkpoint)
    window.resize(1366, 740)  # the Evaluate workspace: the panel fills a laptop-sized window
    qtbot.wait(50)
    table = view.image_table
    assert table.textElideMode() == Qt.TextElideMode.ElideMiddle
    metrics = table.fontMetrics()
    room = table.columnWidth(0) - 2 * table.style().pixelMetric(table.style().PixelMetric.PM_FocusFrameHMargin) - 2
    shown = []
    for row in range(view.image_model.rowCount()):
        name = view.image_model.rows[row][0]
        assert view.image_model.data(view.image_model.index(row, 0), Qt.ItemDataRole.ToolTipRole) == name
        if not long_names:
            assert table.columnWidth(0) >= metrics.horizontalAdvance(name) + 6, name  # whole, not "synt..."
        shown.append(metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, room))
    # cut (if at all) in the middle: the start and the number at the end stay, so two names still differ
    assert all(text.startswith("synth") and text[-5].isdigit() and text.endswith(".jpg") for text in shown), shown
    assert len(set(shown)) == len(shown), shown
    for each in (view.image_table, view.ap_table):  # every column in sight, no sideways scrolling
        columns = sum(each.columnWidth(c) for c in range(each.model().columnCount()))
        assert columns <= each.viewport().width(), (each.model(), columns, each.viewport().width())


def test_matrix_numbers_are_readable_on_their_cells(qtbot, open_window, project_with_run, monkeypatch):
    """Dark numbers were drawn on dark red cells: the text colour follows the cell's luminance."""
    def luminance(color):  # WCAG 2 relative luminance
        def linear(c):
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        return 0.2126 * linear(color.redF()) + 0.7152 * linear(color.greenF()) + 0.0722 * linear(color.blueF())

    def contrast_ratio(a, b):
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    folder, checkpoint = project_with_run
    # every box under the wrong name (dark red cells) plus a confident false positive
    known_detections(monkeypatch, lambda i, boxes: [(*b.xyxy(), 0.9, 1 - ["circle", "square"].index(b.label))
                                                    for b in boxes] + [(0, 0, 3, 3, 0.95, 0)])
    window = open_window(folder)
    view = evaluate(qtbot, window, checkpoint)
    model = view.matrix_model
    default_text = view.matrix.palette().color(view.matrix.foregroundRole())
    coloured = 0
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            background = model.data(index, Qt.ItemDataRole.BackgroundRole)
            if background is None:
                continue
            coloured += 1
            text = model.data(index, Qt.ItemDataRole.ForegroundRole) or default_text
            assert contrast_ratio(text, background) >= 4.5, (row, column, text.name(), background.name())
    assert coloured >= 2
