import pytest
import torch

from engine.model.boxes import decode_predictions, encode_targets


def target(boxes, labels):
    return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), "labels": torch.tensor(labels, dtype=torch.long)}


def test_encoder_places_centre_offset_and_size():
    grid = encode_targets([target([[64, 32, 128, 160]], [2])], grid_size=4, num_classes=3, image_size=256)
    # centre (96, 96) -> cell col 1, row 1 (64 px cells), offset (0.5, 0.5); size (0.25, 0.5)
    assert grid[0, 1, 1, :5].tolist() == pytest.approx([0.5, 0.5, 0.25, 0.5, 1.0])
    assert grid[0, 1, 1, 5:].tolist() == [0, 0, 1]
    assert grid[..., 4].sum() == 1


def test_encoder_uses_width_and_height_separately():
    grid = encode_targets([target([[0, 0, 100, 50]], [0])], grid_size=2, num_classes=1, image_size=(200, 100))
    assert grid[0, 0, 0, :4].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.5])


def test_encoder_largest_object_wins_a_shared_cell_whatever_the_order():
    big, small = [10, 10, 60, 60], [20, 20, 40, 40]  # both centred in cell (0, 0) of a 2x2 grid over 128 px
    a = encode_targets([target([big, small], [0, 1])], 2, 2, 128)
    b = encode_targets([target([small, big], [1, 0])], 2, 2, 128)
    assert torch.equal(a, b)
    assert a[0, 0, 0, 5:].tolist() == [1, 0]  # class of the big one
    assert a[0, 0, 0, 2].item() == pytest.approx(50 / 128)


def test_encoder_batch_equals_single_images():
    t1, t2 = target([[5, 5, 30, 40], [70, 70, 120, 90]], [0, 1]), target([[0, 0, 128, 128]], [1])
    batch = encode_targets([t1, t2], 4, 2, 128)
    assert torch.equal(batch[0], encode_targets([t1], 4, 2, 128)[0])
    assert torch.equal(batch[1], encode_targets([t2], 4, 2, 128)[0])


def test_encoder_handles_empty_and_edge_boxes():
    grid = encode_targets([target([], []), target([[100, 100, 128, 128]], [0])], 4, 1, 128)
    assert grid[0].sum() == 0
    assert grid[1, 3, 3, 4] == 1  # a box touching the far edge stays in the last cell


def single_box_output(s=4, b=2, c=3, row=1, col=2, box=(0.5, 0.5, 0.25, 0.5), conf=0.9, cls=1, cls_score=0.8):
    out = torch.zeros(1, s, s, b * 5 + c)
    out[0, row, col, 0:5] = torch.tensor([*box, conf])
    out[0, row, col, b * 5 + cls] = cls_score
    return out


def test_decode_returns_original_image_pixels():
    det = decode_predictions(single_box_output(), image_sizes=[(400, 200)])[0]
    # centre ((0.5+2)/4, (0.5+1)/4) = (0.625, 0.375), size 0.25 x 0.5 -> x 200..300, y 25..125 at 400 x 200
    assert det.boxes.tolist() == [pytest.approx([200, 25, 300, 125])]
    assert det.scores.tolist() == [pytest.approx(0.72)]
    assert det.labels.tolist() == [1]


def test_decode_clips_to_image_and_thresholds():
    out = single_box_output(row=0, col=0, box=(0.1, 0.1, 0.9, 0.9))
    det = decode_predictions(out, image_sizes=[(100, 100)])[0]
    assert det.boxes.min() >= 0 and det.boxes.max() <= 100
    assert len(decode_predictions(out, [(100, 100)], conf_threshold=0.8)[0]) == 0


def test_decode_nms_per_class_and_agnostic():
    out = single_box_output(b=2, c=2, box=(0.5, 0.5, 0.5, 0.5))
    out[0, 1, 2, 5:10] = torch.tensor([0.5, 0.5, 0.5, 0.5, 0.8])  # box 1 of the same cell: same place
    assert len(decode_predictions(out, num_boxes=2)[0]) == 1  # same class: suppressed
    # centre x 0.5 against 0.625, both 0.5 wide: IoU 0.6, other class
    other = single_box_output(row=1, col=1, box=(1.0, 0.5, 0.5, 0.5), c=2, cls=0)
    both = out.clone()
    both[0, 1, 1] = other[0, 1, 1]
    assert len(decode_predictions(both)[0]) == 2
    assert len(decode_predictions(both, agnostic=True)[0]) == 1


def test_decode_batch_equals_single_and_caps_detections():
    torch.manual_seed(1)
    out = torch.rand(3, 7, 7, 2 * 5 + 4)
    sizes = [(640, 480), (100, 300), (448, 448)]
    batch = decode_predictions(out, sizes, conf_threshold=0.2, max_detections=5)
    for i in range(3):
        single = decode_predictions(out[i : i + 1], [sizes[i]], conf_threshold=0.2, max_detections=5)[0]
        assert torch.equal(batch[i].boxes, single.boxes) and torch.equal(batch[i].scores, single.scores)
        assert len(batch[i]) <= 5
        assert torch.all(batch[i].scores[:-1] >= batch[i].scores[1:])
