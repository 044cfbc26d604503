"""Which parts close the gap: the head, the assigner and loss, the augmentation, the schedule.

    python bench/ablation.py [--size 160] [--epochs 10] [--train-images 240] [--val-images 60] [--backbone resnet18]
                             [--only NAME ...]

Every variant trains the same ResNet from random weights (seed 0) on the same generated dataset
(``engine.data.synth``, 4 classes), at the same size, batch and number of epochs, and is scored on the same
validation images (VOC07 mAP@0.5 and COCO mAP@[.5:.95], best of plain and EMA weights, last epoch):

    recipe               the study: YOLO v1 head, SGD 1e-3 + steps, the recipe's augmentation
    recipe+schedule      the YOLO v1 head with the modern schedule (AdamW, warm-up, cosine, EMA every step)
    head                 the anchor-free head (task-aligned assigner, CIoU + DFL + BCE), modern schedule, recipe
                         augmentation
    head+static-assign   as `head` but a static assignment (points nearest each centre, hard targets)
    full                 the default: anchor-free head, modern schedule, modern augmentation (mosaic, ...)
    full-recipe-schedule the anchor-free head and modern augmentation with the recipe's SGD schedule

Prints one line per variant and a Markdown table at the end.
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
from engine.annotations.folder import load_folder  # noqa: E402
from engine.model.config import ModelConfig  # noqa: E402
from engine.data.dataset import DetectionDataset  # noqa: E402
from engine.data.split import split_train_val  # noqa: E402
from engine.data.synth import generate_dataset  # noqa: E402
from engine.training.trainer import Trainer  # noqa: E402
from engine.training.config import TrainConfig  # noqa: E402
from engine.model.weights import build_model  # noqa: E402


def variants(epochs: int, batch: int) -> dict[str, tuple[str, TrainConfig, str | None]]:
    steps = sorted({max(1, round(epochs * 0.5)), max(1, round(epochs * 0.75))})
    recipe = dict(epochs=epochs, batch_size=batch, milestones=steps)
    modern = dict(epochs=epochs, batch_size=batch)
    return {
        "recipe": ("recipe", TrainConfig.recipe(**recipe), None),
        "recipe+schedule": ("recipe", TrainConfig.modern(augment="recipe", **modern), None),
        "head": ("anchor_free", TrainConfig.modern(augment="recipe", **modern), None),
        "head+static-assign": ("anchor_free", TrainConfig.modern(augment="recipe", **modern), "centre"),
        "full": ("anchor_free", TrainConfig.modern(**modern), None),
        "full-recipe-schedule": ("anchor_free", TrainConfig.recipe(augment="modern", **recipe), None),
    }


def run_variant(name, head, config, assigner, data, args, out: Path) -> dict:
    import engine.training.trainer
    from engine.model.assigner import CentreAssigner

    train, val, labels = data
    torch.manual_seed(0)
    model, _ = build_model(ModelConfig(num_classes=len(labels.names), backbone=args.backbone,
                                       image_size=args.size, head=head), "none")
    config.workers, config.eval_every = args.workers, config.epochs
    original = engine.training.trainer.build_loss
    if assigner == "centre":
        def build_loss(*a, **k):
            loss = original(*a, **k)
            loss.assigner = CentreAssigner()
            return loss
        engine.training.trainer.build_loss = build_loss
    try:
        trainer = Trainer(model, labels.names,
                          DetectionDataset(train, labels, args.size, train=True, augment=config.augmentation()),
                          DetectionDataset(val, labels, args.size, train=False), config, out / name)
        started = time.perf_counter()
        result = trainer.fit()
    finally:
        engine.training.trainer.build_loss = original
    final = result.history[-1]
    seconds = [row["epoch_seconds"] for row in result.history]
    return {"name": name, "status": result.status, "map50": max(final["map50"], final.get("ema_map50", 0.0)),
            "map": max(final["map"], final.get("ema_map", 0.0)), "s_per_epoch": sum(seconds) / len(seconds),
            "wall_s": time.perf_counter() - started}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--train-images", type=int, default=240)
    parser.add_argument("--val-images", type=int, default=60)
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--only", nargs="*", help="run only these variants")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="resyolo_ablation_"))
    try:
        folder = work / "data"
        generate_dataset(folder, num_images=args.train_images + args.val_images, num_classes=4, seed=0, fmt="voc",
                         image_size=(args.size * 2, args.size * 2))
        loaded = load_folder(folder)
        train, val = split_train_val(loaded.annotations, args.val_images / (args.train_images + args.val_images), 0)
        print(f"{len(train)} train / {len(val)} val images, 4 classes, {args.backbone} from random weights at "
              f"{args.size} px, batch {args.batch}, {args.epochs} epochs", flush=True)
        rows = []
        for name, (head, config, assigner) in variants(args.epochs, args.batch).items():
            if args.only and name not in args.only:
                continue
            row = run_variant(name, head, config, assigner, (train, val, loaded.labels), args, work)
            rows.append(row)
            print(f"{name:<22} {row['status']:<8} mAP@0.5 {row['map50']:.3f}  mAP {row['map']:.3f}  "
                  f"{row['s_per_epoch']:.1f} s/epoch", flush=True)
        print("\n| variant | VOC07 mAP@0.5 | COCO mAP@[.5:.95] | s/epoch |\n|---|---|---|---|")
        for row in rows:
            print(f"| {row['name']} | {row['map50']:.3f} | {row['map']:.3f} | {row['s_per_epoch']:.1f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
