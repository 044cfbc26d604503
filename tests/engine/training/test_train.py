"""The trainer on tiny real data: events, outputs, stop, NaN guard, resume, EMA and the lr schedule."""
import math

import pytest
import torch

from engine.model.checkpoint import load_checkpoint
from engine.model.config import ModelConfig
from engine.data.dataset import DetectionDataset
from engine.training.ema import ramped_decay
from engine.training.events import BatchEnd, EpochEnd, TrainEnd, TrainStart, ValidationEnd
from engine.training.results_csv import read_results
from engine.training.schedule import lr_factor
from engine.training.trainer import Trainer
from engine.training.config import TrainConfig
from engine.model.weights import build_model

SIZE = 64


def make_trainer(loaded, out_dir, callbacks=(), val="some", **overrides):
    torch.manual_seed(0)
    names = loaded.labels.names
    model, _ = build_model(ModelConfig(num_classes=len(names), backbone="resnet18", image_size=SIZE), "none")
    options = dict(epochs=2, batch_size=4, optimizer="adamw", lr=1e-3, schedule="cosine", workers=0, eval_every=1,
                   ema_start_step=1, ema_every=1)
    options.update(overrides)
    train = DetectionDataset(loaded.annotations, loaded.labels, SIZE, train=True)
    val = DetectionDataset(loaded.annotations[:4], loaded.labels, SIZE, train=False) if val else None
    return Trainer(model, names, train, val, TrainConfig(**options), out_dir, list(callbacks))


def test_fit_emits_typed_events_in_order_and_writes_the_run(tiny_dataset, tmp_path):
    _, loaded = tiny_dataset
    events = []
    result = make_trainer(loaded, tmp_path, [events.append]).fit()
    assert result.status == "finished" and result.epochs_done == 2
    kinds = [type(e) for e in events]
    assert kinds == [TrainStart, BatchEnd, BatchEnd, EpochEnd, ValidationEnd, BatchEnd, BatchEnd, EpochEnd,
                     ValidationEnd, TrainEnd]
    batch = next(e for e in events if isinstance(e, BatchEnd))
    assert set(batch.components) == {"regression", "containment", "no_object", "class"}  # the recipe head's
    for value in (batch.loss, batch.lr, batch.images_per_s, batch.eta_s, *batch.components.values()):
        assert isinstance(value, float) and math.isfinite(value)
    evaluation = next(e for e in events if isinstance(e, ValidationEnd))
    assert evaluation.ema_map50 is not None and math.isfinite(evaluation.map)
    assert events[-1].status == "finished" and events[-1].epochs_done == 2
    rows = read_results(tmp_path / "results.csv")
    assert ValidationEnd.from_row(rows[0]).map50 == pytest.approx(evaluation.map50, rel=1e-5, abs=1e-6)
    assert set(EpochEnd.from_row(rows[0]).components) == set(batch.components)
    assert [r["epoch"] for r in rows] == [1, 2] and all(math.isfinite(r["map50"]) for r in rows)
    last = load_checkpoint(tmp_path / "last.pt")
    assert last["epoch"] == 2 and last["ema"] is not None and last["class_names"] == loaded.labels.names
    assert (tmp_path / "best.pt").is_file() and result.best_checkpoint == tmp_path / "best.pt"


def test_stop_request_takes_effect_within_one_batch_and_keeps_a_checkpoint(tiny_dataset, tmp_path):
    _, loaded = tiny_dataset
    batches = []

    def stop_at_second_batch(event):
        if isinstance(event, BatchEnd):
            batches.append(event.step)
            if event.step == 2:
                trainer.request_stop()

    trainer = make_trainer(loaded, tmp_path, [stop_at_second_batch], epochs=3)
    result = trainer.fit()
    assert result.status == "stopped" and batches == [1, 2]
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["global_step"] == 2 and state["epoch"] == 1 and state["batch_in_epoch"] == 0
    assert "optimizer" in state


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tiny_dataset, tmp_path):
    _, loaded = tiny_dataset
    trainer = make_trainer(loaded, tmp_path, epochs=3)
    real_loss = trainer.loss_fn.forward
    calls = {"n": 0}

    def loss_turning_nan(output, target):
        calls["n"] += 1
        parts = real_loss(output, target)
        if calls["n"] > 2:  # after the first epoch (2 batches)
            parts["total"] = parts["total"] * float("nan")
        return parts

    trainer.loss_fn.forward = loss_turning_nan
    result = trainer.fit()
    assert result.status == "failed" and "nan" in result.message.lower() and "epoch 2" in result.message
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_resumed_run_ends_like_an_uninterrupted_one(tiny_dataset, tmp_path):
    _, loaded = tiny_dataset
    whole = make_trainer(loaded, tmp_path / "whole", epochs=3).fit()

    def stop_mid_epoch_two(event):
        if isinstance(event, BatchEnd) and event.step == 3:
            first.request_stop()

    first = make_trainer(loaded, tmp_path / "split", [stop_mid_epoch_two], epochs=3)
    assert first.fit().status == "stopped"
    second = make_trainer(loaded, tmp_path / "split", epochs=3)
    second.load_resume_state(tmp_path / "split" / "last.pt")
    resumed = second.fit()
    assert resumed.status == "finished" and [r["epoch"] for r in resumed.history] == [1, 2, 3]
    a, b = whole.history[-1], resumed.history[-1]
    assert b["loss"] == pytest.approx(a["loss"], rel=0.02)
    wa, wb = load_checkpoint(tmp_path / "whole" / "last.pt"), load_checkpoint(tmp_path / "split" / "last.pt")
    diff = max((wa["model"][k].float() - wb["model"][k].float()).abs().max().item() for k in wa["model"])
    assert diff < 1e-3


def test_resume_refuses_a_checkpoint_of_another_model(tiny_dataset, tmp_path):
    from engine.model.checkpoint import save_checkpoint
    from engine.training.trainer import TrainingError

    _, loaded = tiny_dataset
    other, _ = build_model(ModelConfig(num_classes=5, backbone="resnet18", image_size=SIZE), "none")
    path = save_checkpoint(tmp_path / "other.pt", other, list("abcde"))
    with pytest.raises(TrainingError, match="another model configuration"):
        make_trainer(loaded, tmp_path / "run").load_resume_state(path)


def test_ema_decay_ramps_and_is_capped():
    assert ramped_decay(0, 0.9999) == 0.0
    assert ramped_decay(100, 0.9999) == pytest.approx(1 - 101 ** (-2 / 3))
    assert ramped_decay(10**9, 0.9999) == 0.9999


def test_lr_schedule_warmup_then_multistep_and_cosine():
    multi = TrainConfig(epochs=80, warmup_epochs=1, milestones=[40, 60])
    assert lr_factor(0, 10, multi) == pytest.approx(0.1)
    assert lr_factor(5, 10, multi) == pytest.approx(0.55)
    assert lr_factor(10, 10, multi) == 1.0
    assert lr_factor(400, 10, multi) == pytest.approx(0.1) and lr_factor(600, 10, multi) == pytest.approx(0.01)
    cosine = TrainConfig(epochs=10, schedule="cosine", min_lr_factor=0.0)
    assert lr_factor(0, 10, cosine) == pytest.approx(1.0)
    assert lr_factor(50, 10, cosine) == pytest.approx(0.5)
    assert lr_factor(100, 10, cosine) == pytest.approx(0.0, abs=1e-9)


def test_a_diverged_run_never_saves_infinite_batchnorm_statistics_and_resumes(tiny_dataset, tmp_path):
    """An lr that jumps to 1e6 after the first epoch (x1e9 at a milestone): the loss stays finite for a while
    after the BatchNorm running variances have overflowed to inf; the checkpoint written then used to hold them,
    and resuming it at a sane lr failed at once. Now no checkpoint holds a non-finite tensor, the run stops at the
    overflow with a message, and its last.pt resumes."""
    _, loaded = tiny_dataset
    # float32 (amp off): the kept weights sit near the edge of the float range, where a CPU's bfloat16 autocast
    # rounds the first resumed batch over it again (the guard then stops that run too, as it should).
    diverging = dict(optimizer="sgd", lr=1e-3, schedule="multistep", milestones=[1], gamma=1e9, val=None, amp=False)
    result = make_trainer(loaded, tmp_path, epochs=4, **diverging).fit()
    assert result.status == "failed" and "lower learning rate" in result.message
    state = load_checkpoint(tmp_path / "last.pt")
    for weights in (state["model"], state["ema"]):
        assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())
    resumed = make_trainer(loaded, tmp_path, epochs=state["epoch"] + 1, optimizer="sgd", lr=1e-4, schedule="constant",
                           val=None, amp=False)
    resumed.load_resume_state(tmp_path / "last.pt")
    again = resumed.fit()
    assert again.status == "finished", again.message
    assert math.isfinite(again.history[-1]["loss"])


@pytest.mark.parametrize("native_bf16, amp, expected", [(True, True, torch.bfloat16), (True, False, None),
                                                         (False, True, None)])
def test_cpu_training_autocasts_to_bfloat16_only_where_the_cpu_computes_it(tiny_dataset, tmp_path, monkeypatch,
                                                                          native_bf16, amp, expected):
    import engine.training.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: native_bf16)
    _, loaded = tiny_dataset
    trainer = make_trainer(loaded, tmp_path, device="cpu", amp=amp)
    assert trainer.amp_dtype == expected
    assert not trainer.scaler.is_enabled()  # no loss scaling for bfloat16
    assert isinstance(trainer.optimizer, torch.optim.AdamW) and trainer.optimizer.defaults["fused"]
