"""Where one anchor-free training step's time goes on this machine: data (augmented batch, in this process),
forward (backbone / neck / head), loss (assigner included), backward, optimiser, EMA; and validation.

    python bench/step_profile.py [--size 320] [--batch 16] [--backbone resnet18] [--steps 8] [--data DATA_YAML]

Times are medians over ``--steps`` steps after two warm-up steps, in ms, with torch's threads as set
(``torch.get_num_threads()``). Data is timed separately (workers=0): in a real run, loader workers do it
on the same cores the step runs on.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--fpn-width", type=int, default=None)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--no-validation", action="store_true")
    parser.add_argument("--fp32", action="store_true", help="no bfloat16 autocast, even where the trainer would use it")
    args = parser.parse_args(argv)

    from engine.data.dataset import DetectionDataset, make_dataloader
    from engine.model.config import ModelConfig
    from engine.model.device import cpu_has_native_bf16
    from engine.model.heads import build_loss
    from engine.model.heads import build_network
    from engine.training.config import TrainConfig
    from engine.training.ema import ModelEMA
    from engine.training.setup import load_training_data
    from engine.training.validation import evaluate_model

    data = load_training_data(args.data)
    cfg = TrainConfig.modern(batch_size=args.batch)
    train_set = DetectionDataset(data.train, data.labels, args.size, train=True, augment=cfg.augmentation())
    val_set = DetectionDataset(data.val, data.labels, args.size, train=False)
    extra = {} if args.fpn_width is None else {"fpn_width": args.fpn_width}
    mc = ModelConfig(num_classes=len(data.labels), backbone=args.backbone, image_size=args.size, head="anchor_free",
                     **extra)
    model = build_network(mc).to(memory_format=torch.channels_last)
    model.train()
    loss_fn = build_loss(mc)
    params = [p for p in model.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-4, fused=True)  # as the trainer on the CPU
    ema = ModelEMA(model, cfg.ema_max_decay, cfg.ema_start_step, cfg.ema_every)
    loader = make_dataloader(train_set, args.batch, shuffle=True, workers=0)
    amp = not args.fp32 and cpu_has_native_bf16()  # as the trainer (amp on, a CPU with native bfloat16)
    print(f"{args.backbone} {args.size} px batch {args.batch}, fpn_width {mc.fpn_width}, "
          f"{'bfloat16 autocast' if amp else 'float32'}, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params, {torch.get_num_threads()} threads")

    parts = {k: [] for k in ("data", "backbone", "neck", "head", "loss", "backward", "optimizer", "ema", "step")}
    it = iter(loader)
    step = 0
    for i in range(args.steps + 2):
        t0 = time.perf_counter()
        try:
            images, targets = next(it)
        except StopIteration:
            it = iter(loader)
            images, targets = next(it)
        t1 = time.perf_counter()
        images = images.to(memory_format=torch.channels_last)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp)
        autocast.__enter__()
        x = (images - model.mean) / model.std
        levels = {}
        for index, layer in enumerate(model.backbone):
            x = layer(x)
            if index in (5, 6, 7):
                levels[str(index)] = x
        t2 = time.perf_counter()
        feats = model.pan(list(model.fpn(levels).values()))
        t3 = time.perf_counter()
        raw = model.head(feats)
        autocast.__exit__(None, None, None)
        t4 = time.perf_counter()
        loss = loss_fn(raw.float(), targets)
        t5 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss["total"].backward()
        t6 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        optimizer.step()
        t7 = time.perf_counter()
        step += 1
        ema.step(model, step)
        t8 = time.perf_counter()
        if i >= 2:
            for k, v in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6, t8 - t7,
                                    t8 - t1)):
                parts[k].append(v * 1000)
    for k, v in parts.items():
        print(f"  {k:<10} {statistics.median(v):8.1f} ms  (min {min(v):.1f})")
    if not args.no_validation:
        t = time.perf_counter()
        scores = evaluate_model(ema.module, val_set, torch.device("cpu"), args.batch, cfg.eval_conf_threshold)
        print(f"  validation {len(val_set)} images: {time.perf_counter() - t:.1f} s (mAP50 {scores['map50']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
