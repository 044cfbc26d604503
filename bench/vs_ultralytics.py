"""ResYOLO against Ultralytics YOLOv8, side by side on one generated dataset, both from random weights.

    python bench/vs_ultralytics.py [--size 320] [--epochs 30] [--batch 16] [--train-images 320] [--val-images 80]
                                   [--classes 4] [--backbone resnet18] [--preset modern] [--yolo yolov8n.yaml]
                                   [--workers 2] [--out bench-runs/vs_ultralytics] [--no-ultralytics | --no-resyolo]

1. ``resyolo synth`` writes the images and YOLO labels once; they are laid out as an Ultralytics dataset
   (``images/{train,val}``, ``labels/{train,val}``, ``data.yaml``) by symbolic links, and both tools train on
   that same ``data.yaml``, at the same input size, batch and epochs, from random weights.
2. ResYOLO runs ``resyolo train`` in this environment; Ultralytics runs in its own virtual environment,
   ``.bench-venvs/ultralytics`` (:mod:`bench._ultralytics_venv`; created on the first run with pip:
   ``ultralytics`` and what it needs that is not already here; torch, torchvision, numpy are read from this
   project's environment through a ``.pth`` file, never installed into it or changed). When that environment cannot be made (offline, no pip), the
   Ultralytics half is skipped with a message saying why.
3. Both models predict on the validation images at score threshold 0.001 (NMS IoU 0.6, at most 100 per image)
   and are scored by ResYOLO's own evaluator: VOC07 11-point mAP@0.5 and COCO mAP@[.5:.95] (pycocotools).
4. Printed: both scores, parameters and the training seconds per epoch of each (validation excluded).

Epoch times are wall-clock on this machine: on a shared machine they move with its load; the medians of the
epochs are printed next to the means.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._ultralytics_venv import ultralytics_python  # noqa: E402

CONF, IOU, MAX_DET = 0.001, 0.6, 100

# Run by the Ultralytics environment's python: train, time the epochs, predict on the validation images.
ULTRALYTICS_DRIVER = r'''
import json, sys, time
from pathlib import Path
from ultralytics import YOLO
args = json.loads(sys.argv[1])
model = YOLO(args["model"])
times, start = [], {}
model.add_callback("on_train_epoch_start", lambda trainer: start.__setitem__("t", time.perf_counter()))
model.add_callback("on_train_epoch_end", lambda trainer: times.append(time.perf_counter() - start["t"]))
model.train(data=args["data"], epochs=args["epochs"], imgsz=args["size"], batch=args["batch"], device="cpu",
            workers=args["workers"], pretrained=False, amp=False, plots=False, val=False, seed=0, deterministic=False,
            project=args["project"], name="train", exist_ok=True, verbose=False)
weights = Path(args["project"]) / "train" / "weights" / "last.pt"
trained = YOLO(str(weights))
out = {"epoch_seconds": times, "parameters": sum(p.numel() for p in trained.model.parameters()), "detections": {}}
for result in trained.predict(args["images"], imgsz=args["size"], conf=args["conf"], iou=args["iou"],
                              max_det=args["max_det"], device="cpu", verbose=False, stream=True):
    boxes = result.boxes
    out["detections"][str(Path(result.path).resolve())] = {
        "boxes": boxes.xyxy.tolist(), "scores": boxes.conf.tolist(), "labels": [int(c) for c in boxes.cls.tolist()]}
Path(args["result"]).write_text(json.dumps(out))
'''


def _run_or_show(command: list[str], **options) -> None:
    """Run quietly; on failure show the last of its output and stop."""
    done = subprocess.run(command, capture_output=True, text=True, **options)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise SystemExit(f"{command[0]} ... failed (exit {done.returncode}):\n{tail}")


def build_dataset(out: Path, train_images: int, val_images: int, classes: int, size: int) -> Path:
    """``resyolo synth`` -> an Ultralytics layout of links; returns its data.yaml."""
    data_yaml = out / "data.yaml"
    if data_yaml.is_file():
        return data_yaml
    flat = out / "synth"
    subprocess.run([sys.executable, "-m", "engine", "synth", str(flat), "--images", str(train_images + val_images),
                    "--classes", str(classes), "--seed", "0", "--format", "yolo", "--size", f"{size}x{size}"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    images = sorted(flat.glob("*.jpg"))
    names = (flat / "classes.txt").read_text().split()
    for split, chosen in (("train", images[:train_images]), ("val", images[train_images:])):
        for kind in ("images", "labels"):
            (out / kind / split).mkdir(parents=True, exist_ok=True)
        for image in chosen:
            (out / "images" / split / image.name).symlink_to(image.resolve())
            (out / "labels" / split / f"{image.stem}.txt").symlink_to(image.with_suffix(".txt").resolve())
    data_yaml.write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\n"
                         f"names: {json.dumps(names)}\n")
    return data_yaml


def validation_set(data_yaml: Path, size: int):
    from engine.data.dataset import DetectionDataset
    from engine.training.setup import load_training_data

    data = load_training_data(data_yaml)
    return DetectionDataset(data.val, data.labels, size, train=False)


def score(val_set, detections_by_path: dict) -> dict:
    """ResYOLO's evaluator (VOC07 mAP@0.5, COCO mAP) on detections keyed by resolved image path."""
    import numpy as np
    import torch

    from engine.model.boxes import Detections
    from engine.training.validation import score_detections

    by_index = {}
    for index, ann in enumerate(val_set.annotations):
        found = detections_by_path.get(str(Path(ann.image_path).resolve()), {"boxes": [], "scores": [], "labels": []})
        by_index[index] = Detections(torch.tensor(np.reshape(found["boxes"], (-1, 4)), dtype=torch.float32),
                                     torch.tensor(found["scores"], dtype=torch.float32),
                                     torch.tensor(found["labels"], dtype=torch.int64))
    return score_detections(val_set, by_index)


def run_resyolo(args, data_yaml: Path, out: Path, val_set) -> dict:
    from engine.inference.loading import load_detector
    from engine.training.results_csv import read_results

    run = out / f"resyolo_{args.backbone}_{args.preset}"
    command = [sys.executable, "-m", "engine", "train", str(data_yaml), "--preset", args.preset, "--backbone",
               args.backbone, "--img-size", str(args.size), "--batch", str(args.batch), "--epochs", str(args.epochs),
               "--weights", "none", "--workers", str(args.workers), "--eval-every", str(args.epochs + 1),
               "--out", str(run), "--exist-ok"]
    print("resyolo:", " ".join(command[3:]), flush=True)
    started = time.perf_counter()
    _run_or_show(command, cwd=ROOT)
    total = time.perf_counter() - started
    seconds = [row["epoch_seconds"] for row in read_results(run / "results.csv")]
    detector = load_detector(run / "last.pt", "cpu", conf_threshold=CONF, iou_threshold=IOU,
                                  max_detections=MAX_DET)
    detections = {}
    for path, found in detector.detect_files([a.image_path for a in val_set.annotations]):
        detections[str(Path(path).resolve())] = {k: v.tolist() for k, v in found.numpy().items()}
    return {"epoch_seconds": seconds, "wall_s": total, "detections": detections,
            "parameters": sum(p.numel() for p in detector.model.parameters())}


def run_ultralytics(args, python: Path, data_yaml: Path, out: Path) -> dict:
    project = out / f"ultralytics_{Path(args.yolo).stem}"
    result = project / "result.json"
    driver = out / "ultralytics_driver.py"
    driver.write_text(ULTRALYTICS_DRIVER)
    config = {"model": args.yolo, "data": str(data_yaml.resolve()), "epochs": args.epochs, "size": args.size,
              "batch": args.batch, "workers": args.workers, "project": str(project.resolve()),
              "images": str((data_yaml.parent / "images" / "val").resolve()), "conf": CONF, "iou": IOU,
              "max_det": MAX_DET, "result": str(result.resolve())}
    env = {**os.environ, "YOLO_CONFIG_DIR": str((out / "ultralytics_settings").resolve()), "YOLO_OFFLINE": "1"}
    print(f"ultralytics: {args.yolo} from random weights ({python})", flush=True)
    started = time.perf_counter()
    _run_or_show([str(python), str(driver), json.dumps(config)], env=env, cwd=out)
    found = json.loads(result.read_text())
    found["wall_s"] = time.perf_counter() - started
    return found


def report(name: str, run: dict, scores: dict) -> str:
    seconds = run["epoch_seconds"]
    return (f"{name:<34} {run['parameters'] / 1e6:6.1f} M  VOC07 mAP@0.5 {scores['map50']:.3f}  COCO mAP "
            f"{scores['map']:.3f}  (AP50 {scores['ap50_coco']:.3f})  s/epoch mean {statistics.mean(seconds):.1f} "
            f"median {statistics.median(seconds):.1f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--train-images", type=int, default=320)
    parser.add_argument("--val-images", type=int, default=80)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--preset", default="modern", choices=["modern", "recipe"])
    parser.add_argument("--yolo", default="yolov8n.yaml", help="Ultralytics model config (random weights)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-runs" / "vs_ultralytics")
    parser.add_argument("--no-ultralytics", action="store_true", help="train and score ResYOLO only")
    parser.add_argument("--no-resyolo", action="store_true", help="train and score Ultralytics only")
    args = parser.parse_args(argv)
    out = args.out.resolve() / f"data_{args.size}_{args.train_images}_{args.val_images}_{args.classes}"
    out.mkdir(parents=True, exist_ok=True)
    data_yaml = build_dataset(out, args.train_images, args.val_images, args.classes, args.size)
    val_set = validation_set(data_yaml, args.size)
    print(f"dataset: {data_yaml} ({args.train_images} train, {len(val_set)} val, {args.classes} classes, "
          f"{args.size} px); {args.epochs} epochs, batch {args.batch}, random weights, CPU", flush=True)
    lines = []
    if args.no_resyolo:
        print("ResYOLO: skipped (--no-resyolo)")
    else:
        resyolo = run_resyolo(args, data_yaml, out, val_set)
        lines.append(report(f"ResYOLO {args.backbone} ({args.preset})", resyolo, score(val_set, resyolo["detections"])))
        print(lines[-1], flush=True)
    if args.no_ultralytics:
        print("Ultralytics: skipped (--no-ultralytics)")
    else:
        python, why = ultralytics_python()
        if python is None:
            print(f"Ultralytics: skipped: {why}")
        else:
            ultra = run_ultralytics(args, python, data_yaml, out)
            lines.append(report(f"Ultralytics {Path(args.yolo).stem}", ultra, score(val_set, ultra["detections"])))
    print("\n".join(["", "scored by ResYOLO's evaluator, conf 0.001, NMS IoU 0.6, last weights (EMA):", *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
