"""Opening large labelled datasets in the labelling window: VOC XML beside the images, the Ultralytics layout and
a COCO release layout, 100,000 images each (``--images N`` to change).

Generates once (cached in the temp folder; ``--regenerate`` rebuilds) three datasets of N images, each image a
hard link to one 32x24 JPEG (a fresh seed file every 20,000: ext4 allows 65,000 links to one file):

- ``voc/``: ``imgNNNNNN.jpg`` + ``imgNNNNNN.xml`` beside it, two objects each;
- ``ultralytics/``: ``data.yaml`` (3 classes), ``images/train`` + ``images/val`` (4/5 and 1/5 of the images),
  ``labels/train`` + ``labels/val`` with two lines each;
- ``coco/``: ``annotations/instances_train.json`` (N images, three boxes each) with ``train/`` beside it, as
  COCO 2017 is released (``instances_train2017.json`` + ``train2017/``).

Each run is a fresh process: the real window (offscreen unless ``QT_QPA_PLATFORM`` says otherwise) is built and
shown, then the clock starts, ``MainWindow.open_folder`` opens the dataset (the File > Open Folder path, lock
included) and the time until the first image is on the canvas is taken; then the time until every label file is
read (the whole dataset known: class list, problems) and the peak RSS of the process. Printed: medians of
``--repeats`` runs (default 3), the largest peak RSS (and each run's), whether torch was loaded, and whether each
target is met. The issue's targets: the first image within 1 s and under 1 GB for VOC and Ultralytics; the COCO
file open (everything read) within 5 s.

    ./dev bench gui_label_formats [--repeats 3] [--images 100000] [--only voc,ultralytics,coco] [--regenerate]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

LAYOUTS = ("voc", "ultralytics", "coco")
FIRST_IMAGE_TARGET_S, RSS_TARGET_MB, COCO_OPEN_TARGET_S = 1.0, 1024, 5.0
CLASSES = ("dog", "cat", "bird")
XML = ("<annotation><folder>voc</folder><filename>{name}</filename><size><width>32</width><height>24</height>"
       "<depth>3</depth></size>{objects}</annotation>\n")
OBJECT = ("<object><name>{label}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
          "<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>")


def root_for(n: int) -> Path:
    return Path(tempfile.gettempdir()) / f"resyolo-bench-gui-label-formats-{n}"


def generate(root: Path, n: int) -> None:
    if (root / ".complete").exists():
        return
    from PIL import Image

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    seeds: dict[int, str] = {}
    links = 0

    def link(target: str) -> None:
        nonlocal links
        k = links // 20_000
        if k not in seeds:
            seeds[k] = str(root / f"seed{k}.jpg")
            Image.new("RGB", (32, 24), (20 + 40 * k % 200, 90, 160)).save(seeds[k], quality=90)
        os.link(seeds[k], target)
        links += 1

    def boxes(i: int, count: int) -> list[tuple[str, int, int, int, int]]:
        return [(CLASSES[(i + j) % 3], 1 + j * 10, 2 + j, 9 + j * 10, 20 - j) for j in range(count)]

    voc = root / "voc"
    voc.mkdir()
    for i in range(n):
        name = f"img{i:06d}.jpg"
        link(str(voc / name))
        objects = "".join(OBJECT.format(label=b[0], x1=b[1], y1=b[2], x2=b[3], y2=b[4]) for b in boxes(i, 2))
        (voc / f"img{i:06d}.xml").write_text(XML.format(name=name, objects=objects))

    ultra = root / "ultralytics"
    for split in ("train", "val"):
        (ultra / "images" / split).mkdir(parents=True)
        (ultra / "labels" / split).mkdir(parents=True)
    for i in range(n):
        split = "val" if i % 5 == 4 else "train"
        link(str(ultra / "images" / split / f"img{i:06d}.jpg"))
        lines = "".join(f"{CLASSES.index(b[0])} {(b[1] + b[3]) / 64:.6f} {(b[2] + b[4]) / 48:.6f} "
                        f"{(b[3] - b[1]) / 32:.6f} {(b[4] - b[2]) / 24:.6f}\n" for b in boxes(i, 2))
        (ultra / "labels" / split / f"img{i:06d}.txt").write_text(lines)
    (ultra / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames:\n"
                                     + "".join(f"  {k}: {name}\n" for k, name in enumerate(CLASSES)))

    coco = root / "coco"
    (coco / "annotations").mkdir(parents=True)
    (coco / "train").mkdir()
    images, annotations = [], []
    for i in range(n):
        name = f"img{i:06d}.jpg"
        link(str(coco / "train" / name))
        images.append({"id": i + 1, "file_name": name, "width": 32, "height": 24})
        for label, x1, y1, x2, y2 in boxes(i, 3):
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": CLASSES.index(label) + 1,
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    categories = [{"id": k + 1, "name": name, "supercategory": "animal"} for k, name in enumerate(CLASSES)]
    (coco / "annotations" / "instances_train.json").write_text(json.dumps(
        {"info": {"description": "bench"}, "images": images, "annotations": annotations, "categories": categories}))
    (root / ".complete").write_text("")


def _rss_now_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def measure(folder: str) -> dict:
    """One run, in this process: the window, the open, the first image, everything read, peak RSS."""
    import resource
    import time

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("RESYOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="resyolo-bench-config-"))
    from PySide6.QtWidgets import QApplication

    from bench import _timing
    from resyolo_gui.gc_guard import collect_garbage_on_gui_thread
    from resyolo_gui.main_window import MainWindow
    from resyolo_gui.settings import AppSettings

    app = QApplication(["bench"])
    collect_garbage_on_gui_thread(app)  # as the app does

    def run_until(condition, max_s: float = 120.0) -> None:
        _timing.run_until(condition, max_s)

    window = MainWindow(None, AppSettings())
    shown: list[float] = []
    original = window.canvas.set_image

    def spy(rgb, ann, project, message=None, **kwargs):
        original(rgb, ann, project, message, **kwargs)
        if rgb is not None and not shown:
            shown.append(time.perf_counter())

    window.canvas.set_image = spy
    window.resize(1280, 800)
    window.show()
    run_until(lambda: True)
    before_mb = _rss_now_mb()  # the window alone (no torch: the model features import it when used)
    started = time.perf_counter()
    assert window.open_folder(folder)
    opened = time.perf_counter()
    run_until(lambda: bool(shown))
    pending = getattr(window, "labels_pending", lambda: False)  # labels still being read after the first image
    run_until(lambda: not pending() and window.project is not None)
    complete = time.perf_counter()
    project = window.project
    result = {"open_s": opened - started, "first_image_s": shown[0] - started, "complete_s": complete - started,
              "images": len(project.annotations), "boxes": sum(len(a.boxes) for a in project.annotations),
              "classes": list(project.labels.names), "problems": len(project.problems),
              "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "before_mb": before_mb,
              "torch_loaded": "torch" in sys.modules}
    window.loader.wait_for_done()
    window.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--only", default=",".join(LAYOUTS), help="comma-separated layouts to run")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(measure(args.child)), flush=True)
        return 0
    root = root_for(args.images)
    if args.regenerate:
        shutil.rmtree(root, ignore_errors=True)
    print(f"datasets: {root} (generating if needed)...", flush=True)
    generate(root, args.images)
    expected_boxes = {"voc": 2 * args.images, "ultralytics": 2 * args.images, "coco": 3 * args.images}
    verdicts = []
    for layout in args.only.split(","):
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run([sys.executable, __file__, "--child", str(root / layout)], capture_output=True,
                                 text=True)
            lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
            if out.returncode != 0 or not lines:
                print(out.stdout[-3000:], out.stderr[-3000:], file=sys.stderr)
                return 1
            runs.append(json.loads(lines[-1][len("RESULT "):]))
        first = statistics.median(r["first_image_s"] for r in runs)
        complete = statistics.median(r["complete_s"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        before = statistics.median(r["before_mb"] for r in runs)
        r = runs[0]
        ok = r["images"] == args.images and r["boxes"] == expected_boxes[layout] and r["problems"] == 0
        firsts = ", ".join(f"{x['first_image_s']:.2f}" for x in runs)
        completes = ", ".join(f"{x['complete_s']:.2f}" for x in runs)
        peaks = ", ".join(f"{x['peak_mb']:.0f}" for x in runs)
        print(f"{layout:12s} first image {first:6.2f} s ({firsts}); everything read {complete:6.2f} s ({completes}); "
              f"peak RSS {peak:5.0f} MB (runs {peaks}; window alone {before:.0f} MB); {r['images']:,} images, {r['boxes']:,} boxes, classes {r['classes']}, "
              f"{r['problems']} problems{'; torch loaded' if any(x.get('torch_loaded') for x in runs) else '; no torch'}"
              f"{'' if ok else '  <-- NOT WHAT WAS GENERATED'}", flush=True)
        if layout == "coco":
            verdicts.append((f"COCO open (everything read) < {COCO_OPEN_TARGET_S:g} s", complete < COCO_OPEN_TARGET_S))
        else:
            verdicts.append((f"{layout} first image < {FIRST_IMAGE_TARGET_S:g} s", first < FIRST_IMAGE_TARGET_S))
            verdicts.append((f"{layout} peak RSS < {RSS_TARGET_MB} MB", peak < RSS_TARGET_MB))
        verdicts.append((f"{layout} read back what was generated", ok))
    print(f"medians of {args.repeats} runs, {args.images:,} images each")
    for what, met in verdicts:
        print(f"  {'met    ' if met else 'NOT MET'}  {what}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
