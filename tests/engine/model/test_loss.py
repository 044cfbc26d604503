"""The loss against hand-computed values, and one test for each defect of the reference study's code."""
import math

import pytest
import torch

from engine.model.boxes import cell_boxes_to_xyxy, elementwise_iou, encode_targets
from engine.model.loss import YoloLoss, responsible_predictors, split_prediction

S, B, C = 2, 2, 2


def empty_output(fill: float = 0.0) -> torch.Tensor:
    return torch.full((1, S, S, B * 5 + C), fill)


def target_with_object(row: int, col: int, box, cls: int) -> torch.Tensor:
    target = torch.zeros(1, S, S, 5 + C)
    target[0, row, col, :4] = torch.tensor(box)
    target[0, row, col, 4] = 1
    target[0, row, col, 5 + cls] = 1
    return target


def hand_case():
    """One object in cell (row 0, col 1): offset (0.5, 0.5), w = h = 0.5, class 1."""
    target = target_with_object(0, 1, [0.5, 0.5, 0.5, 0.5], 1)
    out = empty_output()
    out[0, 0, 1, 0:5] = torch.tensor([0.6, 0.5, 0.36, 0.49, 0.8])  # box 0: close to the truth
    out[0, 0, 1, 5:10] = torch.tensor([0.0, 0.0, 0.25, 0.25, 0.3])  # box 1: far off
    out[0, 0, 1, 10:12] = torch.tensor([0.2, 0.7])
    for row, col in [(0, 0), (1, 0), (1, 1)]:  # the empty cells
        out[0, row, col, 4] = 0.1
        out[0, row, col, 9] = 0.2
    return out, target


def test_loss_matches_hand_computation_with_target_one():
    out, target = hand_case()
    parts = YoloLoss(num_boxes=B, conf_target="one")(out, target)
    regression = (0.6 - 0.5) ** 2 + 0 + (math.sqrt(0.36) - math.sqrt(0.5)) ** 2 + (math.sqrt(0.49) - math.sqrt(0.5)) ** 2
    containment = (0.8 - 1.0) ** 2
    no_object = 3 * (0.1**2 + 0.2**2)
    class_error = 0.2**2 + (0.7 - 1.0) ** 2
    assert parts["regression"].item() == pytest.approx(regression, abs=1e-6)
    assert parts["containment"].item() == pytest.approx(containment, abs=1e-6)
    assert parts["no_object"].item() == pytest.approx(no_object, abs=1e-6)
    assert parts["class"].item() == pytest.approx(class_error, abs=1e-6)
    total = 5 * regression + containment + 0.5 * no_object + class_error
    assert parts["total"].item() == pytest.approx(total, abs=1e-6)


def test_containment_targets_the_iou_by_default():
    out, target = hand_case()
    # Box 0 in corners: centre ((0.6+1)/2, 0.5/2) = (0.8, 0.25), size 0.36 x 0.49, inside the truth [0.5,0,1,0.5].
    iou = (0.36 * 0.49) / 0.25
    parts = YoloLoss(num_boxes=B)(out, target)
    assert parts["containment"].item() == pytest.approx((0.8 - iou) ** 2, abs=1e-6)


def test_loss_is_divided_by_batch_size():
    out, target = hand_case()
    one = YoloLoss(num_boxes=B)(out, target)["total"]
    two = YoloLoss(num_boxes=B)(out.repeat(2, 1, 1, 1), target.repeat(2, 1, 1, 1))["total"]
    assert two.item() == pytest.approx(one.item(), rel=1e-6)


def defect_case():
    """Target (dx, dy, w, h) = (0.2, 0.3, 0.6, 0.7) in cell (0, 0). Box 0 predicts exactly the object; box 1
    predicts a box whose corners equal the raw target numbers (0.2, 0.3, 0.6, 0.7)."""
    target = target_with_object(0, 0, [0.2, 0.3, 0.6, 0.7], 0)
    out = empty_output()
    out[0, 0, 0, 0:5] = torch.tensor([0.2, 0.3, 0.6, 0.7, 0.9])
    # corners (0.2, 0.3, 0.6, 0.7): centre (0.4, 0.5) -> offsets (0.8, 1.0) in cell (0, 0) of a 2x2 grid, size 0.4
    out[0, 0, 0, 5:10] = torch.tensor([0.8, 1.0, 0.4, 0.4, 0.9])
    return out, target


def test_defect1_responsible_box_compares_boxes_in_the_same_coordinates():
    out, target = defect_case()
    pred_boxes, _ = split_prediction(out, B)
    responsible, ious = responsible_predictors(pred_boxes[..., :4], target[..., :4])
    assert responsible[0, 0, 0].item() == 0
    assert ious[0, 0, 0, 0].item() == pytest.approx(1.0, abs=1e-6)
    # The study's defective rule: predicted corners against the raw (dx, dy, w, h) target picks box 1 here,
    # so this case tells the two rules apart.
    raw_target_as_corners = target[..., None, :4]
    defective = elementwise_iou(cell_boxes_to_xyxy(pred_boxes[..., :4]), raw_target_as_corners).argmax(-1)
    assert defective[0, 0, 0].item() == 1
    # And the loss: with the right predictor, the regression error is zero.
    assert YoloLoss(num_boxes=B)(out, target)["regression"].item() == pytest.approx(0.0, abs=1e-9)


def test_defect2_no_object_mask_hits_exactly_the_predictors_of_empty_cells():
    target = target_with_object(0, 0, [0.5, 0.5, 0.4, 0.4], 0)
    out = empty_output()
    out[0, 0, 0, 4] = 1.0  # both predictors of the object cell are fully confident: not a no-object error
    out[0, 0, 0, 9] = 1.0
    out[0, 1, 1, 9] = 0.5  # box 1 of the empty cell (1, 1)
    out.requires_grad_(True)
    parts = YoloLoss(num_boxes=B)(out, target)
    assert parts["no_object"].item() == pytest.approx(0.25, abs=1e-7)
    parts["no_object"].backward()
    conf_grad = out.grad[0, ..., [4, 9]]  # S x S x B
    assert conf_grad[0, 0].abs().sum() == 0  # object cell untouched
    assert conf_grad[1, 1, 1].item() == pytest.approx(1.0)  # d(0.5^2)/d = 2 * 0.5
    # The study's defective layout: a cell-major mask applied to box-major confidences.
    pred_boxes, _ = split_prediction(out.detach(), B)
    conf_box_major = pred_boxes[..., 4].permute(0, 3, 1, 2).reshape(1, -1)
    mask_cell_major = (target[..., 4] == 0)[..., None].expand(1, S, S, B).reshape(1, -1)
    defective = conf_box_major[mask_cell_major].square().sum().item()
    assert defective != pytest.approx(0.25)


def test_gradients_are_finite_even_at_zero_width():
    torch.manual_seed(0)
    logits = torch.randn(3, 7, 7, B * 5 + 3, requires_grad=True)
    out = torch.sigmoid(logits)
    targets = [
        {"boxes": torch.tensor([[10.0, 20.0, 100.0, 200.0], [0.0, 0.0, 224.0, 224.0]]), "labels": torch.tensor([1, 2])},
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)},
        {"boxes": torch.tensor([[50.0, 50.0, 51.0, 51.0]]), "labels": torch.tensor([0])},
    ]
    parts = YoloLoss(num_boxes=B)(out, encode_targets(targets, 7, 3, 224))
    parts["total"].backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    zero_wh = empty_output(0.0)
    zero_wh.requires_grad_(True)
    YoloLoss(num_boxes=B)(zero_wh, target_with_object(1, 1, [0.5, 0.5, 0.3, 0.3], 1))["total"].backward()
    assert torch.isfinite(zero_wh.grad).all()


def test_unknown_conf_target_is_refused():
    with pytest.raises(ValueError, match="conf_target"):
        YoloLoss(conf_target="half")
