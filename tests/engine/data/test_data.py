"""engine.data.dataset and engine.data.augment on real image files written to tmp_path."""
from __future__ import annotations

import logging
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import tv_tensors
from torchvision.transforms import v2

from engine.annotations.records import Box, ImageAnnotation, LabelSet
from engine.data.augment import MEAN_RGB, AugmentConfig, RandomCropKeepingCentres
from engine.data.augment_modern import ModernAugmentConfig
from engine.data.dataset import (
    DetectionDataset, UnknownClassError, collate_detection, image_to_model_input, make_dataloader,
)
from engine.data.split import DatasetError, read_list_file, select_listed, split_train_val
from engine.io.images import read_image

LABELS = LabelSet(["red", "green"])
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0)}  # RGB


def write_scene(path: Path, width: int, height: int, boxes: list[Box], exif_orientation: int | None = None) -> Path:
    """A black image with each box painted, pixel-exactly, in its class colour."""
    pixels = np.zeros((height, width, 3), np.uint8)
    for box in boxes:
        pixels[int(box.y1):int(box.y2), int(box.x1):int(box.x2)] = COLOURS.get(box.label, (0, 0, 255))
    if exif_orientation is None:
        cv2.imwrite(str(path), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    else:
        exif = Image.Exif()
        exif[274] = exif_orientation
        # Store the pixels so that applying the orientation shows ``pixels``: 6 = rotate 90 clockwise to show.
        stored = np.rot90(pixels, k=1 if exif_orientation == 6 else -1)
        Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif, quality=95)
    return path


def scene(tmp_path: Path, name: str = "scene.png", width: int = 320, height: int = 240,
          boxes: list[Box] | None = None) -> ImageAnnotation:
    boxes = boxes if boxes is not None else [Box("red", 40, 50, 130, 170), Box("green", 180, 30, 290, 110)]
    path = write_scene(tmp_path / name, width, height, boxes)
    return ImageAnnotation(path, width, height, boxes)


def colour_extent(image: torch.Tensor, label: str) -> tuple[int, int, int, int] | None:
    """x1, y1, x2, y2 (exclusive) of the pixels mostly of ``label``'s colour, or None."""
    red, green, blue = image
    mask = (red > 0.5) & (green < 0.3) if label == "red" else (green > 0.5) & (red < 0.3)
    mask &= blue < 0.3
    ys, xs = torch.nonzero(mask, as_tuple=True)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def assert_boxes_cover_their_pixels(image: torch.Tensor, target: dict, tolerance: float = 1.5) -> None:
    for box, class_id in zip(target["boxes"].tolist(), target["labels"].tolist()):
        extent = colour_extent(image, LABELS.name(class_id))
        assert extent is not None, f"box {box} of {LABELS.name(class_id)} kept but none of its pixels are visible"
        assert np.allclose(box, extent, atol=tolerance), f"{LABELS.name(class_id)}: box {box} vs pixels {extent}"


def test_geometric_augmentation_keeps_boxes_on_their_pixels(tmp_path):
    annotation = scene(tmp_path)
    no_colour = AugmentConfig(colour_p=0.0)
    always = AugmentConfig(flip_p=1.0, width_scale_p=1.0, shift_p=1.0, crop_p=1.0, colour_p=0.0)
    datasets = [DetectionDataset([annotation], LABELS, 160, train=True, augment=config)
                for config in (no_colour, always)]
    boxes_seen = set()

    for seed in range(25):
        for dataset in datasets:
            torch.manual_seed(seed)
            image, target = dataset[0]
            assert image.shape == (3, 160, 160) and image.dtype == torch.float32
            assert 0.0 <= image.min() and image.max() <= 1.0
            assert target["labels"].dtype == torch.int64 and target["boxes"].dtype == torch.float32
            assert_boxes_cover_their_pixels(image, target)
            boxes_seen.add(tuple(round(v) for v in target["boxes"].flatten().tolist()))

    assert len(boxes_seen) > 20  # the augmentation really moved things


def test_boxes_whose_centre_leaves_the_image_are_dropped_with_their_labels(tmp_path):
    # The green box hugs the right edge: a crop or shift that loses its centre must drop exactly that box.
    annotation = scene(tmp_path, boxes=[Box("red", 20, 60, 120, 180), Box("green", 280, 80, 320, 120)])
    config = AugmentConfig(flip_p=0.0, width_scale_p=0.0, shift_p=1.0, crop_p=1.0, colour_p=0.0)
    dataset = DetectionDataset([annotation], LABELS, 160, train=True, augment=config)
    dropped = 0

    for seed in range(30):
        torch.manual_seed(seed)
        image, target = dataset[0]
        assert len(target["boxes"]) == len(target["labels"])
        assert_boxes_cover_their_pixels(image, target)
        dropped += LABELS.index("green") not in target["labels"].tolist()

    assert dropped > 0


def test_colour_jitter_changes_pixels_not_boxes(tmp_path):
    annotation = scene(tmp_path)
    colour_only = AugmentConfig(flip_p=0, width_scale_p=0, shift_p=0, crop_p=0, colour_p=1.0, hue=0.1)
    jittered = DetectionDataset([annotation], LABELS, 160, train=True, augment=colour_only)
    plain_image, plain_target = DetectionDataset([annotation], LABELS, 160, train=False)[0]

    torch.manual_seed(3)
    image, target = jittered[0]

    assert torch.equal(target["boxes"], plain_target["boxes"])
    assert (image - plain_image).abs().max() > 0.05


def test_evaluation_items_are_only_resized(tmp_path):
    annotation = scene(tmp_path)
    dataset = DetectionDataset([annotation], LABELS, 160, train=False)

    image, target = dataset[0]

    expected = torch.tensor([[40, 50, 130, 170], [180, 30, 290, 110]], dtype=torch.float32)
    expected *= torch.tensor([160 / 320, 160 / 240] * 2)
    torch.testing.assert_close(target["boxes"], expected)
    assert target["labels"].tolist() == [0, 1]
    assert torch.equal(image, dataset[0][0])  # no randomness
    torch.testing.assert_close(image, image_to_model_input(read_image(annotation.image_path), 160))
    assert_boxes_cover_their_pixels(image, target, tolerance=1.0)


def test_exif_rotated_large_jpeg_boxes_follow_the_upright_pixels(tmp_path):
    # Upright 1800 x 1400 with boxes in upright pixels; stored sideways with orientation 6. Large enough for the
    # reduced-scale JPEG decode to kick in, which must not move the boxes either.
    boxes = [Box("red", 200, 300, 900, 1100), Box("green", 1100, 100, 1700, 600)]
    path = write_scene(tmp_path / "phone.jpg", 1800, 1400, boxes, exif_orientation=6)
    annotation = ImageAnnotation(path, 1800, 1400, boxes)

    for train in (False, True):
        torch.manual_seed(0)
        dataset = DetectionDataset([annotation], LABELS, 128, train=train,
                                   augment=AugmentConfig(colour_p=0.0) if train else None)
        image, target = dataset[0]
        assert len(target["boxes"]) >= 1
        assert_boxes_cover_their_pixels(image, target)


def test_difficult_boxes_are_left_out_and_empty_images_have_empty_targets(tmp_path):
    annotation = scene(tmp_path, boxes=[Box("red", 40, 50, 130, 170), Box("green", 180, 30, 290, 110, difficult=True)])
    empty = scene(tmp_path, name="empty.png", boxes=[])
    dataset = DetectionDataset([annotation, empty], LABELS, 96, train=True)

    _, target = dataset[0]
    _, empty_target = dataset[1]

    assert target["labels"].tolist() == [0]
    assert empty_target["boxes"].shape == (0, 4) and empty_target["labels"].shape == (0,)
    assert empty_target["labels"].dtype == torch.int64


def test_unknown_class_is_an_error_naming_image_and_class(tmp_path):
    annotation = scene(tmp_path, boxes=[Box("red", 1, 1, 20, 20), Box("blue", 30, 30, 60, 60)])

    with pytest.raises(UnknownClassError) as caught:
        DetectionDataset([annotation], LABELS, 96, train=False)

    assert str(annotation.image_path) in str(caught.value)
    assert "'blue'" in str(caught.value)


def test_unreadable_images_are_reported_and_skipped_at_construction(tmp_path, caplog):
    good = scene(tmp_path)
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    missing = ImageAnnotation(tmp_path / "gone.jpg", 10, 10, [])

    with caplog.at_level(logging.WARNING, logger="engine.data.dataset"):
        dataset = DetectionDataset([good, ImageAnnotation(text, 10, 10, []), missing], LABELS, 96, train=False)

    assert len(dataset) == 1 and dataset.annotations == [good]
    assert {(s.path, s.reason) for s in dataset.skipped} == {
        (text, "not an image, or an image format that cannot be read"), (missing.image_path, "file not found")}
    assert str(text) in caplog.text and str(missing.image_path) in caplog.text


def test_truncated_image_is_reported_and_replaced(tmp_path, caplog):
    good = scene(tmp_path, name="good.png")
    cut = tmp_path / "cut.jpg"
    cv2.imwrite(str(cut), np.random.default_rng(0).integers(0, 255, (200, 300, 3), np.uint8))
    cut.write_bytes(cut.read_bytes()[:-500])  # the header survives: only decoding finds the damage
    annotations = [ImageAnnotation(cut, 300, 200, [Box("red", 10, 10, 50, 50)]), good]
    no_augment = AugmentConfig(flip_p=0, width_scale_p=0, shift_p=0, crop_p=0, colour_p=0)
    training = DetectionDataset(annotations, LABELS, 96, train=True, augment=no_augment)
    evaluation = DetectionDataset(annotations, LABELS, 96, train=False)
    assert len(training) == len(evaluation) == 2

    with caplog.at_level(logging.WARNING, logger="engine.data.dataset"):
        _, stand_in_target = training[0]
        blank, blank_target = evaluation[0]

    assert stand_in_target["labels"].tolist() == [0, 1]  # the good image's boxes, not the broken one's
    assert blank.shape == (3, 96, 96) and blank.max() == 0 and blank_target["labels"].numel() == 0
    for dataset in (training, evaluation):
        assert [s.path for s in dataset.skipped] == [cut] and "truncated" in dataset.skipped[0].reason
    assert str(cut) in caplog.text

    only_bad = DetectionDataset(annotations[:1], LABELS, 96, train=True)
    with pytest.raises(DatasetError, match="none of the 1 images"):
        only_bad[0]


def test_collate_stacks_images_and_lists_targets(tmp_path):
    dataset = DetectionDataset([scene(tmp_path), scene(tmp_path, name="b.png", boxes=[])], LABELS, 64, train=False)

    images, targets = collate_detection([dataset[0], dataset[1]])

    assert images.shape == (2, 3, 64, 64)
    assert [len(t["labels"]) for t in targets] == [2, 0]


def test_dataloader_spawned_workers_match_in_process_loading(tmp_path):
    annotations = [scene(tmp_path, name=f"img{i}.png", boxes=[Box("red", 10 + i * 20, 20, 60 + i * 20, 90)])
                   for i in range(6)]
    dataset = DetectionDataset(annotations, LABELS, 64, train=False)
    train_dataset = DetectionDataset(annotations, LABELS, 64, train=True)
    assert len(pickle.loads(pickle.dumps(train_dataset))) == 6  # what spawn does to it

    in_process = list(make_dataloader(dataset, batch_size=4, shuffle=True, workers=0, seed=7))
    spawned_loader = make_dataloader(dataset, batch_size=4, shuffle=True, workers=2, seed=7)
    spawned = list(spawned_loader)

    assert spawned_loader.multiprocessing_context.get_start_method() == "spawn"
    assert spawned_loader.persistent_workers
    assert [images.shape[0] for images, _ in in_process] == [4, 2]
    for (images_a, targets_a), (images_b, targets_b) in zip(in_process, spawned):
        assert torch.equal(images_a, images_b)
        assert all(torch.equal(a["boxes"], b["boxes"]) for a, b in zip(targets_a, targets_b))
    augmented, _ = next(iter(make_dataloader(train_dataset, batch_size=3, shuffle=False, workers=0, seed=0)))
    assert augmented.shape == (3, 3, 64, 64)


def test_turning_the_mosaic_off_reaches_the_persistent_spawned_workers(tmp_path):
    # The trainer switches the mosaic off for the last epochs without making a new loader (new workers).
    annotations = [scene(tmp_path, name=f"img{i}.png", boxes=[Box("red", 10 + i * 20, 20, 60 + i * 20, 90)])
                   for i in range(4)]
    still = dict(scale=0.0, translate=0.0, hsv_h=0.0, hsv_s=0.0, hsv_v=0.0, flip=0.0)  # only the mosaic moves pixels
    dataset = DetectionDataset(annotations, LABELS, 64, train=True, augment=ModernAugmentConfig(mosaic=1.0, **still))
    whole_images = DetectionDataset(annotations, LABELS, 64, train=True, augment=ModernAugmentConfig(mosaic=0.0, **still))
    expected = torch.stack([whole_images[i][0] for i in range(4)])
    loader = make_dataloader(dataset, batch_size=4, shuffle=False, workers=1, seed=0)

    (mosaics, _), = list(loader)
    dataset.mosaic_enabled = False
    (whole, _), = list(loader)

    assert not torch.equal(mosaics, expected)
    assert torch.equal(whole, expected)


def test_split_is_seeded_and_independent_of_input_order(tmp_path):
    annotations = [ImageAnnotation(tmp_path / f"{i:03d}.jpg") for i in range(50)]

    train, val = split_train_val(annotations, 0.2, seed=1)
    train_again, val_again = split_train_val(list(reversed(annotations)), 0.2, seed=1)
    _, other_val = split_train_val(annotations, 0.2, seed=2)

    assert len(val) == 10 and len(train) == 40
    assert {a.image_path for a in train} | {a.image_path for a in val} == {a.image_path for a in annotations}
    assert not {a.image_path for a in train} & {a.image_path for a in val}
    assert val == val_again and train == train_again
    assert val != other_val
    assert split_train_val(annotations[:2], 0.01, seed=0)[1] != []  # a requested val split is never empty
    assert split_train_val(annotations, 0.0, seed=0) == (sorted(annotations, key=lambda a: a.image_path.name), [])
    with pytest.raises(ValueError):
        split_train_val(annotations, 1.0, seed=0)


def test_list_file_paths_are_relative_to_the_list_and_select_annotations(tmp_path):
    (tmp_path / "lists").mkdir()
    list_file = tmp_path / "lists" / "train.txt"
    absolute = tmp_path / "b.jpg"
    list_file.write_text(f"\ufeff# training images\n../a.jpg\n\n  {absolute}  \n../a.jpg\n", encoding="utf-8")
    annotations = [ImageAnnotation(tmp_path / name) for name in ("a.jpg", "b.jpg", "c.jpg")]

    listed = read_list_file(list_file)

    assert listed == [tmp_path / "a.jpg", absolute, tmp_path / "a.jpg"]
    assert [a.image_path.name for a in select_listed(annotations, listed)] == ["a.jpg", "b.jpg", "a.jpg"]
    with pytest.raises(DatasetError, match="x.jpg"):
        select_listed(annotations, [tmp_path / "x.jpg"], list_name=str(list_file))
    with pytest.raises(DatasetError, match="list file not found"):
        read_list_file(tmp_path / "nope.txt")


@pytest.mark.parametrize("bad", [{"flip_p": 1.5}, {"crop_range": (0.0, 1.0)}, {"width_scale_range": (1.2, 0.8)},
                                 {"shift_fraction": 1.0}])
def test_augment_config_rejects_impossible_values(bad):
    with pytest.raises(ValueError):
        AugmentConfig(**bad)


class _FixedWindow(RandomCropKeepingCentres):
    def __init__(self, window):
        super().__init__((1.0, 1.0))
        self.fixed = window

    def _window(self, height, width):
        return self.fixed


@pytest.mark.parametrize("window", [(0, 100, 200, 200), (0, 100, 200, 300)], ids=["crop", "shift-like"])
def test_window_keeps_boxes_by_centre_and_clamps_them(window):
    # Window from x=100 (to 300, or to 400 reaching past the 300-wide image). Box A's centre (x=90) is outside:
    # dropped although 40 px of it would show. Box B's centre (x=120) is inside: kept, clamped at the window.
    sample = {
        "image": tv_tensors.Image(torch.full((3, 200, 300), 200, dtype=torch.uint8)),
        "boxes": tv_tensors.BoundingBoxes(torch.tensor([[40.0, 10, 140, 50], [90, 60, 150, 90]]), format="XYXY",
                                          canvas_size=(200, 300)),
        "labels": torch.tensor([0, 1]),
    }
    transform = v2.Compose([_FixedWindow(window), v2.SanitizeBoundingBoxes()])

    out = transform(sample)

    assert out["labels"].tolist() == [1]
    assert out["boxes"].tolist() == [[0.0, 60.0, 50.0, 90.0]]
    assert out["image"].shape == (3, 200, window[3])
    if window[3] == 300:  # the part beyond the image is filled with the mean colour
        assert out["image"][:, 0, -1].tolist() == list(MEAN_RGB)


@pytest.mark.parametrize("source, target", [((480, 640), (224, 224)), ((3000, 4000), (448, 448)), ((500, 375), (96, 160))])
def test_strong_shrink_matches_area_averaging_and_does_not_alias(source, target):
    from engine.data.augment import resize_image

    rng = np.random.default_rng(0)
    # Detail about one target pixel wide, where two anti-aliasing filters may honestly differ a little.
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (*source, 3), dtype=np.uint8), (0, 0), source[1] / target[1])
    direct = cv2.resize(smooth, target[::-1], interpolation=cv2.INTER_AREA).astype(float)
    resized = resize_image(smooth, target[1], target[0])
    assert resized.shape == (*target, 3)
    assert np.abs(resized.astype(float) - direct).mean() < 1.5
    # One-pixel stripes average to grey; bilinear alone would keep a strong pattern (aliasing).
    stripes = np.zeros((*source, 3), np.uint8)
    stripes[:, ::2] = 255
    assert np.abs(resize_image(stripes, target[1], target[0]).astype(float) - 127.5).mean() < 20
    aliased = cv2.resize(stripes, target[::-1], interpolation=cv2.INTER_LINEAR).astype(float)
    assert np.abs(aliased - 127.5).mean() > 40
