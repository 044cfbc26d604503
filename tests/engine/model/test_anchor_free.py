"""The anchor-free head: network shapes, assigner, loss, decoding, checkpoints of both heads, ONNX export and the
modern augmentation. All on tiny inputs (64 px) so the file runs in seconds."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.model.assigner import TaskAlignedAssigner, pad_targets
from engine.model.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from engine.model.config import ModelConfig
from engine.model.heads import build_loss, build_network, decode_output, output_shape
from engine.model.head_modern import anchor_points
from engine.inference.detector import Detector
from engine.inference.loading import load_detector

CLASSES = ["cat", "dog", "bird"]


def tiny(head="anchor_free", **kw) -> ModelConfig:
    return ModelConfig(num_classes=3, backbone="resnet18", image_size=64, head=head, **kw)


def one_target(boxes, labels):
    return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), "labels": torch.tensor(labels).long()}


def test_network_output_shapes_in_training_and_eval():
    config = tiny()
    model = build_network(config)
    raw = model(torch.rand(2, 3, 64, 64))
    assert config.num_anchors == 64 + 16 + 4
    assert raw.shape == (2, 84, 4 * config.reg_max + 3)
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, *output_shape(config))
    assert ((out[..., 4:] >= 0) & (out[..., 4:] <= 1)).all()  # probabilities
    assert (out[..., 2:4] >= out[..., 0:2]).all()  # corners in order


@pytest.mark.parametrize("backbone,channels", [("resnet18", 128), ("resnet50", 64)])
def test_every_backbone_builds(backbone, channels):
    model = build_network(ModelConfig(num_classes=2, backbone=backbone, image_size=64, head="anchor_free",
                                      fpn_width=channels))
    assert model(torch.rand(1, 3, 64, 64)).shape[1] == 84


def test_assigner_gives_two_objects_in_one_region_their_own_points():
    """Two overlapping objects whose centres fall in one 32-pixel cell (the recipe head keeps only one of them):
    each gets positives, each positive learns the object it overlaps most."""
    points, _ = anchor_points(64, (8, 16, 32))
    a, b = [4.0, 4.0, 30.0, 30.0], [8.0, 8.0, 28.0, 36.0]
    gt_boxes, gt_labels, gt_valid = pad_targets([one_target([a, b], [0, 1])], "cpu")
    pred_boxes = torch.tensor([a])[None].expand(1, len(points), 4).clone()
    pred_boxes[:, ::2] = torch.tensor(b)  # half the points predict b exactly
    scores = torch.full((1, len(points), 3), 0.3)
    assigned = TaskAlignedAssigner(top_k=5)(scores, pred_boxes, points, gt_boxes, gt_labels, gt_valid)
    fg = assigned.foreground[0]
    labels = assigned.target_labels[0][fg]
    assert set(labels.tolist()) == {0, 1} and 2 <= fg.sum() <= 10
    inside_a = ((points > torch.tensor(a[:2])) & (points < torch.tensor(a[2:]))).all(1)
    assert inside_a[fg & (assigned.target_labels[0] == 0)].all()  # positives lie inside their object
    # Soft targets: the class of the owner only, at most 1, the best point of each object at its IoU (here 1).
    scores_fg = assigned.target_scores[0][fg]
    assert (scores_fg.argmax(1) == labels).all() and scores_fg.max() == pytest.approx(1.0, abs=1e-4)
    assert assigned.target_scores[0][~fg].abs().sum() == 0


def test_assigner_ignores_padding_and_images_without_objects():
    points, _ = anchor_points(64, (8, 16, 32))
    targets = [one_target([[0, 0, 20, 20]], [2]), one_target([], [])]
    gt_boxes, gt_labels, gt_valid = pad_targets(targets, "cpu")
    assert gt_valid.tolist() == [[True], [False]]
    pred = torch.tensor([[0.0, 0, 20, 20]]).expand(2, len(points), 4)
    assigned = TaskAlignedAssigner()(torch.full((2, len(points), 3), 0.5), pred, points, gt_boxes, gt_labels, gt_valid)
    assert assigned.foreground[0].any() and not assigned.foreground[1].any()


def test_loss_falls_on_one_batch_and_breaks_without_targets():
    torch.manual_seed(0)
    config = tiny()
    model, loss = build_network(config), build_loss(config)
    assert loss.components == ("iou", "dfl", "class")
    images = torch.rand(2, 3, 64, 64)
    targets = [one_target([[4, 6, 40, 50]], [1]), one_target([[20, 20, 60, 44], [2, 2, 18, 14]], [0, 2])]
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3)
    first = None
    for _ in range(25):
        parts = loss(model(images), targets)
        first = first or {k: float(v.detach()) for k, v in parts.items()}
        optimiser.zero_grad()
        parts["total"].backward()
        optimiser.step()
    assert float(parts["total"]) < 0.5 * first["total"]
    assert float(parts["iou"]) < first["iou"] and float(parts["dfl"]) < first["dfl"]
    empty = loss(model(images), [one_target([], []), one_target([], [])])  # all background: finite, class only
    assert torch.isfinite(empty["total"]) and float(empty["iou"]) == 0.0


def test_decode_scales_to_the_image_and_keeps_the_best_of_overlapping():
    out = torch.zeros(1, 3, 4 + 2)
    out[0, 0, :4] = torch.tensor([0.1, 0.2, 0.5, 0.6]); out[0, 0, 4] = 0.9
    out[0, 1, :4] = torch.tensor([0.11, 0.2, 0.5, 0.61]); out[0, 1, 4] = 0.8  # suppressed by the first
    out[0, 2, :4] = torch.tensor([0.6, 0.6, 1.2, 0.9]); out[0, 2, 5] = 0.7  # clipped to the image
    config = ModelConfig(num_classes=2, image_size=64, head="anchor_free")
    (det,) = decode_output(config, out, [(200, 100)], conf_threshold=0.5)
    assert det.labels.tolist() == [0, 1]
    np.testing.assert_allclose(det.boxes.numpy(), [[20, 20, 100, 60], [120, 60, 200, 90]], atol=1e-4)


def test_checkpoint_records_the_head_and_old_checkpoints_load_as_recipe(tmp_path):
    model = build_network(tiny())
    path = save_checkpoint(tmp_path / "af.pt", model, CLASSES)
    assert load_checkpoint(path)["model_config"].head == "anchor_free"
    loaded, names, _ = model_from_checkpoint(path)
    assert type(loaded).__name__ == "AnchorFreeYOLO" and names == CLASSES

    recipe = build_network(tiny("recipe"))
    old = save_checkpoint(tmp_path / "old.pt", recipe, CLASSES)
    state = torch.load(old, weights_only=True)
    del state["model_config"]["head"], state["model_config"]["fpn_width"], state["model_config"]["reg_max"]
    torch.save(state, old)  # as written before the head existed
    loaded, _, state = model_from_checkpoint(old)
    assert state["model_config"].head == "recipe" and type(loaded).__name__ == "ResYOLO"
    image = np.zeros((48, 80, 3), np.uint8)
    assert isinstance(Detector(loaded, CLASSES, "cpu").detect([image])[0].boxes, torch.Tensor)


def test_onnx_export_of_the_anchor_free_head_matches_torch_and_detects(tmp_path):
    from engine.inference.export import export_onnx
    from engine.inference.onnx_detector import OnnxModel

    torch.manual_seed(0)
    checkpoint = save_checkpoint(tmp_path / "af.pt", build_network(tiny()), CLASSES)
    onnx_path = export_onnx(checkpoint, tmp_path / "af.onnx", dynamic_batch=True)
    images = torch.rand(2, 3, 64, 64)
    got = OnnxModel(onnx_path)(images).numpy()
    want = load_detector(checkpoint, "cpu").forward(images).numpy()
    assert got.shape == (2, 84, 7)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    onnx_detector = load_detector(onnx_path, "cpu", conf_threshold=0.0)
    torch_detector = load_detector(checkpoint, "cpu", conf_threshold=0.0)
    image = (np.random.default_rng(0).random((50, 70, 3)) * 255).astype(np.uint8)
    a, b = onnx_detector.detect([image])[0], torch_detector.detect([image])[0]
    assert len(a) == len(b) > 0 and onnx_detector.config.head == "anchor_free"
    np.testing.assert_allclose(a.boxes.numpy(), b.boxes.numpy(), atol=1e-2)


def test_modern_augmentation_keeps_boxes_on_their_pixels():
    """A white square on black through mosaic, affine and flip (no HSV): every surviving box still covers white
    pixels only at its border's inside, and the mosaic turns off when asked."""
    from engine.data.augment_modern import ModernAugmentConfig, augment_sample

    side = 64
    pixels = np.zeros((side, side, 3), np.uint8)
    pixels[10:30, 20:50] = 255
    sample = (pixels, np.array([[20, 10, 50, 30]], np.float32), np.array([1]))
    config = ModernAugmentConfig(hsv_h=0, hsv_s=0, hsv_v=0)
    torch.manual_seed(0)
    checked = 0
    for _ in range(20):
        out, boxes, labels = augment_sample(lambda i: sample, 0, 4, side, config, use_mosaic=True)
        assert out.shape == (side, side, 3) and len(boxes) == len(labels) and (labels == 1).all()
        for x1, y1, x2, y2 in boxes:
            inner = out[int(np.ceil(y1)) + 1:int(y2) - 1, int(np.ceil(x1)) + 1:int(x2) - 1]
            if inner.size:
                assert inner.min() > 200  # inside the box: the white square
                checked += 1
    assert checked > 10
    torch.manual_seed(0)
    out, boxes, _ = augment_sample(lambda i: sample, 0, 4, side, ModernAugmentConfig(mosaic=1.0, scale=0, translate=0,
                                                                                     flip=0), use_mosaic=False)
    np.testing.assert_allclose(boxes, [[20, 10, 50, 30]], atol=1e-4)  # no mosaic, no affine: as it was


def test_mosaic_stops_for_the_last_epochs():
    from engine.training.config import TrainConfig

    config = TrainConfig.modern(epochs=40, close_mosaic=10)
    assert [config.mosaic_on(e) for e in (0, 29, 30, 39)] == [True, True, False, False]
    assert TrainConfig.modern(epochs=8).mosaic_on(5) and not TrainConfig.modern(epochs=8).mosaic_on(6)  # a quarter
    assert not TrainConfig.recipe().mosaic_on(0)


def test_predict_cli_and_auto_labelling_run_an_anchor_free_checkpoint(tmp_path, capsys):
    from PIL import Image

    from engine.inference.autolabel import raw_outputs
    from engine.cli import main

    torch.manual_seed(0)
    checkpoint = save_checkpoint(tmp_path / "af.pt", build_network(tiny()), CLASSES)
    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        Image.fromarray((np.random.default_rng(i).random((48, 72, 3)) * 255).astype(np.uint8)).save(images / f"{i}.png")
    out = tmp_path / "out"
    assert main(["predict", str(images), "--weights", str(checkpoint), "--out", str(out), "--conf", "0.0",
                 "--save-labels", "yolo", "--quiet"]) == 0, capsys.readouterr().err
    assert all((images / f"{i}.txt").read_text().strip() for i in range(3))  # labels beside the images
    detector = load_detector(checkpoint, "cpu")
    results = list(raw_outputs(detector, sorted(images.glob("*.png")), batch_size=2))
    assert [r.output.shape for r in results] == [(1, 84, 7)] * 3
    decoded = detector.decode(results[0].output, [results[0].size], conf_threshold=0.0)[0]
    assert len(decoded) > 0 and (decoded.boxes[:, 2] <= 72).all() and (decoded.boxes[:, 3] <= 48).all()


def test_static_centre_assigner_of_the_ablation_picks_points_nearest_the_centre():
    from engine.model.assigner import CentreAssigner

    points, _ = anchor_points(64, (8, 16, 32))
    gt_boxes, gt_labels, gt_valid = pad_targets([one_target([[0, 0, 40, 40]], [1])], "cpu")
    assigned = CentreAssigner(top_k=3)(torch.zeros(1, len(points), 3), torch.zeros(1, len(points), 4), points,
                                       gt_boxes, gt_labels, gt_valid)
    chosen = points[assigned.foreground[0]]
    assert len(chosen) == 3 and ((chosen - 20).norm(dim=1) <= 8).all()
    assert assigned.target_scores[0][assigned.foreground[0]].tolist() == [[0, 1, 0]] * 3
