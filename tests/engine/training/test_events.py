"""The trainer's events: typed payloads that refuse what their readers could not read, and the results CSV
row they make."""
from __future__ import annotations

import io
import math
from dataclasses import FrozenInstanceError

import pytest

from engine.commands.train_console import EpochProgress
from engine.training.events import (EVENTS, RESULT_COLUMNS, BatchEnd, EpochEnd, TrainEnd, TrainStart, ValidationEnd,
                                    result_row)
from engine.training.results_csv import read_results, write_results


def test_events_are_frozen_and_components_are_the_heads_parts():
    batch = BatchEnd(1, 2, 4, 2, lr=0.01, loss=1.5, images_per_s=3.0, eta_s=9.0, components={"iou": 1, "dfl": 0.5})
    assert batch.components == {"iou": 1.0, "dfl": 0.5} and batch.progress == pytest.approx(0.5)
    with pytest.raises(FrozenInstanceError):
        batch.loss = 2.0
    with pytest.raises(TypeError):
        batch.components["iou"] = 3.0  # read-only, as the events reach several readers
    with pytest.raises(ValueError, match="unknown loss component.*ciou"):
        EpochEnd(1, 0.01, 1.0, 3.0, 2.0, {"ciou": 1.0})
    with pytest.raises(ValueError, match="status 'done'"):
        TrainEnd("done", "", 0.0, 1)
    assert len({e.__name__ for e in EVENTS}) == len(EVENTS) == 6


def test_result_row_round_trips_through_the_results_csv(tmp_path):
    epoch = EpochEnd(3, 0.001, 2.5, 40.0, 12.0, {"iou": 1.25, "dfl": 0.75, "class": 0.5})
    validation = ValidationEnd(3, 0.625, 0.375, ema_map50=0.6875, ema_map=0.4375)
    unevaluated = EpochEnd(4, 0.0005, 2.25, 41.0, 11.5, {"iou": 1.0, "dfl": 0.5, "class": 0.75})
    write_results(tmp_path / "results.csv", [result_row(epoch, validation), result_row(unevaluated)])
    header = (tmp_path / "results.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == RESULT_COLUMNS
    first, second = read_results(tmp_path / "results.csv")
    assert EpochEnd.from_row(first) == epoch and ValidationEnd.from_row(first) == validation
    assert EpochEnd.from_row(second) == unevaluated and ValidationEnd.from_row(second) is None
    assert math.isnan(second["map50"]) and math.isnan(first["regression"])  # the other head's parts: empty


def test_validation_without_ema_leaves_its_columns_empty():
    row = result_row(EpochEnd(1, 0.1, 1.0, 1.0, 1.0), ValidationEnd(1, 0.5, 0.25))
    assert "ema_map50" not in row and ValidationEnd.from_row(row) == ValidationEnd(1, 0.5, 0.25)


def test_console_line_of_an_evaluated_epoch_carries_its_map():
    out = io.StringIO()
    progress = EpochProgress(2, out=out)
    progress(TrainStart(2, 0, 1, 8, "cpu"))
    progress(EpochEnd(1, 0.01, 1.5, 8.0, 1.0, {"iou": 1.0, "dfl": 0.25, "class": 0.25}))
    progress(ValidationEnd(1, 0.5, 0.25, 0.625, 0.375))
    progress(EpochEnd(2, 0.01, 1.25, 8.0, 1.0, {"iou": 0.75, "dfl": 0.25, "class": 0.25}))
    progress(TrainEnd("finished", "trained 2 epochs", 0.625, 2))
    lines = out.getvalue().splitlines()
    assert lines[0] == "training epochs 1-2, 1 batch(es) per epoch on cpu"
    assert lines[1].startswith("epoch 1/2  loss 1.5 (cls 0.25, ciou 1, dfl 0.25)  mAP50 0.5000 mAP 0.2500 "
                               "(EMA: 0.6250 / 0.3750)")
    assert lines[2].startswith("epoch 2/2  loss 1.25 (") and "mAP" not in lines[2]
