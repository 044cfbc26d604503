"""Which weights a checkpoint detects with: those that earned the figures its run lists for it (plain or EMA),
so evaluating a run's best.pt gives the mAP@0.5 the run lists."""
import pytest
import torch

from engine.model.checkpoint import inference_weights, load_checkpoint, model_from_checkpoint, save_checkpoint
from engine.model.config import ModelConfig
from engine.data.dataset import DetectionDataset
from engine.inference.loading import load_detector
from engine.training.runs import read_run
from engine.training.trainer import Trainer
from engine.training.config import TrainConfig
from engine.training.validation import score_detections
from engine.model.weights import build_model, load_weights_file

SIZE = 64


def train_run(loaded, out_dir, **overrides):
    torch.manual_seed(0)
    names = loaded.labels.names
    model, _ = build_model(ModelConfig(num_classes=len(names), backbone="resnet18", image_size=SIZE), "none")
    options = dict(epochs=2, batch_size=4, optimizer="adamw", lr=1e-3, workers=0, eval_every=1, device="cpu")
    options.update(overrides)
    train = DetectionDataset(loaded.annotations, loaded.labels, SIZE, train=True)
    val = DetectionDataset(loaded.annotations[:4], loaded.labels, SIZE, train=False)
    Trainer(model, names, train, val, TrainConfig(**options), out_dir).fit()
    return val


def evaluated_map50(checkpoint, val):
    """What the evaluation window does: detect on the validation files at conf 0.01, score VOC07 mAP@0.5."""
    detector = load_detector(checkpoint, device="cpu", conf_threshold=0.01)
    detections = dict(enumerate(d for _, d in detector.detect_files([a.image_path for a in val.annotations])))
    return score_detections(val, detections)["map50"]


@pytest.mark.parametrize("ema_start_step", [100, 1], ids=["ema-never-updated", "ema-updated"])
def test_best_checkpoint_evaluates_to_the_figure_its_run_lists(tiny_dataset, tmp_path, ema_start_step):
    """A 4-step run never reaches the EMA's start (step 100): its EMA is the initial weights, and best.pt was
    evaluated with the EMA anyway ("best (mAP@0.5 0.009)" evaluated to 0.000)."""
    _, loaded = tiny_dataset
    val = train_run(loaded, tmp_path, ema_start_step=ema_start_step, ema_every=1)
    listed = read_run(tmp_path).best_map50()
    assert listed is not None
    assert evaluated_map50(tmp_path / "best.pt", val) == pytest.approx(listed, abs=1e-6)
    state = load_checkpoint(tmp_path / "best.pt")
    _, which = inference_weights(state)
    assert which == ("plain" if ema_start_step == 100 else which)


def _state(ema_updates=None, metrics=None, with_ema=True):
    torch.manual_seed(0)
    plain, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=SIZE), "none")
    ema, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=SIZE), "none")
    state = {"model": plain.state_dict(), "ema": ema.state_dict() if with_ema else None, "metrics": metrics or {}}
    if ema_updates is not None:
        state["ema_updates"] = ema_updates
    return state


@pytest.mark.parametrize("updates, metrics, expected", [
    (0, {"map50": 0.009}, "plain"),                        # EMA never averaged: the initial weights
    (7, {"map50": 0.30, "ema_map50": 0.10}, "plain"),      # the plain weights earned "best"
    (7, {"map50": 0.10, "ema_map50": 0.30}, "ema"),
    (7, {"map50": 0.20, "ema_map50": 0.20}, "ema"),        # a tie goes to the EMA, as in the trainer
    (7, {}, "ema"),                                        # no figures (a last.pt saved mid-epoch)
    (None, {}, "ema"),                                     # a checkpoint from before ema_updates was kept
])
def test_inference_weights_are_those_that_earned_the_figures(updates, metrics, expected):
    state = _state(updates, metrics)
    weights, which = inference_weights(state)
    assert which == expected
    source = state["ema"] if expected == "ema" else state["model"]
    assert weights.keys() == source.keys() and all(weights[k] is v for k, v in source.items())  # float32: as stored
    assert inference_weights(state, use_ema=False)[1] == "plain"
    assert inference_weights(_state(updates, metrics, with_ema=False))[1] == "plain"


def test_detection_and_fine_tuning_start_from_the_same_weights(tmp_path):
    torch.manual_seed(0)
    config = ModelConfig(num_classes=2, backbone="resnet18", image_size=SIZE)
    plain, _ = build_model(config, "none")
    initial, _ = build_model(config, "none")
    path = save_checkpoint(tmp_path / "best.pt", plain, ["a", "b"], ema=initial.state_dict(), ema_updates=0,
                           metrics={"map50": 0.009})
    model, _, _ = model_from_checkpoint(path)
    tuned, _ = build_model(config, "none")
    load_weights_file(tuned, path)
    for key, value in plain.state_dict().items():
        assert torch.equal(model.state_dict()[key], value) and torch.equal(tuned.state_dict()[key], value), key


def test_best_pt_is_inference_only_in_half_precision_and_last_pt_keeps_the_resume_state(tiny_dataset, tmp_path):
    """Each checkpoint was 163 MB (resnet18) and a run kept two: best.pt now holds one set of weights, half."""
    _, loaded = tiny_dataset
    # One epoch: best.pt and last.pt then hold the same epoch's weights (with two, which epoch scores best
    # depends on the arithmetic: bfloat16 autocast on CPUs that have it).
    train_run(loaded, tmp_path, ema_start_step=1, ema_every=1, epochs=1)
    best, last = load_checkpoint(tmp_path / "best.pt"), load_checkpoint(tmp_path / "last.pt")
    assert best["weights"] in ("ema", "plain") and best["ema"] is None and "optimizer" not in best
    floats = [v for v in best["model"].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    assert last["ema"] is not None and "optimizer" in last and "weights" not in last
    assert all(v.dtype == torch.float32 for v in last["model"].values() if v.is_floating_point())
    assert (tmp_path / "best.pt").stat().st_size * 5 < (tmp_path / "last.pt").stat().st_size

    # detects, evaluates and starts a fine-tune in float32, from the weights it names
    model, names, _ = model_from_checkpoint(tmp_path / "best.pt")
    assert names == loaded.labels.names
    assert all(p.dtype == torch.float32 for p in model.parameters())
    expected = last["ema"] if best["weights"] == "ema" else last["model"]
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(value, expected[key].float(), rtol=1e-3, atol=1e-3), key
    tuned, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=SIZE), "none")
    load_weights_file(tuned, tmp_path / "best.pt")
    assert all(torch.equal(tuned.state_dict()[k], v) for k, v in model.state_dict().items())


def test_resuming_from_best_pt_says_to_use_last_pt(tiny_dataset, tmp_path):
    from engine.training.trainer import TrainingError

    _, loaded = tiny_dataset
    train_run(loaded, tmp_path, epochs=1)
    torch.manual_seed(0)
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=SIZE), "none")
    data = DetectionDataset(loaded.annotations, loaded.labels, SIZE, train=True)
    trainer = Trainer(model, loaded.labels.names, data, None, TrainConfig(epochs=2, batch_size=4, workers=0), None)
    with pytest.raises(TrainingError, match="no optimiser state"):
        trainer.load_resume_state(tmp_path / "best.pt")
    trainer.load_resume_state(tmp_path / "last.pt")
    assert trainer.start_epoch == 1
