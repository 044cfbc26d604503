"""Checks run inside the frozen bundle by ``resyolo --self-test`` (see build_bundle.sh); prints one line each.

1. spawn: the engine's DataLoader with one spawned worker over the bundled sample project yields a batch
   (a training run in the app starts its workers this way).
2. onnx: a tiny random detector exports to ONNX, onnxruntime's output matches torch's, and detection on a
   sample image decodes it (torchvision's NMS).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def check_spawned_dataloader() -> str:
    from engine.annotations.folder import load_folder
    from engine.data.dataset import DetectionDataset, make_dataloader
    from resyolo_gui.app import SAMPLE_FOLDER

    loaded = load_folder(SAMPLE_FOLDER)
    dataset = DetectionDataset(loaded.annotations[:4], loaded.labels, 64, train=False)
    loader = make_dataloader(dataset, batch_size=2, shuffle=False, workers=1)
    images, targets = next(iter(loader))
    if tuple(images.shape) != (2, 3, 64, 64):
        raise AssertionError(f"unexpected batch shape {tuple(images.shape)}")
    return f"batch {tuple(images.shape)} from a spawned worker"


def check_onnx_export() -> str:
    import numpy as np
    import torch

    from engine.model.checkpoint import save_checkpoint
    from engine.model.config import ModelConfig
    from engine.inference.export import export_onnx
    from engine.model.network import ResYOLO
    from engine.io.images import read_image
    from engine.inference.onnx_detector import OnnxModel
    from engine.inference.loading import load_detector
    from resyolo_gui.app import SAMPLE_FOLDER

    sample_image = SAMPLE_FOLDER / "synth_0000.jpg"

    model = ResYOLO(ModelConfig(num_classes=2, backbone="resnet18", image_size=64)).eval()
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = save_checkpoint(Path(folder) / "tiny.pt", model, ["a", "b"])
        onnx_path = export_onnx(checkpoint, Path(folder) / "tiny.onnx", dynamic_batch=True)
        images = torch.rand(2, 3, 64, 64)
        with torch.inference_mode():
            expected = model(images).numpy()
        got = OnnxModel(onnx_path)(images).numpy()
        # Decoding runs torchvision's compiled NMS: proves its extension made it into the bundle too.
        detections = load_detector(onnx_path, "cpu", conf_threshold=0.0).detect([read_image(sample_image)])
    difference = float(np.abs(got - expected).max())
    if difference > 1e-4:
        raise AssertionError(f"ONNX output differs from torch by {difference:.2e}")
    return f"exported and ran, max difference {difference:.1e}; {len(detections[0].scores)} detections after NMS"


def run_self_test() -> int:
    failures = 0
    for name, check in (("spawn", check_spawned_dataloader), ("onnx", check_onnx_export)):
        started = time.perf_counter()
        try:
            result = check()
        except Exception as exc:  # report every check, then fail
            failures += 1
            print(f"self-test {name}: FAILED {type(exc).__name__}: {exc}", flush=True)
            continue
        print(f"self-test {name}: ok ({result}, {time.perf_counter() - started:.1f} s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(run_self_test())
