"""Training and evaluation from the app with real input: the Train panel filled in by typing, Start for one epoch
and its finish; Start again and Stop within a batch, then Resume that run from the Runs panel; then Evaluate the run's checkpoint and click a cell of the
confusion matrix, which lists its images."""
from __future__ import annotations

from PySide6.QtCore import Qt


def busiest_cell(model):
    """The confusion-matrix cell with the most boxes (a cell a person would click)."""
    cells = [(r, c) for r in range(model.rowCount()) for c in range(model.columnCount())]

    def count(cell):
        text = model.data(model.index(*cell), Qt.ItemDataRole.DisplayRole)
        return int(text) if isinstance(text, str) and text.isdigit() else (text if isinstance(text, int) else 0)

    return max(cells, key=count)


def training_feature(window):
    return next(f for f in window.features if type(f).__name__ == "TrainingFeature")


def type_into(real, widget, text: str) -> None:
    """Click a field, replace its text as a person does, leave it with Tab."""
    real.click(widget)
    real.key("ctrl+a")
    real.type(text)
    real.key("Tab")


def choose(real, combo, text: str) -> None:
    """Open a combo box with a click and pick the entry ``text`` by typing its start."""
    real.click(combo)
    real.qtbot.waitUntil(lambda: combo.view().isVisible(), timeout=5000)
    real.type(text)
    real.key("Return")
    real.qtbot.waitUntil(lambda: combo.currentText() == text, timeout=5000)


def fill_quick_run(real, panel, epochs: int) -> None:
    choose(real, panel.backbone, "resnet18")
    type_into(real, panel.image_size, "64")
    type_into(real, panel.epochs, str(epochs))
    type_into(real, panel.batch_size, "8")
    assert (panel.backbone.currentText(), panel.image_size.value(), panel.epochs.value()) == ("resnet18", 64, epochs)


def test_train_one_epoch_stop_a_run_then_evaluate(real, open_app, sample_copy, shots_dir):
    window = open_app(sample_copy)
    feature = training_feature(window)
    panel = feature.panel
    real.key("ctrl+shift+t")
    real.qtbot.waitUntil(lambda: feature.train_dock.isVisible() and panel.start_button.isVisible(), timeout=5000)
    fill_quick_run(real, panel, epochs=1)
    finished = []
    feature.run_finished.connect(finished.append)
    real.click(panel.start_button)
    real.qtbot.waitUntil(lambda: bool(finished), timeout=180_000)
    assert finished[0].status == "finished", finished[0].message
    assert panel.progress.format() == "Finished"
    real.screenshot(shots_dir / "trained-one-epoch.png")

    type_into(real, panel.epochs, "200")
    real.click(panel.start_button)
    real.qtbot.waitUntil(lambda: feature.running and panel.stop_button.isEnabled(), timeout=30_000)
    real.qtbot.wait(1500)  # a batch or two
    real.click(panel.stop_button)
    real.qtbot.waitUntil(lambda: len(finished) == 2, timeout=60_000)
    assert finished[1].status == "stopped" and not feature.running
    assert panel.start_button.isEnabled()

    # Resume the stopped run from the Runs panel: Train > Training Runs, its row, Resume run…, the epoch asked
    runs = feature.runs_panel
    real.key("alt+t")
    real.key("r")
    real.qtbot.waitUntil(lambda: runs.isVisible() and "run2" in runs.run_names(), timeout=5000)
    row = next(runs.tree.topLevelItem(i) for i in range(runs.tree.topLevelItemCount())
               if runs.tree.topLevelItem(i).text(0) == "run2")
    real.click(runs.tree.viewport(), runs.tree.visualItemRect(row).center())
    real.qtbot.waitUntil(runs.resume_button.isEnabled, timeout=5000)
    done = len(runs.runs[runs.run_names().index("run2")].results)  # epochs done before the stop (0 or more)
    real.answer_dialog("Resume run", ("key", "ctrl+a"), ("type", str(done + 1)), ("key", "Return"))  # one more
    real.click(runs.resume_button)
    real.finish_background()
    real.qtbot.waitUntil(lambda: len(finished) == 3, timeout=180_000)
    assert finished[2].status == "finished" and finished[2].out_dir.name == "run2", finished[2].message
    assert runs.status_of("run2") == "finished" and sorted(runs.run_names()) == ["run1", "run2"]

    evaluation = next(f for f in window.features if type(f).__name__ == "EvaluationFeature")
    real.key("alt+a")  # the Evaluate menu (Alt+E is Edit)
    real.key("Return")  # Evaluate a checkpoint…
    real.qtbot.waitUntil(lambda: evaluation.evaluation_window is not None
                         and evaluation.evaluation_window.isVisible(), timeout=5000)
    view = evaluation.evaluation_window
    real.qtbot.waitExposed(view)
    assert view.current_checkpoint() is not None  # the project's runs are offered first
    real.click(view.evaluate_button)
    real.qtbot.waitUntil(lambda: view.evaluation is not None and not view.is_running(), timeout=120_000)
    matrix = view.matrix
    index = view.matrix_model.index(*busiest_cell(view.matrix_model))
    real.click(matrix.viewport(), matrix.visualRect(index).center())
    real.qtbot.waitUntil(lambda: view.image_model.rowCount() > 0, timeout=5000)
    assert view.images_caption.text()
    real.screenshot(shots_dir / "evaluation-cell.png")
