"""Live > Detect on a Folder…: any folder of images, the results browser, every export format, cancel."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from engine.model.checkpoint import save_checkpoint
from engine.model.config import ModelConfig
from engine.model.weights import build_model

CLASSES = ["cat", "dog"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64), "none")
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", model, CLASSES)


def test_detect_folder_browses_results_and_exports_every_format(qtbot, checkpoint, make_folder, tmp_path):
    from resyolo_gui.folder_detection.window import DetectFolderWindow

    folder = make_folder(tmp_path / "elsewhere", count=4, labelled=0)
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    window = DetectFolderWindow()
    qtbot.addWidget(window)
    window.checkpoint.set_checkpoint(checkpoint)
    window.folder_edit.setText(str(folder))
    window.output_edit.setText(str(out))
    window.confidence.setValue(0.01)  # a random model's scores are low: make it find boxes
    for box in window.format_boxes.values():
        box.setChecked(True)
    assert window.start()
    qtbot.waitUntil(lambda: window.summary is not None, timeout=20000)
    summary = window.summary
    assert summary.processed == summary.total == 5 and not summary.cancelled
    assert len(summary.unreadable) == 1 and "broken.jpg" in summary.unreadable[0]
    results = summary.output_dir
    assert results == out / "elsewhere_detections"
    assert sorted(p.name for p in (results / "annotated").iterdir()) == [f"img{i}.jpg" for i in range(4)]
    coco = json.loads((results / "detections_coco.json").read_text())
    assert coco and {"image_id", "category_id", "bbox", "score"} <= set(coco[0])
    rows = list(csv.reader((results / "detections.csv").open()))
    assert rows[0][:4] == ["image_id", "file", "class_id", "class_name"] and len(rows) == len(coco) + 1
    assert len(list((results / "voc").glob("*.xml"))) == 4
    assert (results / "yolo" / "classes.txt").read_text().split() == CLASSES
    assert len(list((results / "yolo").glob("img*.txt"))) == 4
    texts = [window.results.item(i).text() for i in range(window.results.count())]
    assert "broken.jpg — unreadable" in texts and sum("detection" in t for t in texts) == 4
    row = next(i for i, t in enumerate(texts) if t.startswith("img2.jpg"))
    window.results.setCurrentRow(row)
    assert not window.preview.pixmap().isNull()
    assert "Saved to" in window.status.text()

    assert window.start()  # a second run never replaces the first one's files
    qtbot.waitUntil(lambda: window.summary is not None, timeout=20000)
    assert window.summary.output_dir == out / "elsewhere_detections2"


def test_detect_folder_cancel_and_bad_folder(qtbot, checkpoint, make_folder, tmp_path):
    from resyolo_gui.folder_detection.window import DetectFolderWindow

    window = DetectFolderWindow()
    qtbot.addWidget(window)
    window.checkpoint.set_checkpoint(checkpoint)
    window.folder_edit.setText(str(tmp_path / "missing"))
    assert not window.start() and "no such folder" in window.status.text()
    empty = tmp_path / "empty"
    empty.mkdir()
    window.folder_edit.setText(str(empty))
    assert window.start()
    qtbot.waitUntil(lambda: "has no images" in window.status.text(), timeout=10000)
    folder = make_folder(tmp_path / "many", count=6, labelled=0)
    window.folder_edit.setText(str(folder))
    assert window.start()
    window.cancel()
    qtbot.waitUntil(lambda: window.summary is not None, timeout=20000)
    assert window.summary.cancelled and window.summary.processed < 6
    assert "Cancelled" in window.status.text()


def test_two_images_with_one_stem_get_two_annotated_pictures(qtbot, checkpoint, tmp_path):
    """a.png and a.jpg: a.jpg and a_2.jpg (as `resyolo predict` names them), never one written over the other."""
    import numpy as np
    from PIL import Image

    from resyolo_gui.folder_detection.window import DetectFolderWindow

    folder = tmp_path / "same-stem"
    folder.mkdir()
    Image.fromarray(np.full((48, 64, 3), 40, np.uint8)).save(folder / "a.jpg")
    Image.fromarray(np.full((48, 64, 3), 200, np.uint8)).save(folder / "a.png")
    window = DetectFolderWindow()
    qtbot.addWidget(window)
    window.checkpoint.set_checkpoint(checkpoint)
    window.folder_edit.setText(str(folder))
    window.output_edit.setText(str(tmp_path / "out"))
    for name, box in window.format_boxes.items():
        box.setChecked(name == "images")
    assert window.start()
    qtbot.waitUntil(lambda: window.summary is not None, timeout=20000)
    assert sorted(p.name for p in (window.summary.output_dir / "annotated").iterdir()) == ["a.jpg", "a_2.jpg"]
