"""``resyolo train DATA``: fine-tune the detector on a labelled folder (VOC, YOLO or COCO) or a list of images.

Argument parsing and the terminal; what the run is made of (checks, resume rules, run folder, ``config.json``)
is decided by the run planner, :mod:`engine.training.plan`, as for a run started in the app.

Writes into the run folder (``--out``, default ``runs/train/run1``, ``run2``, ...): ``config.json`` (model and
training settings, classes, data and its images, how the run stands), then the trainer's ``results.csv``,
``last.pt`` and ``best.pt``. A folder that already holds a run is refused unless ``--resume`` continues it or
``--exist-ok`` replaces it.

Ctrl+C stops after the current batch and saves ``last.pt`` (resume with ``--resume``); a second Ctrl+C quits at
once. Exit codes: 0 trained, 1 training failed (e.g. the loss diverged), 2 bad input, 130 stopped by Ctrl+C.

Under ``torchrun --nproc_per_node N -m engine train ...`` each process trains its share of every batch with
DistributedDataParallel; only rank 0 prints and writes.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from engine.commands.argtypes import non_negative_int, positive_int, usage_error

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_RUNS = Path("runs/train")  # run1, run2, ... in there when no --out is given


def add_parser(subparsers) -> None:
    from engine.model.config import BACKBONES, HEADS
    from engine.training.config import PRESETS

    p = subparsers.add_parser(
        "train", help="train (fine-tune) the detector on labelled images",
        description="Train the detector. DATA: a folder of labelled images (VOC xml, YOLO txt + classes.txt, "
                    "labelme json, COCO json, an Ultralytics/Roboflow data.yaml dataset or a VOC devkit; found "
                    "automatically), a data.yaml, or a .txt file listing image paths. Settings not given "
                    "follow the preset: 'modern' (default: anchor-free FPN/PAN head, AdamW 1e-3, 3 warm-up epochs, "
                    "cosine decay, 100 epochs, batch 16, mosaic/affine/HSV/flip augmentation) or 'recipe' (the "
                    "reference study: YOLO v1 head, SGD 1e-3, momentum 0.9, 80 epochs, batch 10, x0.1 at 50% "
                    "and 75% of the epochs).")
    p.add_argument("data", nargs="?", type=Path, metavar="DATA",
                   help="folder or .txt list of images (with --resume: taken from the run when left out)")
    p.add_argument("--val", type=Path, metavar="DATA", help="validation folder or list (default: split off DATA)")
    p.add_argument("--val-fraction", type=float, metavar="F", help="share of DATA kept for validation when there "
                   "is no --val (default 0.2; 0 = no validation)")
    p.add_argument("--split-seed", type=int, metavar="S", help="seed of that split (default 0)")
    p.add_argument("--split", metavar="NAME", help="train on this split of a dataset that has splits (a data.yaml's "
                   "train/val/test, a VOC devkit's ImageSets/Main/NAME.txt; default: its train split)")
    p.add_argument("--val-split", metavar="NAME", help="validate on this split of DATA (default: its val split)")
    p.add_argument("--preset", choices=PRESETS, help="settings to start from: modern (default) or recipe (the "
                   "reference study's detector and training)")
    p.add_argument("--head", choices=HEADS, help="detection head (default: the preset's; modern: anchor_free)")
    p.add_argument("--epochs", type=positive_int, metavar="N", help="epochs to train (modern 100, recipe 80)")
    p.add_argument("--batch", type=positive_int, metavar="N",
                   help="images per batch (modern 16, recipe 10); under torchrun, per process")
    p.add_argument("--img-size", type=positive_int, metavar="PX", help="input side, a multiple of 32 (default 448)")
    p.add_argument("--backbone", choices=BACKBONES, help="ResNet backbone (default resnet50)")
    p.add_argument("--lr", type=float, help="base learning rate (default 1e-3)")
    p.add_argument("--optimizer", choices=["sgd", "adamw"], help="optimiser (modern adamw, recipe sgd)")
    p.add_argument("--schedule", choices=["multistep", "cosine", "constant"],
                   help="learning-rate decay (modern cosine, recipe multistep)")
    p.add_argument("--warmup", type=float, metavar="EPOCHS", help="linear warm-up length in epochs (modern 3, recipe 0)")
    p.add_argument("--augment", choices=["modern", "recipe", "none"],
                   help="training augmentation (default: the preset's)")
    p.add_argument("--mosaic", type=float, metavar="P", help="modern augmentation: mosaic probability (default 1)")
    p.add_argument("--close-mosaic", type=non_negative_int, metavar="N",
                   help="modern augmentation: no mosaic in the last N epochs (default 10, at most a quarter)")
    p.add_argument("--no-ema", dest="ema", action="store_const", const=False,
                   help="do not keep an exponential moving average of the weights")
    p.add_argument("--workers", type=non_negative_int, metavar="N",
                   help="data-loading processes (default 2; 0 = in-process)")
    p.add_argument("--device", help="auto (GPU when there is one), cpu or cuda (default auto)")
    p.add_argument("--weights", metavar="imagenet|none|PATH",
                   help="starting weights: ImageNet backbone (default), none (random), a ResNet state dict or a "
                        "ResYOLO checkpoint")
    p.add_argument("--out", type=Path, metavar="RUN_DIR", help="run folder (default runs/train/run1, run2, ...; "
                   "with --resume, the run's own)")
    p.add_argument("--exist-ok", action="store_true", help="train into --out even if it holds an earlier run, "
                   "replacing its config.json, results.csv, last.pt and best.pt")
    p.add_argument("--resume", type=Path, metavar="CKPT", help="continue the run saved in CKPT (its last.pt): same "
                   "model, classes, optimiser and images; training settings given here (e.g. more --epochs) win")
    p.add_argument("--eval-every", type=positive_int, metavar="N", help="validate every N epochs (default 5; "
                   "the last epoch always)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.training import distributed as dist_utils
    from engine.model.device import resolve_device
    from engine.training.setup import SetupError

    try:
        device = resolve_device(args.device or "auto")
    except RuntimeError as error:
        return usage_error(str(error))
    if dist_utils.launched_by_torchrun():
        # Joined before anything is read or written, so that the ranks agree on the run folder (see _plan).
        device = dist_utils.init_distributed(device)
    main = dist_utils.is_main_process()
    handler = _route_warnings(quiet=not main)
    try:
        if dist_utils.is_distributed():
            ranks = _joined_ranks()  # every rank takes part
            if main:
                print(f"distributed: {len(ranks)} processes joined (ranks {', '.join(map(str, ranks))}, "
                      f"backend {_backend()})")
        try:
            plan, built = _plan(args, main)
        except SetupError as error:
            return usage_error(str(error))
        return _train(plan, built, main)
    finally:
        _unroute_warnings(handler)
        if dist_utils.is_distributed():
            import torch.distributed

            torch.distributed.destroy_process_group()


def _request(args: argparse.Namespace):
    """The run planner's request (engine.training.plan): the options as given, None for those left out."""
    from engine.training.plan import PathSource, RunRequest

    source = PathSource(args.data, args.val, args.val_fraction, args.split_seed, args.split, args.val_split)
    settings = {"preset": args.preset, "epochs": args.epochs, "batch_size": args.batch, "lr": args.lr,
                "optimizer": args.optimizer, "schedule": args.schedule, "warmup_epochs": args.warmup,
                "ema": args.ema, "workers": args.workers, "device": args.device, "eval_every": args.eval_every,
                "augment": args.augment, "mosaic": args.mosaic, "close_mosaic": args.close_mosaic}
    return RunRequest(source, settings, backbone=args.backbone, image_size=args.img_size, head=args.head,
                      weights=args.weights, resume=args.resume, out=args.out, runs_parent=DEFAULT_RUNS,
                      exist_ok=args.exist_ok)


def _plan(args: argparse.Namespace, main: bool):
    """(the plan, the model and datasets built from it); the run folder made (rank 0)."""
    from engine.training import distributed as dist_utils
    from engine.training.plan import plan_run

    plan = plan_run(_request(args))
    built = plan.build()
    dist_utils.barrier()  # every rank has looked at the run folder before rank 0 writes into it
    if main:
        plan.prepare_folder()
    return plan, built


def _train(plan, built, main: bool) -> int:
    from engine.training import distributed as dist_utils
    from engine.commands.train_console import EpochProgress, StopOnCtrlC
    from engine.data.split import DatasetError
    from engine.training.setup import SetupError

    progress = EpochProgress(plan.train_config.epochs, world=dist_utils.world_size())
    ctrl_c = StopOnCtrlC(workers=plan.train_config.workers)
    try:
        trainer = plan.make_trainer(built, callbacks=[ctrl_c.on_event, progress])
    except SetupError as error:
        return usage_error(str(error))
    if main:
        plan.record(built=built)
        _print_plan(plan, built, trainer)
    started = time.perf_counter()
    try:
        with ctrl_c.installed(trainer):
            result = trainer.fit()
    except KeyboardInterrupt:
        progress.close()
        last = plan.out / "last.pt"
        if main:
            kept = f"The last checkpoint saved is {last}." if last.exists() else "No checkpoint was saved."
            _record_end(plan, "stopped", f"quit at once by a second Ctrl+C. {kept}")
            print(f"\nQuit without saving. {kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DatasetError as error:  # e.g. every image turned out unreadable while decoding
        progress.close()
        if main:
            _record_end(plan, "failed", str(error))
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    progress.close()
    if not main:
        return {"finished": EXIT_OK, "stopped": EXIT_INTERRUPTED}.get(result.status, EXIT_FAILED)
    _record_end(plan, result.status, result.message)
    minutes = (time.perf_counter() - started) / 60
    if result.status == "failed":
        print(f"error: {result.message}", file=sys.stderr)
        if result.last_checkpoint and result.last_checkpoint.exists():
            print(f"The last good checkpoint is {result.last_checkpoint}", file=sys.stderr)
        return EXIT_FAILED
    if result.status == "stopped":
        print(f"Stopped ({result.message}). Checkpoint saved: {result.last_checkpoint}\n"
              f"Continue with: resyolo train --resume {result.last_checkpoint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    best = f"; best mAP50 {result.best_metric:.4f} in {result.best_checkpoint}" if result.best_checkpoint else ""
    print(f"Done: {result.epochs_done} epoch(s) in {minutes:.1f} min. Results in {plan.out} "
          f"(results.csv, last.pt{best})")
    return EXIT_OK


def _record_end(plan, status: str, message: str) -> None:
    """How the run ended, in its config.json; a record that cannot be written is said, not raised."""
    try:
        plan.record(status, message)
    except OSError as error:
        print(f"warning: could not update {plan.out / 'config.json'}: {error}", file=sys.stderr)


def _print_plan(plan, built, trainer) -> None:
    from engine.model.device import device_description

    cfg, mc, data = plan.train_config, plan.model_config, plan.data
    val = f"{len(built.val_set)} validation" if built.val_set else "no validation"
    print(f"data: {len(built.train_set)} training, {val} image(s); {len(data.labels)} classes: "
          f"{', '.join(data.labels.names)}")
    _print_problems(data)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    if plan.resume is not None:
        weights = f"those of {plan.resume}"
    else:
        weights = built.weights.message if built.weights.loaded else "random (see the warning above)"
    head = (f"{mc.boxes_per_cell} boxes per cell (recipe head)" if mc.head == "recipe" else
            f"anchor-free head, FPN/PAN {mc.fpn_width} channels, strides {'/'.join(map(str, mc.strides))}")
    print(f"model: {mc.backbone} at {mc.image_size} px, {head}; weights: {weights}")
    schedule = f"{cfg.schedule}" + (f" at epochs {cfg.milestones}" if cfg.schedule == "multistep" else "")
    print(f"training: {cfg.epochs} epochs, batch {cfg.batch_size}, {cfg.optimizer} lr {cfg.lr:g} {schedule}"
          f"{f', warm-up {cfg.warmup_epochs:g} epochs' if cfg.warmup_epochs else ''}, EMA {'on' if cfg.ema else 'off'}"
          f", {cfg.augment} augmentation"
          f", {cfg.workers} loader worker(s), {device_description(trainer.device)}")
    resumed = f" (resuming after epoch {trainer.start_epoch})" if plan.resume is not None else ""
    print(f"run folder: {plan.out}{resumed}")


def _print_problems(data) -> None:
    if data.problems:
        print(f"warning: {len(data.problems)} label file(s) could not be read; their images are left out:",
              file=sys.stderr)
        for problem in data.problems[:10]:
            print(f"  {problem}", file=sys.stderr)
        if len(data.problems) > 10:
            print(f"  ... and {len(data.problems) - 10} more", file=sys.stderr)
    if data.unlabelled:
        print(f"note: {data.unlabelled} image(s) without a label file are left out", file=sys.stderr)


def _route_warnings(quiet: bool) -> logging.Handler:
    """Engine warnings (offline ImageNet weights, skipped images) as one ``warning:`` line each, above the bar."""
    from tqdm import tqdm

    class TqdmWarnings(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            tqdm.write(f"warning: {record.getMessage()}", file=sys.stderr)

    handler = TqdmWarnings(level=logging.ERROR if quiet else logging.WARNING)
    for name in ("engine", "resyolo"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.propagate = False  # printed here, not again by Python's last-resort handler
    return handler


def _unroute_warnings(handler: logging.Handler) -> None:
    for name in ("engine", "resyolo"):
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.propagate = True


def _joined_ranks() -> list[int]:
    import torch.distributed as dist

    ranks = [None] * dist.get_world_size()
    dist.all_gather_object(ranks, dist.get_rank())
    return ranks


def _backend() -> str:
    import torch.distributed as dist

    return str(dist.get_backend())
