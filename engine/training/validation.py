"""Validation during training: detections on the validation images, in each image's own pixels, scored with
VOC2007 mAP@0.5 and COCO mAP@[.5:.95] (the same evaluators as `resyolo eval`)."""
from __future__ import annotations


import torch

from engine.model.heads import decode_output
from engine.data.dataset import DetectionDataset, make_dataloader
from engine.evaluation import evaluate
from engine.io.images import ImageReadError, read_image_size


def original_sizes(dataset: DetectionDataset) -> list[tuple[int, int]]:
    sizes = []
    for ann in dataset.annotations:
        if ann.width and ann.height:
            sizes.append((ann.width, ann.height))
            continue
        try:
            sizes.append(read_image_size(ann.image_path))
        except ImageReadError:
            sizes.append((dataset.image_size, dataset.image_size))
    return sizes


@torch.no_grad()
def predict_dataset(model: torch.nn.Module, dataset: DetectionDataset, device: torch.device, batch_size: int,
                    conf_threshold: float = 0.01, sizes: list[tuple[int, int]] | None = None) -> dict[int, object]:
    """Detections per dataset index, boxes in original image pixels (numpy arrays)."""
    was_training = model.training
    model.eval()
    sizes = sizes or original_sizes(dataset)
    loader = make_dataloader(dataset, batch_size=batch_size, shuffle=False, workers=0)
    detections, index = {}, 0
    try:
        for images, _ in loader:
            output = model(images.to(device, memory_format=torch.channels_last)).float()
            batch_sizes = sizes[index:index + len(images)]
            for det in decode_output(model.config, output, batch_sizes, conf_threshold=conf_threshold):
                detections[index] = det.to("cpu")
                index += 1
    finally:
        model.train(was_training)
    return detections


def score_detections(dataset: DetectionDataset, detections: dict[int, object]) -> dict[str, float]:
    """``map50`` (VOC2007 11-point, IoU > 0.5), ``map`` (COCO mAP@[.5:.95]), ``ap50_coco`` and ``ap75``."""
    ids = list(range(len(dataset.annotations)))
    voc = evaluate(dataset.annotations, detections, dataset.labels, metric="voc07", image_ids=ids)
    coco = evaluate(dataset.annotations, detections, dataset.labels, metric="coco", image_ids=ids)
    return {"map50": _number(voc.mAP), "map": _number(coco.mAP),
            "ap50_coco": _number(coco.extra.get("AP50", float("nan"))), "ap75": _number(coco.extra.get("AP75", float("nan")))}


def _number(value: float) -> float:
    # A validation set without any ground truth box has an undefined mAP: report 0 so charts stay plottable.
    return 0.0 if value != value else float(value)


def evaluate_model(model, dataset, device, batch_size, conf_threshold=0.01, sizes=None) -> dict[str, float]:
    return score_detections(dataset, predict_dataset(model, dataset, device, batch_size, conf_threshold, sizes))
