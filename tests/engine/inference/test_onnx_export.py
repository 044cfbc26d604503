"""`resyolo export --onnx` end to end: a real tiny checkpoint (resnet18, 64 px) exported, run by onnxruntime
and compared with torch; `resyolo predict --weights model.onnx`; the errors a user can run into.

Tolerance: onnxruntime and torch agree to atol 1e-4 on the sigmoid outputs (measured: ~2e-7).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from engine.model.checkpoint import CheckpointError, save_checkpoint
from engine.cli import main
from engine.model.config import ModelConfig
from engine.inference.export import OnnxExportError, export_onnx
from engine.model.network import ResYOLO
from engine.inference.onnx_detector import OnnxModel, OnnxModelError
from engine.inference.loading import load_detector

CLASSES = ["cat", "dog", "bird"]
ATOL = 1e-4


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model = ResYOLO(ModelConfig(num_classes=3, backbone="resnet18", image_size=64, boxes_per_cell=2))
    with torch.no_grad():  # BatchNorm statistics away from 0/1, so a dropped normalisation would show
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", model, CLASSES)


@pytest.fixture(scope="module")
def dynamic_onnx(checkpoint, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    assert main(["export", str(checkpoint), "--onnx", str(out), "--dynamic-batch"]) == 0
    return out


def torch_output(checkpoint: Path, images: torch.Tensor) -> np.ndarray:
    detector = load_detector(checkpoint, "cpu")
    return detector.forward(images).numpy()


@pytest.mark.parametrize("batch", [1, 3])
def test_dynamic_batch_matches_torch(checkpoint, dynamic_onnx, batch):
    images = torch.rand(batch, 3, 64, 64, generator=torch.Generator().manual_seed(batch))
    got = OnnxModel(dynamic_onnx)(images).numpy()
    assert got.shape == (batch, 2, 2, 2 * 5 + 3)
    np.testing.assert_allclose(got, torch_output(checkpoint, images), atol=ATOL, rtol=0)


def test_model_layout_and_metadata(dynamic_onnx):
    model = onnx.load(str(dynamic_onnx))
    onnx.checker.check_model(model)
    (image_input,), (output,) = model.graph.input, model.graph.output
    assert (image_input.name, output.name) == ("images", "output")
    assert image_input.type.tensor_type.shape.dim[0].dim_param  # a named, free batch dimension
    assert [d.dim_value for d in image_input.type.tensor_type.shape.dim[1:]] == [3, 64, 64]
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["format"] == "resyolo-onnx"
    assert json.loads(meta["class_names"]) == CLASSES
    assert (meta["image_size"], meta["boxes_per_cell"], meta["num_classes"]) == ("64", "2", "3")
    assert next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) == 18


def test_fixed_batch_export_runs_any_batch_in_chunks(checkpoint, tmp_path):
    out = export_onnx(checkpoint, tmp_path / "fixed.onnx", opset=17)
    model = OnnxModel(out)
    assert model.fixed_batch == 1
    images = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(7))
    np.testing.assert_allclose(model(images).numpy(), torch_output(checkpoint, images), atol=ATOL, rtol=0)


def test_predict_with_onnx_equals_checkpoint(checkpoint, dynamic_onnx, tmp_path):
    rng = np.random.default_rng(3)
    image = tmp_path / "street.png"
    Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)).save(image)
    results = {}
    for weights in (checkpoint, dynamic_onnx):
        out = tmp_path / weights.suffix.lstrip(".")
        code = main(["predict", str(image), "--weights", str(weights), "--out", str(out), "--conf", "0.0",
                     "--quiet", "--no-images"])
        assert code == 0
        results[weights.suffix] = json.loads((out / "predictions.json").read_text())
    pt, onnx_results = results[".pt"], results[".onnx"]
    assert pt, "the random network gives candidates at --conf 0"
    assert [(r["category_id"], r["image_id"]) for r in onnx_results] == [(r["category_id"], r["image_id"]) for r in pt]
    np.testing.assert_allclose([r["bbox"] for r in onnx_results], [r["bbox"] for r in pt], atol=1e-2)
    np.testing.assert_allclose([r["score"] for r in onnx_results], [r["score"] for r in pt], atol=ATOL)


def test_detector_from_onnx_has_the_checkpoint_settings(dynamic_onnx):
    detector = load_detector(dynamic_onnx, "cpu", conf_threshold=0.4)
    assert detector.class_names == CLASSES
    assert (detector.image_size, detector.config.boxes_per_cell, detector.conf_threshold) == (64, 2, 0.4)
    found = detector.detect([np.zeros((50, 70, 3), np.uint8)])
    assert len(found) == 1 and found[0].boxes.shape[1] == 4
    from engine.inference.parallel import plan_streams

    # onnxruntime keeps its own threads: the live view runs it one frame at a time
    assert plan_streams(detector.device, torch_model=detector.runs_in_torch).streams == 1


def test_export_refuses_what_is_not_a_checkpoint(tmp_path, capsys):
    not_a_checkpoint = tmp_path / "notes.pt"
    not_a_checkpoint.write_text("hello")
    assert main(["export", str(not_a_checkpoint), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "notes.pt is not a readable PyTorch file" in capsys.readouterr().err
    foreign = torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    assert foreign is None
    with pytest.raises(CheckpointError, match="foreign.pt is not a ResYOLO checkpoint"):
        export_onnx(tmp_path / "foreign.pt", tmp_path / "m.onnx")
    assert main(["export", str(tmp_path / "missing.pt"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "missing.pt: no such file" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_export_refuses_unwritable_or_existing_output(checkpoint, tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert main(["export", str(checkpoint), "--onnx", str(a_file / "m.onnx")]) == 2
    assert f"cannot create the folder {a_file}" in capsys.readouterr().err
    existing = tmp_path / "mine.onnx"
    existing.write_bytes(b"the user's own file")
    assert main(["export", str(checkpoint), "--onnx", str(existing)]) == 2
    assert "mine.onnx already exists" in capsys.readouterr().err
    assert existing.read_bytes() == b"the user's own file"
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    assert main(["export", str(checkpoint), "--onnx", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "model.pt")]) == 2
    assert "must end in .onnx" in capsys.readouterr().err
    with pytest.raises(OnnxExportError, match="opset 9 is too old"):
        export_onnx(checkpoint, tmp_path / "old.onnx", opset=9)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_export_refuses_read_only_folder(checkpoint, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["export", str(checkpoint), "--onnx", str(locked / "m.onnx")]) == 2
        assert f"cannot write into {locked}" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_predict_refuses_foreign_or_corrupt_onnx(tmp_path, capsys):
    corrupt = tmp_path / "broken.onnx"
    corrupt.write_bytes(b"\x00not a protobuf at all")
    assert main(["predict", str(tmp_path), "--weights", str(corrupt), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "broken.onnx is not a readable ONNX model" in capsys.readouterr().err

    # A valid ONNX model that `resyolo export` did not write: no class names to decode with.
    node = onnx.helper.make_node("Identity", ["images"], ["output"])
    graph = onnx.helper.make_graph(
        [node], "identity", [onnx.helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [1, 3, 64, 64])],
        [onnx.helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [1, 3, 64, 64])])
    foreign = tmp_path / "foreign.onnx"
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 18)], ir_version=9)
    onnx.save(model, str(foreign))
    with pytest.raises(OnnxModelError, match="not one written by `resyolo export`"):
        load_detector(foreign, "cpu")


def test_dynamo_exporter_matches_torch(checkpoint, tmp_path):
    out = tmp_path / "dynamo.onnx"
    assert main(["export", str(checkpoint), "--onnx", str(out), "--dynamic-batch", "--exporter", "dynamo"]) == 0
    assert not list(tmp_path.glob("*.data")), "weights inside the .onnx file, not in a separate data file"
    images = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(11))
    np.testing.assert_allclose(OnnxModel(out)(images).numpy(), torch_output(checkpoint, images), atol=ATOL, rtol=0)


def _write_with_metadata(source: Path, out: Path, **changes) -> Path:
    """A copy of an exported model whose ResYOLO metadata says other things (as if copied from another model)."""
    model = onnx.load(str(source))
    meta = {p.key: p.value for p in model.metadata_props}
    config = json.loads(meta["model_config"])
    config.update(changes)
    meta["model_config"] = json.dumps(config)
    meta["class_names"] = json.dumps([f"c{i}" for i in range(config["num_classes"])])
    del model.metadata_props[:]
    for key, value in meta.items():
        onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props}, key: value})
    onnx.save(model, str(out))
    return out


def test_predict_names_the_file_and_the_mismatch_when_the_output_shape_is_not_the_metadatas(
        dynamic_onnx, tmp_path, capsys):
    """ResYOLO metadata for 2 classes on a graph that outputs 3: used to end in a traceback inside decoding."""
    wrong = _write_with_metadata(dynamic_onnx, tmp_path / "wrong.onnx", num_classes=2)
    image = tmp_path / "images" / "a.png"
    image.parent.mkdir()
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(image)
    code = main(["predict", str(image.parent), "--weights", str(wrong), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "wrong.onnx" in err and "N x 2 x 2 x 13" in err and "implies N x 2 x 2 x 12" in err
    assert "Traceback" not in err
    with pytest.raises(OnnxModelError, match="another model"):
        OnnxModel(_write_with_metadata(dynamic_onnx, tmp_path / "head.onnx", head="anchor_free"))
