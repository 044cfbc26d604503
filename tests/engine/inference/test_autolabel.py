"""engine.inference.autolabel: class mapping, proposals kept as raw outputs, duplicates, rejections, folder passes."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from engine.annotations.records import Box, ImageAnnotation
from engine.inference.autolabel import (ImageProposals, Proposal, ProposalStore, images_to_label, map_classes, raw_outputs,
                              without_duplicates)
from engine.model.boxes import decode_predictions

GRID, BOXES, CLASSES = 2, 2, 2


def network_output(detections) -> torch.Tensor:
    """A ``1 x 2 x 2 x 12`` output holding ``(cx, cy, w, h, conf, class)`` (fractions of the image), one per cell."""
    out = torch.zeros(1, GRID, GRID, BOXES * 5 + CLASSES)
    for cx, cy, w, h, conf, label in detections:
        col, row = int(cx * GRID), int(cy * GRID)
        out[0, row, col, :5] = torch.tensor([cx * GRID - col, cy * GRID - row, w, h, conf])
        out[0, row, col, BOXES * 5 + label] = 1.0
    return out


class CountingDecoder:
    def __init__(self):
        self.calls = 0

    def __call__(self, output, sizes, conf, iou):
        self.calls += 1
        return decode_predictions(output, sizes, conf, iou, num_boxes=BOXES)


def test_classes_are_mapped_by_name_and_missing_ones_added_or_dropped():
    drop = map_classes(["Cat", "dog", "bird"], ["dog", "cat"], missing="drop")
    assert drop.to_project == {0: "cat", 1: "dog"} and drop.missing == ["bird"]
    assert drop.project_name(2) is None
    assert "'Cat' -> project class 'cat'" in drop.describe() and "bird" in drop.describe()
    add = map_classes(["Cat", "dog", "bird"], ["dog", "cat"], missing="add")
    assert add.project_name(2) == "bird" and "added to the project" in add.describe()
    assert map_classes(["a", "b"], ["a", "b"]).identical
    with pytest.raises(ValueError, match="unknown policy"):
        map_classes(["a"], ["a"], missing="keep")


def test_thresholds_change_the_proposals_by_decoding_the_kept_output_again():
    decoder = CountingDecoder()
    output = network_output([(0.25, 0.25, 0.3, 0.3, 0.9, 0), (0.75, 0.75, 0.3, 0.3, 0.4, 1)])
    store = ProposalStore(conf_threshold=0.25, iou_threshold=0.5)
    ann = ImageAnnotation("a.jpg", 100, 80)
    store.put("a.jpg", ImageProposals(output, (100, 80), decoder, map_classes(["cat", "dog"], ["cat", "dog"])))
    shown = store.visible(ann)
    assert [p.box.label for p in shown] == ["cat", "dog"]
    assert shown[0].box.xyxy() == pytest.approx((10, 8, 40, 32), abs=1e-3)  # fractions -> this image's pixels
    assert shown[0].score == pytest.approx(0.9)
    store.visible(ann)
    assert decoder.calls == 1  # same thresholds: cached
    store.set_thresholds(0.5, 0.5)
    assert [p.box.label for p in store.visible(ann)] == ["cat"]
    assert decoder.calls == 2


def test_duplicates_of_labels_are_hidden_and_rejections_survive_new_thresholds():
    output = network_output([(0.25, 0.25, 0.3, 0.3, 0.9, 0), (0.75, 0.75, 0.3, 0.3, 0.8, 1)])
    store = ProposalStore()
    ann = ImageAnnotation("a.jpg", 100, 100, [Box("cat", 11, 11, 40, 40)])  # IoU ~0.93 with the cat proposal
    store.put(ann.image_path, ImageProposals(output, (100, 100), CountingDecoder(), map_classes(["cat", "dog"], ["cat", "dog"])))
    assert [p.box.label for p in store.visible(ann)] == ["dog"]
    ann.boxes[0].label = "dog"  # another class: no longer a duplicate
    assert [p.box.label for p in store.visible(ann)] == ["cat", "dog"]
    store.reject(ann, [p for p in store.visible(ann) if p.box.label == "dog"])
    store.set_thresholds(0.1, 0.6)
    assert [p.box.label for p in store.visible(ann)] == ["cat"]
    assert store.has_proposals(ann)
    store.discard(ann.image_path)
    assert not store.has_proposals(ann)


def test_duplicate_threshold_is_an_iou_above_0_7():
    proposals = [Proposal(Box("cat", 0, 0, 10, 10), 0.9)]
    assert without_duplicates(proposals, [Box("cat", 0, 0, 10, 7.5)]) == []  # IoU 0.75: hidden
    assert without_duplicates(proposals, [Box("cat", 0, 0, 10, 6.5)]) == proposals  # IoU 0.65: kept


def test_replacing_records_the_labels_it_replaces_by_identity():
    output = network_output([(0.25, 0.25, 0.3, 0.3, 0.9, 0)])
    old = Box("cat", 10, 10, 40, 40)
    ann = ImageAnnotation("a.jpg", 100, 100, [old])
    store = ProposalStore()
    store.put(ann.image_path, ImageProposals(output, (100, 100), CountingDecoder(), map_classes(["cat", "dog"], ["cat"]),
                                             replaced_boxes=[old]))
    assert len(store.visible(ann)) == 1  # the label it replaces hides nothing
    same_corners = old.copy()
    ann.boxes.append(same_corners)  # e.g. the accepted proposal: an equal but distinct record
    assert store.boxes_to_replace(ann) == [old] and store.boxes_to_replace(ann)[0] is old
    assert store.visible(ann) == []


def test_images_to_label_all_or_only_unlabelled():
    labelled, empty = ImageAnnotation("a.jpg", boxes=[Box("cat", 0, 0, 5, 5)]), ImageAnnotation("b.jpg")
    assert images_to_label([labelled, empty], only_unlabelled=True) == [empty]
    assert images_to_label([labelled, empty], only_unlabelled=False) == [labelled, empty]


class FakeDetector:
    def __init__(self):
        self.batches = []

    def preprocess(self, images):
        return torch.zeros(len(images), 3, 64, 64)

    def forward(self, batch):
        self.batches.append(len(batch))
        return torch.arange(len(batch), dtype=torch.float32).reshape(-1, 1, 1, 1).expand(-1, GRID, GRID, 12).clone()


def test_raw_outputs_in_batches_in_order_with_unreadable_images_reported(tmp_path):
    paths = []
    for i in range(5):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(np.zeros((30 + i, 40, 3), np.uint8)).save(path)
        paths.append(path)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    paths.insert(2, tmp_path / "broken.jpg")
    detector = FakeDetector()
    results = list(raw_outputs(detector, paths, batch_size=2))
    assert [r.path for r in results] == paths
    assert results[2].output is None and "broken.jpg" in results[2].error
    assert [r.size for r in results if r.output is not None] == [(40, 30), (40, 31), (40, 32), (40, 33), (40, 34)]
    assert detector.batches == [2, 2, 1]
    assert all(r.output.shape == (1, GRID, GRID, 12) for r in results if r.output is not None)
    stopped = list(raw_outputs(FakeDetector(), paths, batch_size=2, should_stop=lambda: True))
    assert stopped == []
