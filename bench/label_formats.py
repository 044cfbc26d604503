"""Opening large labelled datasets through the format table: VOC XML beside the images, the Ultralytics layout
(data.yaml, images/train + labels/train) and one COCO JSON.

Generates (once per size, cached in the temp folder) N images (hard links to one 64x48 JPEG) with one box each,
then times ``Project.open`` (median of 3, each in a fresh process) and its peak RSS. The issue's targets at
N = 100,000: first image within 1 s and under 1 GB for VOC and Ultralytics, 5 s for COCO.

    .venv/bin/python bench/label_formats.py [N]        (default 10000)
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
ROOT = Path(tempfile.gettempdir()) / f"resyolo-bench-label-formats-{N}"
XML = ("<annotation><filename>{name}</filename><size><width>64</width><height>48</height><depth>3</depth></size>"
       "<object><name>dog</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax>"
       "<ymax>40</ymax></bndbox></object></annotation>\n")


def generate() -> None:
    if (ROOT / ".complete").exists():
        return
    ROOT.mkdir(parents=True, exist_ok=True)
    def seed(k: int) -> Path:  # ext4 allows 65,000 links to one file: a fresh seed every 20,000
        path = ROOT / f"seed{k}.jpg"
        if not path.exists():
            Image.new("RGB", (64, 48), (20, 90, 160)).save(path)
        return path
    voc, ultra, coco = ROOT / "voc", ROOT / "ultralytics", ROOT / "coco"
    for d in (voc, ultra / "images" / "train", ultra / "labels" / "train", coco / "images"):
        d.mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(N):
        name = f"img{i:06d}.jpg"
        for j, target in enumerate((voc / name, ultra / "images" / "train" / name, coco / "images" / name)):
            if not target.exists():
                os.link(seed((3 * i + j) // 20_000), target)
        (voc / name).with_suffix(".xml").write_text(XML.format(name=name))
        (ultra / "labels" / "train" / name).with_suffix(".txt").write_text("0 0.24 0.44 0.45 0.79\n")
        images.append({"id": i + 1, "file_name": f"images/{name}", "width": 64, "height": 48})
        annotations.append({"id": i + 1, "image_id": i + 1, "category_id": 1, "bbox": [1, 2, 29, 38], "area": 1102,
                            "iscrowd": 0})
    (ultra / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/train\nnames:\n  0: dog\n")
    (coco / "annotations.json").write_text(json.dumps({"images": images, "annotations": annotations,
                                                        "categories": [{"id": 1, "name": "dog"}]}))
    (ROOT / ".complete").write_text("")


CHILD = """
import resource, sys, time
started = time.perf_counter()
from engine.project.project import Project
project = Project.open(sys.argv[1], read_only=True)
elapsed = time.perf_counter() - started
boxes = sum(len(a.boxes) for a in project.annotations)
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(project.annotations), boxes)
"""


def main() -> None:
    generate()
    for layout in ("voc", "ultralytics", "coco"):
        runs = []
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / layout)], capture_output=True, text=True,
                                 check=True).stdout.split()
            runs.append(out)
        seconds = statistics.median(float(r[0]) for r in runs)
        rss = max(float(r[1]) for r in runs)
        print(f"{layout:12s} {N} images: Project.open {seconds:.2f} s (median of 3), peak RSS {rss:.0f} MB, "
              f"{runs[0][2]} images, {runs[0][3]} boxes")


if __name__ == "__main__":
    main()
