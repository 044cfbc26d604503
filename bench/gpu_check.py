"""GPU check: a short real training run and an inference throughput measurement on CUDA.

    python bench/gpu_check.py [--backbone resnet50] [--size 640] [--batch 32] [--epochs 2] [--images 256]
                              [--compile]

1. Training: ``resyolo synth`` data (``--images`` at ``--size``), the default modern preset and anchor-free head,
   through the real :class:`engine.training.trainer.Trainer` on CUDA (AMP in bf16 where supported, else fp16;
   channels-last), for ``--epochs``; prints images/s per epoch and the validation mAP.
2. Inference: the trained network's forward at batch 1 and ``--batch`` (under the Detector's autocast), and the
   full ``Detector.detect`` path on uint8 images; optionally after ``torch.compile``.

Without CUDA it says so and exits 0 (CI and the project's machines have no GPU).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--size", type=int, default=640)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--compile", action="store_true", help="also time the forward after torch.compile")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here (torch.cuda.is_available() is False); nothing to measure.")
        return 0
    import numpy as np

    from engine.annotations.folder import load_folder
    from engine.model.config import ModelConfig
    from engine.data.dataset import DetectionDataset
    from engine.data.split import split_train_val
    from engine.inference.loading import load_detector
    from engine.data.synth import generate_dataset
    from engine.training.trainer import Trainer
    from engine.training.config import TrainConfig
    from engine.model.weights import build_model

    name = torch.cuda.get_device_name(0)
    bf16 = torch.cuda.is_bf16_supported()
    print(f"device: {name}, torch {torch.__version__}, AMP {'bf16' if bf16 else 'fp16'}, channels-last")
    work = Path(tempfile.mkdtemp(prefix="resyolo_gpu_check_"))
    try:
        generate_dataset(work / "data", num_images=args.images, num_classes=4, seed=0, fmt="voc",
                         image_size=(args.size, args.size))
        loaded = load_folder(work / "data")
        train, val = split_train_val(loaded.annotations, 0.2, seed=0)
        model, _ = build_model(ModelConfig(num_classes=4, backbone=args.backbone, image_size=args.size,
                                           head="anchor_free"), "none")
        config = TrainConfig.modern(epochs=args.epochs, batch_size=args.batch, device="cuda", workers=4,
                                    eval_every=args.epochs)
        trainer = Trainer(model, loaded.labels.names,
                          DetectionDataset(train, loaded.labels, args.size, train=True, augment=config.augmentation()),
                          DetectionDataset(val, loaded.labels, args.size, train=False), config, work / "run")
        result = trainer.fit()
        for row in result.history:
            print(f"train epoch {int(row['epoch'])}: {row['images_per_s']:.1f} img/s ({row['epoch_seconds']:.1f} s), "
                  f"loss {row['loss']:.3f}" + (f", val mAP@0.5 {row['map50']:.3f}" if "map50" in row else ""))
        print(f"training: {result.status}; peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")

        detector = load_detector(work / "run" / "last.pt", "cuda")
        rows = []
        for batch in (1, args.batch):
            inputs = torch.rand(batch, 3, args.size, args.size, device="cuda").contiguous(
                memory_format=torch.channels_last)
            seconds = timed(lambda: detector.forward(inputs), args.repeats)
            rows.append(f"forward, batch {batch}: {seconds * 1000:.2f} ms, {batch / seconds:.0f} img/s")
        images = [(np.random.default_rng(i).random((480, 640, 3)) * 255).astype(np.uint8) for i in range(args.batch)]
        seconds = timed(lambda: detector.detect(images), max(3, args.repeats // 4))
        rows.append(f"full detect of {args.batch} 640x480 uint8 images: {seconds * 1000:.1f} ms, "
                    f"{args.batch / seconds:.0f} img/s")
        if args.compile:
            detector.model = torch.compile(detector.model)
            inputs = torch.rand(args.batch, 3, args.size, args.size, device="cuda").contiguous(
                memory_format=torch.channels_last)
            seconds = timed(lambda: detector.forward(inputs), args.repeats)
            rows.append(f"torch.compile forward, batch {args.batch}: {seconds * 1000:.2f} ms, "
                        f"{args.batch / seconds:.0f} img/s")
        print("\n".join(rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
