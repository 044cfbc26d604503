"""Labelling never loads torch: the real window with every feature installed opens a VOC, an Ultralytics and a
COCO folder, shows, browses, draws and saves, and neither torch nor torchvision is imported (``import torch``
alone is most of a gigabyte resident). A model feature imports them when it is used, and works: the Train panel
lists the devices when it is first shown; the Detect workspace, the live view and Detect on a Folder open.

A fresh interpreter per test (a subprocess): in this test session other tests have long imported torch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r'''
import json, os, sys, time
from pathlib import Path

import numpy as np
from PIL import Image

root = Path(sys.argv[1])
HEAVY = ("torch", "torchvision")
report = {}


def heavy():
    return sorted(m for m in HEAVY if m in sys.modules)


def image(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((48, 64, 3), value, np.uint8)).save(path)


voc = root / "voc"
for i in range(3):
    image(voc / f"img{i}.jpg", 40 * i)
    (voc / f"img{i}.xml").write_text(
        f"<annotation><filename>img{i}.jpg</filename><size><width>64</width><height>48</height><depth>3</depth>"
        "</size><object><name>cat</name><difficult>0</difficult><bndbox><xmin>4</xmin><ymin>5</ymin>"
        "<xmax>30</xmax><ymax>40</ymax></bndbox></object></annotation>")
ultra = root / "ultralytics"
for i in range(3):
    split = "val" if i == 2 else "train"
    image(ultra / "images" / split / f"img{i}.jpg", 40 * i)
    (ultra / "labels" / split).mkdir(parents=True, exist_ok=True)
    (ultra / "labels" / split / f"img{i}.txt").write_text("0 0.3 0.4 0.2 0.3\n")
(ultra / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames:\n  0: cat\n  1: dog\n")
coco = root / "coco"
for i in range(3):
    image(coco / "train" / f"img{i}.jpg", 40 * i)
(coco / "annotations").mkdir(parents=True)
(coco / "annotations" / "instances_train.json").write_text(json.dumps({
    "images": [{"id": i + 1, "file_name": f"img{i}.jpg", "width": 64, "height": 48} for i in range(3)],
    "annotations": [{"id": i + 1, "image_id": i + 1, "category_id": 1, "bbox": [4, 5, 20, 30], "area": 600,
                     "iscrowd": 0} for i in range(3)],
    "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}))

from PySide6.QtCore import QEventLoop, QRectF, QTimer
from PySide6.QtWidgets import QApplication

from resyolo_gui.gc_guard import collect_garbage_on_gui_thread
from resyolo_gui.labelling import dialogs
from resyolo_gui.main_window import MainWindow
from resyolo_gui.settings import AppSettings

app = QApplication(["light-start"])
collect_garbage_on_gui_thread(app)


def fail_save(parent, failures):
    raise AssertionError(f"saving failed: {[str(f) for f in failures]}")


dialogs.ask_save_failure = fail_save


def run_until(condition, what, max_s=30.0):
    loop, deadline = QEventLoop(), time.monotonic() + max_s
    timer = QTimer(interval=2)
    timer.timeout.connect(lambda: (condition() or time.monotonic() > deadline) and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()
    assert condition(), f"timed out waiting for {what}"


window = MainWindow(None, AppSettings())
assert len(window.features) == 6, window.features
shown = []
original = window.canvas.set_image


def spy(rgb, ann, project, message=None, **kwargs):
    original(rgb, ann, project, message, **kwargs)
    if rgb is not None:
        shown.append(Path(ann.image_path).name)


window.canvas.set_image = spy
window.resize(1280, 800)
window.show()
run_until(lambda: window.isVisible(), "the window")
report["after_window"] = heavy()
for layout in ("voc", "ultralytics", "coco"):
    shown.clear()
    assert window.open_folder(str(root / layout)), layout
    run_until(lambda: bool(shown), f"{layout}: first image")
    first = window.current_annotation()
    assert len(first.boxes) == 1, (layout, first.boxes)
    window.step(1)  # browse
    run_until(lambda: len(shown) >= 2 and shown[-1] != shown[0], f"{layout}: next image")
    ann = window.current_annotation()
    before = len(ann.boxes)
    box = window.canvas.add_box(QRectF(30, 10, 20, 20))  # draw
    assert box is not None and len(ann.boxes) == before + 1, layout
    assert window.project.is_dirty(ann), layout
    window.save()
    assert not window.project.has_unsaved_changes(), layout
    report[f"after_{layout}"] = heavy()
window.loader.wait_for_done()
window.browser.thumbnails.wait_for_done()
report["labelled"] = heavy()

# A model feature, used: the Train panel lists the devices torch sees.
train = next(f for f in window.features if hasattr(f, "show_panel"))
train.show_panel()
run_until(lambda: train.panel.isVisible(), "the Train panel")
devices = [train.panel.device.itemData(i) for i in range(train.panel.device.count())]
report["devices"] = devices
report["auto_device"] = train.panel.device.itemText(train.panel.device.findData("auto"))
report["after_train_panel"] = heavy()
window.show_workspace("Detect")
detect = next(f for f in window.features if hasattr(f, "store") and hasattr(f, "mapping"))
run_until(lambda: detect.dock.isVisible(), "the Detection panel")
live = next(f for f in window.features if hasattr(f, "show_live_view"))
report["live_view"] = type(live.show_live_view()).__name__
folder = next(f for f in window.features if hasattr(f, "show_detect_folder"))
report["detect_folder"] = type(folder.show_detect_folder()).__name__
window.close()
print("REPORT " + json.dumps(report), flush=True)
'''


def test_labelling_imports_no_torch_and_model_features_load_it_when_used(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
           "RESYOLO_CONFIG_DIR": tempfile.mkdtemp(prefix="resyolo-light-start-config-"),
           "RESYOLO_DATA_DIR": tempfile.mkdtemp(prefix="resyolo-light-start-data-")}
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=240)
    lines = [line for line in out.stdout.splitlines() if line.startswith("REPORT ")]
    assert out.returncode == 0 and lines, out.stdout[-3000:] + out.stderr[-5000:]
    report = json.loads(lines[-1][len("REPORT "):])
    for step in ("after_window", "after_voc", "after_ultralytics", "after_coco", "labelled"):
        assert report[step] == [], f"{step}: {report[step]} imported while only labelling"
    assert "torch" in report["after_train_panel"]  # the Train panel asked torch for the devices
    assert report["devices"][:2] == ["auto", "cpu"] and report["auto_device"].startswith("Auto (")
    assert report["live_view"] == "LiveView" and report["detect_folder"] == "DetectFolderWindow"
