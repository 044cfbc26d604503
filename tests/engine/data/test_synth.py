"""Synthetic dataset: determinism, tight boxes, variety, every output format, the CLI and the bundled sample."""
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.annotations.folder import load_folder
from engine.cli import main
from engine.data.synth import generate_dataset, render_image
from engine.data.synth_shapes import SHAPE_COLOURS, SHAPE_NAMES

SAMPLE = Path(__file__).resolve().parents[3] / "assets" / "sample"


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_files(tmp_path):
    generate_dataset(tmp_path / "one", 4, 5, seed=11, fmt="yolo", image_size=(96, 80))
    generate_dataset(tmp_path / "two", 4, 5, seed=11, fmt="yolo", image_size=(96, 80))
    generate_dataset(tmp_path / "other", 4, 5, seed=12, fmt="yolo", image_size=(96, 80))
    one = _hashes(tmp_path / "one")
    assert len(one) == 4 * 2 + 1  # jpg + txt per image, classes.txt
    assert one == _hashes(tmp_path / "two")
    assert one["synth_0000.jpg"] != _hashes(tmp_path / "other")["synth_0000.jpg"]


def test_image_depends_only_on_seed_and_index(tmp_path):
    generate_dataset(tmp_path / "few", 2, 3, seed=5, fmt="yolo", image_size=(64, 64))
    generate_dataset(tmp_path / "more", 3, 3, seed=5, fmt="yolo", image_size=(64, 64))
    few, more = _hashes(tmp_path / "few"), _hashes(tmp_path / "more")
    assert few["synth_0001.jpg"] == more["synth_0001.jpg"]


def _class_coloured(rgb: np.ndarray, name: str) -> np.ndarray:
    hsv = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2HSV)
    hue = SHAPE_COLOURS[name][0]
    distance = np.abs((hsv[..., 0] - hue + 180) % 360 - 180)
    return (distance < 25) & (hsv[..., 1] > 0.2)


@pytest.mark.parametrize("seed", range(6))
def test_boxes_are_tight_around_visible_object_pixels(seed):
    rgb, boxes = render_image(np.random.default_rng([seed, 0]), 160, 128, SHAPE_NAMES)
    assert 1 <= len(boxes) <= 6
    for box in boxes:
        x1, y1, x2, y2 = (int(v) for v in box.xyxy())
        assert 0 <= x1 < x2 <= 160 and 0 <= y1 < y2 <= 128
        inside = _class_coloured(rgb[y1:y2, x1:x2], box.label)
        # Every edge of a tight box touches the object; a loose or shifted box has background there.
        assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any(), box


def test_variety_sizes_counts_and_classes(tmp_path):
    annotations = generate_dataset(tmp_path, 30, 6, seed=3, fmt="voc", image_size=(128, 128))
    boxes = [b for a in annotations for b in a.boxes]
    counts = [len(a.boxes) for a in annotations]
    assert min(counts) >= 1 and max(counts) <= 6 and len(set(counts)) >= 4
    assert {b.label for b in boxes} == set(SHAPE_NAMES[:6])
    sides = np.array([max(b.width, b.height) / 128 for b in boxes])
    assert sides.min() >= 0.05 and sides.max() <= 0.55  # roughly 8%-50% of the side, minus occlusion
    assert sides.max() - sides.min() > 0.25  # small and large objects both occur
    aspects = np.array([b.width / b.height for b in boxes])
    assert aspects.min() < 0.85 and aspects.max() > 1.15


@pytest.mark.parametrize("fmt", ["voc", "yolo", "coco"])
def test_every_format_loads_back_to_the_same_boxes(tmp_path, fmt):
    written = generate_dataset(tmp_path, 3, 4, seed=1, fmt=fmt, image_size=None)
    loaded = load_folder(tmp_path)
    assert loaded.format == fmt and loaded.errors == []
    assert loaded.labels.names == ["circle", "square", "triangle", "cross"]
    assert (tmp_path / "classes.txt").read_text() == "circle\nsquare\ntriangle\ncross\n"
    assert len({(a.width, a.height) for a in written}) > 1  # varied sizes
    for expected, got in zip(written, loaded.annotations):
        assert (got.image_path, got.width, got.height) == (expected.image_path, expected.width, expected.height)
        assert [b.label for b in got.boxes] == [b.label for b in expected.boxes]
        for b, e in zip(got.boxes, expected.boxes):
            assert b.xyxy() == pytest.approx(e.xyxy(), abs=1e-3)


def test_refuses_to_overwrite_and_writes_nothing(tmp_path):
    generate_dataset(tmp_path, 2, 2, seed=0, image_size=(64, 64))
    before = _hashes(tmp_path)
    with pytest.raises(FileExistsError, match="synth_0000.jpg"):
        generate_dataset(tmp_path, 3, 2, seed=9, image_size=(64, 64))
    assert _hashes(tmp_path) == before


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_classes=0), "num_classes must be"), (dict(num_classes=len(SHAPE_NAMES) + 1), "num_classes must be"),
    (dict(num_images=0), "num_images"), (dict(fmt="csv"), "unknown format"), (dict(image_size=(16, 64)), "too small"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    args = dict(out_dir=tmp_path, num_images=1, num_classes=2, seed=0) | kwargs
    with pytest.raises(ValueError, match=message):
        generate_dataset(**args)
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_dataset(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["synth", str(out), "--images", "2", "--classes", "3", "--seed", "4", "--format", "coco",
                 "--size", "80x64"]) == 0
    assert "Wrote 2 images" in capsys.readouterr().out
    loaded = load_folder(out)
    assert loaded.format == "coco" and len(loaded.annotations) == 2
    assert {(a.width, a.height) for a in loaded.annotations} == {(80, 64)}


def test_cli_refuses_existing_files(tmp_path, capsys):
    assert main(["synth", str(tmp_path), "--images", "1", "--size", "64x64"]) == 0
    capsys.readouterr()
    assert main(["synth", str(tmp_path), "--images", "1", "--size", "64x64", "--seed", "2"]) == 1
    err = capsys.readouterr().err
    assert "already has synth_0000.jpg" in err and "nothing was written" in err


@pytest.mark.parametrize("argv, message", [
    (["--size", "64"], "expected WxH"), (["--images", "0"], "must be at least 1"),
    (["--format", "csv"], "invalid choice"), (["--classes", "99"], "at most"),
])
def test_cli_bad_arguments(tmp_path, capsys, argv, message):
    try:
        code = main(["synth", str(tmp_path / "x"), *argv])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_bundled_sample_project_loads_cleanly():
    loaded = load_folder(SAMPLE)
    assert loaded.format == "voc" and loaded.errors == []
    assert len(loaded.annotations) == 24
    assert loaded.labels.names == ["circle", "square", "triangle", "cross"]
    assert all((a.width, a.height) == (320, 240) and a.boxes for a in loaded.annotations)
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 1_000_000
