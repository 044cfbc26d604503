"""Training benchmark: how fast a training step is, and where its time goes.

    python bench/train.py [--backbone resnet18] [--size 224] [--batch 16] [--steps 8] [--workers N] [--device auto]

Prints the configuration, then medians over ``--steps`` timed steps (after warm-up steps):

(a) forward + backward + SGD step alone, on synthetic tensors already in memory (the ceiling);
(b) the full training step as the trainer runs it: batches from a DataLoader over a generated JPEG dataset
    (augmented, at the trainer's default worker count), target building, forward, loss, backward, step.
    Split into: waiting on the loader, target building + loss, and the rest (network forward/backward/step).

Targets: target building + loss under 10% of the step; loader waiting near zero (else data loading starves
the step: more workers, or a faster disk/decoder, would raise images/s). Like the trainer: channels-last
memory format; on CUDA, autocast (bf16/fp16). On CUDA each phase is synchronised to be timed, which costs a
little overlap; the total step of (b) is also timed without splitting it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine.annotations.folder import load_folder  # noqa: E402
from engine.model.boxes import encode_targets  # noqa: E402
from engine.model.config import ModelConfig  # noqa: E402
from engine.data.dataset import DetectionDataset, make_dataloader  # noqa: E402
from engine.model.device import device_description, resolve_device  # noqa: E402
from engine.model.loss import YoloLoss  # noqa: E402
from engine.data.synth import generate_dataset  # noqa: E402
from engine.training.config import TrainConfig  # noqa: E402
from engine.model.weights import build_model  # noqa: E402

WARMUP_STEPS = 2


class Step:
    """One training step of the trainer's kind (optimizer, AMP, channels-last), with its phases timed."""

    def __init__(self, model, device, lr: float = 1e-3):
        self.model, self.device = model, device
        self.loss_fn = YoloLoss(model.config.boxes_per_cell)
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        self.amp_dtype = None
        if device.type == "cuda":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def forward(self, images):
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            return self.model(images)

    def backward_and_step(self, total):
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()

    def run(self, images, targets, timed: bool) -> dict[str, float]:
        """``targets``: a list of target dicts (encoded here, timed) or an already encoded grid (not timed)."""
        cfg = self.model.config
        clock = _Clock(self.sync if timed else (lambda: None))
        images = images.to(self.device, non_blocking=True, memory_format=torch.channels_last)
        if isinstance(targets, list):
            targets = [{k: v.to(self.device) for k, v in t.items()} for t in targets]
            clock.lap("transfer")
            grid = encode_targets(targets, cfg.grid_size, cfg.num_classes, cfg.image_size)
            clock.lap("targets_loss")
        else:
            grid = targets
            clock.lap("transfer")
        output = self.forward(images)
        clock.lap("network")
        total = self.loss_fn(output.float(), grid)["total"]
        clock.lap("targets_loss")
        self.backward_and_step(total)
        clock.lap("network")
        return clock.laps


class _Clock:
    def __init__(self, sync):
        self.sync, self.laps = sync, {}
        self.sync()
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        self.sync()
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self.last
        self.last = now


def synthetic_batch(config: ModelConfig, batch: int, objects: int = 3):
    g = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 3, config.image_size, config.image_size, generator=g)
    targets = []
    for _ in range(batch):
        xy = torch.rand(objects, 2, generator=g) * config.image_size * 0.7
        wh = (0.1 + 0.2 * torch.rand(objects, 2, generator=g)) * config.image_size
        targets.append({"boxes": torch.cat([xy, xy + wh], 1),
                        "labels": torch.randint(config.num_classes, (objects,), generator=g)})
    return images, targets


def bench_in_memory(step: Step, config: ModelConfig, batch: int, steps: int) -> list[float]:
    images, targets = synthetic_batch(config, batch)
    grid = encode_targets(targets, config.grid_size, config.num_classes, config.image_size).to(step.device)
    images = images.to(step.device)
    times = []
    for i in range(WARMUP_STEPS + steps):
        step.sync()
        start = time.perf_counter()
        step.run(images, grid, timed=False)
        step.sync()
        if i >= WARMUP_STEPS:
            times.append(time.perf_counter() - start)
    return times


def bench_with_loader(step: Step, loader, steps: int, timed_phases: bool) -> tuple[list[float], list[dict]]:
    """Per step: total seconds (loader wait included) and, when ``timed_phases``, the phases."""
    totals, phases = [], []
    batches = _forever(loader)
    for i in range(WARMUP_STEPS + steps):
        step.sync()
        start = time.perf_counter()
        images, targets = next(batches)
        waited = time.perf_counter() - start
        laps = step.run(images, targets, timed=timed_phases)
        step.sync()
        if i >= WARMUP_STEPS:
            totals.append(time.perf_counter() - start)
            phases.append({"loader_wait": waited, **laps})
    return totals, phases


def _forever(loader):
    while True:
        yield from loader


def main() -> None:
    default_workers = TrainConfig().workers
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--size", type=int, default=224, help="network input side (multiple of 32)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=8, help=f"timed steps, after {WARMUP_STEPS} warm-up steps")
    parser.add_argument("--workers", type=int, default=default_workers,
                        help=f"DataLoader workers (default {default_workers}, the trainer's)")
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--image-size", default="320x240", help="size of the generated JPEGs (default 320x240)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    device = resolve_device(args.device)
    config = ModelConfig(num_classes=args.classes, backbone=args.backbone, image_size=args.size)
    torch.manual_seed(0)
    model, _ = build_model(config, "none")
    model = model.to(device, memory_format=torch.channels_last).train()
    step = Step(model, device)
    print(f"device: {device_description(device)} ({device}), torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}")
    print(f"configuration: {args.backbone} at {args.size} px, batch {args.batch}, {args.classes} classes, "
          f"{args.steps} timed steps after {WARMUP_STEPS} warm-up, {args.workers} loader worker(s), "
          f"channels-last{', autocast ' + str(step.amp_dtype).replace('torch.', '') if step.amp_dtype else ''}")

    in_memory = statistics.median(bench_in_memory(step, config, args.batch, args.steps))

    width, height = (int(v) for v in args.image_size.lower().split("x"))
    with tempfile.TemporaryDirectory() as folder:
        images_needed = args.batch * (WARMUP_STEPS + args.steps)
        generate_dataset(folder, images_needed, args.classes, seed=0, fmt="voc", image_size=(width, height))
        loaded = load_folder(folder)
        dataset = DetectionDataset(loaded.annotations, loaded.labels, args.size, train=True)
        loader = make_dataloader(dataset, args.batch, shuffle=True, workers=args.workers, drop_last=True,
                                 pin_memory=device.type == "cuda")
        plain, _ = bench_with_loader(step, loader, args.steps, timed_phases=False)
        _, phases = bench_with_loader(step, loader, args.steps, timed_phases=True)
        del loader

    full = statistics.median(plain)
    median = {k: statistics.median(p[k] for p in phases) for k in phases[0]}
    phased_total = sum(median.values())
    print("\nTraining step (medians)")
    print(f"| {'what':<58} | {'per step':>10} | {'images/s':>9} |")
    print(f"|{'-' * 60}|{'-' * 12}|{'-' * 11}|")
    print(f"| {'(a) forward + backward + SGD step, tensors in memory':<58} | {in_memory * 1e3:>7.0f} ms | "
          f"{args.batch / in_memory:>9.1f} |")
    print(f"| {'(b) full step, JPEG dataset through the DataLoader':<58} | {full * 1e3:>7.0f} ms | "
          f"{args.batch / full:>9.1f} |")
    print(f"\nWhere (b)'s time goes (phases synchronised and timed separately, medians)")
    print(f"| {'phase':<58} | {'per step':>10} | {'share':>9} |")
    print(f"|{'-' * 60}|{'-' * 12}|{'-' * 11}|")
    names = {"loader_wait": "waiting on the loader", "transfer": "copy to the device (channels-last)",
             "targets_loss": "target building + loss", "network": "network forward + backward + step"}
    for key, label in names.items():
        print(f"| {label:<58} | {median[key] * 1e3:>7.1f} ms | {median[key] / phased_total:>9.1%} |")
    share = median["targets_loss"] / phased_total
    compute = phased_total - median["loader_wait"]
    print(f"\ntarget building + loss: {share:.1%} of the step (target < 10%: {'met' if share < 0.10 else 'NOT met'})")
    starved = median["loader_wait"] > 0.05 * compute
    print(f"loader wait per step {median['loader_wait'] * 1e3:.1f} ms vs compute {compute * 1e3:.1f} ms: "
          + ("data loading starves the step (more --workers would help)" if starved
             else "data loading keeps up"))
    print(f"full step / in-memory step: {full / in_memory:.2f}x"
          + (" (with no waiting, the rest is the loader workers sharing the CPU cores with the step)"
             if device.type == "cpu" and not starved and full > 1.05 * in_memory else ""))


if __name__ == "__main__":
    main()
