"""`resyolo predict` end to end: a real (tiny, random) checkpoint, real images, video and label files on disk.

Where exact files matter, ``Detector.detect`` is replaced by one returning a known box per image: the tiny
random network only guarantees *some* detections at ``--conf 0``.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from engine.model.boxes import Detections
from engine.model.checkpoint import save_checkpoint
from engine.cli import main
from engine.model.config import ModelConfig
from engine.inference.detector import Detector
from engine.inference.loading import load_detector
from engine.model.weights import build_model

CLASSES = ["cat", "dog"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64), "none")
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", model, CLASSES)


def known_box(width: int, height: int) -> tuple[int, int, int, int]:
    return round(width * 0.1), round(height * 0.2), round(width * 0.6), round(height * 0.7)


@pytest.fixture
def one_dog_per_image(monkeypatch):
    """Detector.detect -> one 'dog' (class 1) at :func:`known_box`, score 0.9, for every image."""
    calls = []

    def detect(self, images):
        calls.append(len(images))
        return [Detections(torch.tensor([known_box(im.shape[1], im.shape[0])], dtype=torch.float32),
                           torch.tensor([0.9]), torch.tensor([1])) for im in images]

    monkeypatch.setattr(Detector, "detect", detect)
    return calls


def write_video(path: Path, frames: int, size=(64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (40 * i, 100, 200), np.uint8))
    writer.release()
    return path


def make_images(folder: Path, names, size=(100, 80)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(folder / name)
    return folder


def predict(checkpoint, source, out, *options) -> int:
    return main(["predict", str(source), "--weights", str(checkpoint), "--out", str(out), "--quiet", *options])


def read_results(out: Path) -> list[dict]:
    return json.loads((out / "predictions.json").read_text())


def test_single_image_with_real_network(checkpoint, tmp_path):
    make_images(tmp_path / "in", ["street.jpg"])
    out = tmp_path / "out"
    assert predict(checkpoint, tmp_path / "in" / "street.jpg", out, "--conf", "0.0") == 0
    results = read_results(out)
    assert results and {r["image_id"] for r in results} == {"street"}
    for r in results:
        x, y, w, h = r["bbox"]
        assert r["category_id"] in (0, 1) and 0 <= r["score"] <= 1 and w > 0 and h > 0
        assert 0 <= x and x + w <= 100.01 and 0 <= y and y + h <= 80.01
    annotated = cv2.imread(str(out / "street.jpg"))
    assert annotated.shape == (80, 100, 3)
    rows = (out / "predictions.csv").read_text().splitlines()
    assert rows[0] == "image_id,file,class_id,class_name,score,x1,y1,x2,y2" and len(rows) == len(results) + 1


def test_folder_skips_unreadable_image_by_name(checkpoint, tmp_path, capsys, one_dog_per_image):
    folder = make_images(tmp_path / "in", ["b.png", "a.jpg", "c.jpg"])
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    out = tmp_path / "out"
    assert predict(checkpoint, folder, out, "--batch", "2") == 0
    assert "broken.jpg" in capsys.readouterr().err
    assert [r["image_id"] for r in read_results(out)] == ["a", "b", "c"]
    assert sorted(p.name for p in out.glob("*.jpg")) == ["a.jpg", "b.jpg", "c.jpg"]
    assert one_dog_per_image == [2, 1]


def test_nothing_readable_exits_1(checkpoint, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.png").write_bytes(b"nope")
    assert predict(checkpoint, tmp_path / "in", tmp_path / "out") == 1
    assert "x.png" in capsys.readouterr().err and read_results(tmp_path / "out") == []


def test_glob_and_no_images(checkpoint, tmp_path, one_dog_per_image):
    make_images(tmp_path / "in", ["p1.jpg", "p2.jpg", "q.png"])
    out = tmp_path / "out"
    assert predict(checkpoint, tmp_path / "in" / "p*.jpg", out, "--no-images") == 0
    assert [r["image_id"] for r in read_results(out)] == ["p1", "p2"]
    assert not list(out.glob("*.jpg"))


def test_video_writes_annotated_video_and_per_frame_results(checkpoint, tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "out"
    assert predict(checkpoint, video, out, "--conf", "0.0", "--max-frames", "4", "--batch", "3") == 0
    assert {r["image_id"] for r in read_results(out)} == {0, 1, 2, 3}
    capture = cv2.VideoCapture(str(out / "clip_annotated.mp4"))
    assert capture.isOpened()
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == 4


def test_missing_camera_gives_clear_message(checkpoint, tmp_path, capsys):
    assert predict(checkpoint, "97", tmp_path / "out") == 1
    assert "camera 97 could not be opened: missing or busy" in capsys.readouterr().err


@pytest.mark.parametrize("weights, expected", [
    ("missing.pt", "no such file"),
    ("damaged.pt", "is not a readable PyTorch file"),
    ("other.pt", "is not a ResYOLO checkpoint"),
])
def test_bad_weights_are_usage_errors(tmp_path, capsys, weights, expected):
    (tmp_path / "damaged.pt").write_bytes(b"PK\x03\x04" + b"x" * 100)  # a cut-off zip archive
    torch.save({"state": torch.zeros(2)}, tmp_path / "other.pt")  # PyTorch, but not a checkpoint
    make_images(tmp_path / "in", ["a.jpg"])
    assert predict(tmp_path / weights, tmp_path / "in", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert weights in err and expected in err
    assert not (tmp_path / "out").exists()


def test_missing_source_is_a_usage_error(checkpoint, tmp_path, capsys):
    assert predict(checkpoint, tmp_path / "nowhere", tmp_path / "out") == 2
    assert "nowhere: no such file or folder" in capsys.readouterr().err


def test_out_folder_that_would_replace_source_images_is_refused(checkpoint, tmp_path, capsys):
    folder = make_images(tmp_path / "in", ["a.jpg"])
    before = (folder / "a.jpg").read_bytes()
    assert predict(checkpoint, folder, folder) == 2
    assert "would write over the source image" in capsys.readouterr().err
    assert (folder / "a.jpg").read_bytes() == before


def test_voc_labels_never_replace_existing_without_overwrite(checkpoint, tmp_path, capsys, one_dog_per_image):
    folder = make_images(tmp_path / "in", ["a.jpg", "b.jpg"])
    mine = b"<annotation><object><name>person</name></object></annotation>\n"  # a person's work, even if odd
    (folder / "a.xml").write_bytes(mine)
    assert main(["predict", str(folder), "--weights", str(checkpoint), "--out", str(tmp_path / "out"),
                 "--save-labels", "voc", "--no-images"]) == 0
    assert (folder / "a.xml").read_bytes() == mine
    from engine.annotations.voc import read_voc_xml
    written = read_voc_xml(folder / "b.xml")
    assert [(b.label, *b.xyxy()) for b in written.boxes] == [("dog", *known_box(100, 80))]
    assert (written.width, written.height, written.verified) == (100, 80, False)
    assert "1 written, 1 existing kept (--overwrite replaces them)" in capsys.readouterr().out

    assert predict(checkpoint, folder, tmp_path / "out", "--save-labels", "voc", "--overwrite") == 0
    assert [b.label for b in read_voc_xml(folder / "a.xml").boxes] == ["dog"]


def test_yolo_labels_use_existing_classes_txt_order_and_keep_it(checkpoint, tmp_path, one_dog_per_image):
    folder = make_images(tmp_path / "in", ["a.jpg", "b.jpg"])
    (folder / "classes.txt").write_bytes(b"dog\ncat\nbird\n")
    (folder / "b.txt").write_bytes(b"2 0.5 0.5 0.2 0.2\n")
    assert predict(checkpoint, folder, tmp_path / "out", "--save-labels", "yolo") == 0
    assert (folder / "classes.txt").read_bytes() == b"dog\ncat\nbird\n"
    assert (folder / "b.txt").read_bytes() == b"2 0.5 0.5 0.2 0.2\n"
    # dog is id 0 in this classes.txt (id 1 in the checkpoint); box 10,16..60,56 in 100 x 80
    assert (folder / "a.txt").read_text() == "0 0.350000 0.450000 0.500000 0.500000\n"


def test_yolo_classes_txt_lacking_model_classes_needs_overwrite(checkpoint, tmp_path, capsys, one_dog_per_image):
    folder = make_images(tmp_path / "in", ["a.jpg"])
    (folder / "classes.txt").write_bytes(b"bird\n")
    assert predict(checkpoint, folder, tmp_path / "out", "--save-labels", "yolo") == 2
    assert "classes.txt lacks the model's classes cat, dog" in capsys.readouterr().err
    assert (folder / "classes.txt").read_bytes() == b"bird\n" and not (folder / "a.txt").exists()

    assert predict(checkpoint, folder, tmp_path / "out", "--save-labels", "yolo", "--overwrite") == 0
    assert (folder / "classes.txt").read_text() == "bird\ncat\ndog\n"  # appended: bird keeps id 0
    assert (folder / "a.txt").read_text().startswith("2 ")


def test_labels_dir_gets_labels_and_new_classes_txt(checkpoint, tmp_path, one_dog_per_image):
    folder = make_images(tmp_path / "in", ["a.jpg"])
    labels = tmp_path / "labels"
    assert predict(checkpoint, folder, tmp_path / "out", "--save-labels", "yolo", "--labels-dir", str(labels)) == 0
    assert sorted(p.name for p in labels.iterdir()) == ["a.txt", "classes.txt"]
    assert (labels / "classes.txt").read_text() == "cat\ndog\n" and (labels / "a.txt").read_text().startswith("1 ")
    assert sorted(p.name for p in folder.iterdir()) == ["a.jpg"]


def test_results_are_accepted_by_resyolo_eval_on_the_same_folder(checkpoint, tmp_path, one_dog_per_image):
    from engine.annotations.records import Box, ImageAnnotation
    from engine.annotations.voc import write_voc_xml

    folder = make_images(tmp_path / "gt", ["a.jpg", "b.jpg"])
    (folder / "classes.txt").write_text("cat\ndog\n")
    for name in ("a", "b"):
        write_voc_xml(ImageAnnotation(folder / f"{name}.jpg", 100, 80, [Box("dog", *known_box(100, 80))]))
    out = tmp_path / "out"
    assert predict(checkpoint, folder, out) == 0
    report = tmp_path / "map.json"
    assert main(["eval", "--gt", str(folder), "--dt", str(out / "predictions.json"), "--json", str(report)]) == 0
    assert json.loads(report.read_text())["per_class"]["dog"] == pytest.approx(1.0)


def test_real_network_results_are_valid_for_eval(checkpoint, tmp_path):
    folder = make_images(tmp_path / "gt", ["a.jpg", "b.jpg"])
    (folder / "classes.txt").write_text("cat\ndog\n")
    (folder / "a.xml").write_text("<annotation><size><width>100</width><height>80</height></size><object>"
                                  "<name>cat</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>50</xmax><ymax>40</ymax>"
                                  "</bndbox></object></annotation>")
    out = tmp_path / "out"
    assert predict(checkpoint, folder, out, "--conf", "0.0") == 0
    assert read_results(out)
    assert main(["eval", "--gt", str(folder), "--dt", str(out / "predictions.json")]) == 0


def test_ctrl_c_keeps_what_was_done(checkpoint, tmp_path, monkeypatch, capsys):
    folder = make_images(tmp_path / "in", [f"im{i}.jpg" for i in range(5)])
    real_detect, calls = Detector.detect, []

    def detect_then_interrupt(self, images):
        calls.append(len(images))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_detect(self, images)

    monkeypatch.setattr(Detector, "detect", detect_then_interrupt)
    out = tmp_path / "out"
    assert predict(checkpoint, folder, out, "--batch", "2", "--conf", "0.0", "--save-labels", "voc") == 130
    assert calls == [2, 2]
    assert {r["image_id"] for r in read_results(out)} == {"im0", "im1"}
    assert sorted(p.name for p in out.glob("*.jpg")) == ["im0.jpg", "im1.jpg"]
    assert sorted(p.name for p in folder.glob("*.xml")) == ["im0.xml", "im1.xml"]
    assert "Interrupted: 2 image(s) done" in capsys.readouterr().err


def test_ctrl_c_on_a_video_leaves_a_playable_video(checkpoint, tmp_path, monkeypatch):
    video = write_video(tmp_path / "clip.mp4", frames=6)
    real_detect, calls = Detector.detect, []

    def detect_then_interrupt(self, images):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_detect(self, images)

    monkeypatch.setattr(Detector, "detect", detect_then_interrupt)
    out = tmp_path / "out"
    assert predict(checkpoint, video, out, "--batch", "1", "--conf", "0.0") == 130
    assert {r["image_id"] for r in read_results(out)} == {0, 1}
    capture = cv2.VideoCapture(str(out / "clip_annotated.mp4"))
    assert capture.isOpened() and capture.read()[0] and capture.read()[0] and not capture.read()[0]
    capture.release()


def test_save_labels_needs_image_files(checkpoint, tmp_path, capsys):
    video = write_video(tmp_path / "clip.mp4", frames=2)
    assert predict(checkpoint, video, tmp_path / "out", "--save-labels", "voc") == 2
    assert "--save-labels" in capsys.readouterr().err


def test_detector_input_is_the_evaluation_input_in_channels_last_layout(checkpoint):
    from engine.data.dataset import image_to_model_input

    detector = load_detector(checkpoint, device="cpu")
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)]
    batch = detector.preprocess(images)
    torch.testing.assert_close(batch, torch.stack([image_to_model_input(im, 64) for im in images]), rtol=0, atol=0)
    assert batch.is_contiguous(memory_format=torch.channels_last)


def test_results_use_the_ids_of_the_coco_ground_truth(checkpoint, tmp_path, one_dog_per_image):
    """Issue 12: on the project's own COCO output (integer image ids, categories 1..K) predictions.json used
    file stems and 0-based classes, and `resyolo eval` exited 2."""
    from engine.annotations.coco import write_coco_json
    from engine.annotations.records import Box, ImageAnnotation, LabelSet

    folder = make_images(tmp_path / "gt", ["a.jpg", "b.jpg"])
    write_coco_json([ImageAnnotation(folder / f"{n}.jpg", 100, 80, [Box("dog", *known_box(100, 80))]) for n in "ab"],
                    LabelSet(CLASSES), folder / "annotations.json")
    out = tmp_path / "out"
    assert predict(checkpoint, folder, out) == 0
    assert {(r["image_id"], r["category_id"]) for r in read_results(out)} == {(1, 2), (2, 2)}
    report = tmp_path / "map.json"
    assert main(["eval", "--gt", str(folder / "annotations.json"), "--dt", str(out / "predictions.json"),
                 "--metric", "coco", "--json", str(report)]) == 0
    from pycocotools.coco import COCO

    gt = COCO(str(folder / "annotations.json"))
    assert len(gt.loadRes(str(out / "predictions.json")).getAnnIds()) == 2
