"""Inference benchmark: bare network forward, decoding + NMS alone, and full detection of an image file.

    python bench/inference.py [--backbone resnet50] [--size 448] [--device auto] [--repeats 10]

Prints medians: latency at batch 1 and throughput at batch 8. On the CPU: channels-last and inference mode;
on CUDA: autocast (bf16/fp16). Targets on the 2-core CPU: full detection within 1.15x of the bare forward at
batch 1, decoding + NMS under 2 ms per image.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._timing import median_seconds, print_table  # noqa: E402
from engine.model.config import ModelConfig  # noqa: E402
from engine.model.device import device_description  # noqa: E402
from engine.io.images import read_image  # noqa: E402
from engine.inference.detector import Detector  # noqa: E402
from engine.model.weights import build_model  # noqa: E402


def detection_like_output(n: int, s: int, b: int, c: int, objects: int = 5, seed: int = 0) -> torch.Tensor:
    """An output shaped like a trained detector's: low confidences except at a few object cells."""
    g = torch.Generator().manual_seed(seed)
    out = torch.rand(n, s, s, b * 5 + c, generator=g)
    out[..., 4:5 * b:5] *= 0.05
    cells = torch.randint(0, s, (n, objects, 2), generator=g)
    for i in range(n):
        for row, col in cells[i].tolist():
            out[i, row, col, 4:5 * b:5] = 0.9
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    config = ModelConfig(num_classes=args.classes, backbone=args.backbone, image_size=args.size)
    model, _ = build_model(config, "none")
    detector = Detector(model, [f"c{i}" for i in range(args.classes)], device=args.device, conf_threshold=0.25)
    dev = detector.device
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    print(f"device: {device_description(dev)} ({dev}), torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{args.backbone} at {args.size}, repeats {args.repeats}")

    rng = np.random.default_rng(0)
    image_dir = Path(tempfile.mkdtemp())
    image_path = image_dir / "frame.jpg"
    cv2.imwrite(str(image_path), rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    s, b, c = config.grid_size, config.boxes_per_cell, config.num_classes

    rows = []
    fwd = {}
    for n in (1, 8):
        batch = detector.preprocess([read_image(image_path)] * n)
        fwd[n] = median_seconds(lambda: detector.forward(batch), args.repeats, sync=sync)
    rows.append(("bare forward", f"{fwd[1] * 1e3:.1f} ms", f"{8 / fwd[8]:.1f} img/s"))

    dec = {}
    for kind, make in (("sparse (trained-like)", detection_like_output), ("dense (random output)", None)):
        for n in (1, 8):
            out = (make(n, s, b, c) if make else torch.rand(n, s, s, b * 5 + c)).to(dev)
            dec[kind, n] = median_seconds(lambda: detector.decode(out, [(640, 480)] * n), args.repeats * 5, sync=sync)
        rows.append((f"decode + NMS, {kind}", f"{dec[kind, 1] * 1e3:.2f} ms", f"{8 / dec[kind, 8]:.0f} img/s"))

    full = {}
    for n in (1, 8):
        paths = [image_path] * n
        full[n] = median_seconds(lambda: list(detector.detect_files(paths, batch_size=n)), args.repeats, sync=sync)
    rows.append(("full detection of a 640x480 JPEG file", f"{full[1] * 1e3:.1f} ms", f"{8 / full[8]:.1f} img/s"))
    print_table("Inference (medians)", rows)
    print(f"\nfull / bare forward at batch 1: {full[1] / fwd[1]:.3f}x (target <= 1.15x)")
    print(f"decode + NMS per image (sparse, batch 8): {dec['sparse (trained-like)', 8] / 8 * 1e3:.3f} ms (target < 2 ms)")


if __name__ == "__main__":
    main()
