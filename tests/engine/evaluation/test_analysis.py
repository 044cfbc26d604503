"""Error analysis on hand-made cases: exact matches, confusion matrices and image lists."""
from pathlib import Path

import numpy as np
import pytest

from engine.evaluation.analysis import analyse_detections, match_image
from engine.annotations.records import Box, ImageAnnotation, LabelSet

LABELS = LabelSet(["cat", "dog"])
CAT, DOG, BG = 0, 1, 2


def image(name, *boxes):
    return ImageAnnotation(Path(f"/data/{name}.jpg"), 100, 100, list(boxes))


def dets(*rows):
    """rows of (x1, y1, x2, y2, score, class id)."""
    array = np.array(rows, dtype=np.float64).reshape(-1, 6)
    return array[:, :4], array[:, 4], array[:, 5].astype(np.int64)


def test_one_image_of_each_outcome_gives_the_exact_matrix_and_cells():
    gt = [
        image("tp", Box("cat", 0, 0, 50, 50)),
        image("wrong", Box("cat", 0, 0, 50, 50)),
        image("fp"),
        image("miss", Box("dog", 10, 10, 40, 40)),
        image("mixed", Box("dog", 0, 0, 50, 50), Box("dog", 60, 60, 90, 90)),
    ]
    detections = {
        0: dets((1, 1, 50, 50, 0.9, CAT)),
        1: dets((0, 0, 49, 50, 0.8, DOG)),
        2: dets((10, 10, 30, 30, 0.7, CAT)),
        4: dets((0, 0, 50, 50, 0.95, DOG), (60, 60, 90, 90, 0.6, CAT), (0, 0, 50, 50, 0.5, DOG)),
    }
    analysis = analyse_detections(gt, detections, LABELS)
    # rows: gt cat, gt dog, background; columns: predicted cat, dog, background
    assert analysis.matrix.tolist() == [[1, 1, 0],
                                        [1, 1, 1],
                                        [1, 1, 0]]
    assert analysis.images_for_cell(CAT, CAT) == [0]
    assert analysis.images_for_cell(CAT, DOG) == [1]
    assert analysis.images_for_cell(BG, CAT) == [2]
    assert analysis.images_for_cell(DOG, BG) == [3]
    assert analysis.images_for_cell(DOG, CAT) == [4]
    assert analysis.images_for_cell(BG, DOG) == [4]  # the duplicate of a found dog
    assert analysis.images_for_cell(BG, BG) == []
    mixed = analysis.images[4]
    assert mixed.true_positives == [(0, 0)] and mixed.wrong_class == [(1, 1)] and mixed.false_positives == [2]
    assert analysis.images_for_class(CAT) == [0, 1, 2, 4]
    assert analysis.class_counts(DOG) == {"tp": 1, "fp": 2, "fn": 2, "detections": 3}


def test_detections_under_the_score_threshold_are_not_judged():
    gt = [image("a", Box("cat", 0, 0, 50, 50))]
    analysis = analyse_detections(gt, {0: dets((0, 0, 50, 50, 0.2, CAT), (60, 60, 80, 80, 0.1, DOG))}, LABELS)
    assert analysis.matrix.tolist() == [[0, 0, 1], [0, 0, 0], [0, 0, 0]]
    assert analysis.images[0].below_threshold == [0, 1]
    lowered = analyse_detections(gt, {0: dets((0, 0, 50, 50, 0.2, CAT))}, LABELS, score_threshold=0.1)
    assert lowered.matrix.tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_greedy_by_score_the_best_detection_takes_the_box():
    # Two cats on one box: the higher score is the true positive whatever the order given.
    result = match_image(np.array([[0, 0, 50, 50.]]), np.array([CAT]), np.array([False]),
                         np.array([[0, 0, 40, 50.], [0, 0, 50, 50.]]), np.array([0.4, 0.9]), np.array([CAT, CAT]))
    assert result.true_positives == [(0, 1)] and result.false_positives == [0]


def test_iou_below_half_is_a_false_positive_and_a_miss():
    # IoU of (0,0,50,50) and (25,0,75,50) = 1250 / 3750 = 1/3.
    analysis = analyse_detections([image("a", Box("cat", 0, 0, 50, 50))], {0: dets((25, 0, 75, 50, 0.9, CAT))}, LABELS)
    assert analysis.matrix.tolist() == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]


def test_difficult_boxes_are_neither_counted_nor_penalised():
    gt = [image("a", Box("cat", 0, 0, 50, 50, difficult=True), Box("dog", 60, 60, 90, 90, difficult=True))]
    found = analyse_detections(gt, {0: dets((0, 0, 50, 50, 0.9, CAT), (60, 60, 90, 90, 0.8, CAT))}, LABELS)
    assert found.matrix.sum() == 0
    assert found.images[0].ignored == [0, 1] and found.images[0].disagreement == 0
    missed = analyse_detections(gt, {}, LABELS)
    assert missed.matrix.sum() == 0 and missed.images[0].misses == []


def test_ranking_worst_first_ties_broken_by_confidence_of_the_mistakes():
    gt = [image("clean", Box("cat", 0, 0, 50, 50)), image("unsure"), image("sure"),
          image("two", Box("dog", 0, 0, 50, 50))]
    detections = {0: dets((0, 0, 50, 50, 0.9, CAT)), 1: dets((0, 0, 10, 10, 0.3, CAT)),
                  2: dets((0, 0, 10, 10, 0.9, DOG)), 3: dets((60, 60, 70, 70, 0.3, DOG))}
    analysis = analyse_detections(gt, detections, LABELS)
    assert [analysis.images[i].disagreement for i in range(4)] == [0, 1, 1, 2]
    assert analysis.ranked() == [3, 2, 1, 0]
    assert analysis.ranked([0, 1]) == [1, 0]


def test_detections_as_a_list_and_as_torch_tensors():
    import torch

    from engine.model.boxes import Detections

    det = Detections(torch.tensor([[0., 0, 50, 50]]), torch.tensor([0.9]), torch.tensor([DOG]))
    analysis = analyse_detections([image("a", Box("dog", 0, 0, 50, 50))], [det], LABELS)
    assert analysis.matrix[DOG, DOG] == 1


def test_bad_input_names_the_image():
    with pytest.raises(ValueError, match="horse"):
        analyse_detections([image("a", Box("horse", 0, 0, 5, 5))], {}, LABELS)
    with pytest.raises(ValueError, match="class ids must be in 0..1"):
        analyse_detections([image("a")], {0: dets((0, 0, 5, 5, 0.9, 7))}, LABELS)


def test_the_matrix_and_the_ap_use_one_rule_for_a_borderline_box():
    """IoU 0.517 with the devkit's +1-pixel sizes (a true positive for the AP) is 0.495 with plain sizes: the
    confusion matrix once called it a false positive and a miss while the AP table counted it found."""
    from engine.evaluation import ImageDetections, evaluate

    gt = [ImageAnnotation(Path("a.jpg"), 64, 64, [Box("cat", 10, 10, 30, 30)])]
    labels = LabelSet(["cat"])
    dets = {0: ImageDetections(np.array([[10.0, 10.0, 21.0, 28.0]]), np.array([0.9]), np.array([0]))}
    assert evaluate(gt, dets, labels, image_ids=[0]).per_class["cat"] == pytest.approx(1.0)
    analysis = analyse_detections(gt, dets, labels)
    assert analysis.class_counts(0) == {"tp": 1, "fp": 0, "fn": 0, "detections": 1}


def test_class_counts_say_how_many_detections_the_threshold_judged():
    """16 detections under the threshold: TP 0 and FP 0, and ``detections`` 0 says why (AP still sees all 16)."""
    gt = [image("a", Box("cat", 0, 0, 50, 50)), image("b", Box("dog", 0, 0, 50, 50))]
    low = [(i, i, 40 + i, 40 + i, 0.1, CAT) for i in range(8)]
    detections = {0: dets(*low), 1: dets(*low, (0, 0, 50, 50, 0.9, DOG), (0, 0, 50, 50, 0.3, CAT))}
    counts = analyse_detections(gt, detections, LABELS).class_counts(CAT)
    assert counts == {"tp": 0, "fp": 1, "fn": 1, "detections": 1}  # the 0.3 cat on the dog: judged, wrong class
    assert analyse_detections(gt, detections, LABELS, 0.05).class_counts(CAT)["detections"] == 17
    assert analyse_detections(gt, detections, LABELS).class_counts(DOG) == {"tp": 1, "fp": 0, "fn": 0, "detections": 1}
