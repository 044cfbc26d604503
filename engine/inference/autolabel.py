"""Detector proposals for labelling: class mapping, kept raw outputs, duplicate hiding. Qt-free.

A proposal is a detection offered as a label: it lives in memory (a :class:`ProposalStore`) until a person
accepts it, and only then becomes a :class:`Box` of the image's annotation. The store keeps each image's raw
network output, so new confidence / NMS thresholds are applied by decoding again, never by running the network.

Choices (see also the README):

- Classes are mapped **by name**: exactly, else ignoring case and surrounding spaces. A model class the project
  lacks is either added to the project (``missing="add"``) or its detections are dropped (``missing="drop"``);
  the app asks which when a model is chosen.
- A proposal of the same class as an existing label with IoU > :data:`DUPLICATE_IOU` (0.7) is a duplicate and
  hidden: it would add nothing. This also hides an accepted proposal (it *is* the label now), and brings it back
  when that label is undone or deleted.
- A rejected proposal stays rejected for its image whatever the thresholds (kept by class and corners); rejecting
  is not undoable (nothing the user made is touched).
- Replacing: auto-labelling asked to replace labels (an explicit choice) records the image's boxes at that time
  (``replaced_boxes``). Those boxes hide no proposal, and accepting all proposals deletes those still there (one
  undoable step with the additions). Otherwise existing labels are never replaced.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.annotations.records import Box, ImageAnnotation
from engine.io.images import ImageReadError, read_image

if TYPE_CHECKING:  # torch is imported where tensors are made: the labelling canvas holds a store without it
    import torch

    from engine.model.boxes import Detections

DUPLICATE_IOU = 0.7
MISSING_CLASS_POLICIES = ("add", "drop")
# decode(output, image sizes, conf, iou) -> Detections per image
Decoder = Callable[["torch.Tensor", list[tuple[int, int]], float, float], list["Detections"]]


# ----------------------------------------------------------------------------------------------- classes
@dataclass
class ClassMapping:
    """How a model's class ids become the project's class names."""

    model_names: list[str]
    project_names: list[str]
    to_project: dict[int, str]  # model class id -> project class name (missing classes only with "add")
    missing: list[str]  # model classes the project lacks
    policy: str  # "add" or "drop"

    @property
    def identical(self) -> bool:
        return self.model_names == self.project_names

    def project_name(self, model_class: int) -> str | None:
        """The project class of a detection, or None when it is dropped."""
        return self.to_project.get(int(model_class))

    def describe(self) -> str:
        """One paragraph for the user: what maps to what and what happens to the rest."""
        if self.identical:
            return "The model's classes are the project's."
        lines = []
        renamed = [(n, self.to_project[i]) for i, n in enumerate(self.model_names)
                   if i in self.to_project and self.to_project[i] != n and n not in self.missing]
        lines += [f"model class {a!r} -> project class {b!r}" for a, b in renamed]
        if self.missing:
            verb = "added to the project" if self.policy == "add" else "dropped (their detections are ignored)"
            lines.append(f"classes the project lacks, {verb}: {', '.join(self.missing)}")
        unused = [n for n in self.project_names if n not in self.to_project.values()]
        if unused:
            lines.append(f"project classes the model does not detect: {', '.join(unused)}")
        return "; ".join(lines) if lines else "Same classes in another order: mapped by name."


def map_classes(model_names: Sequence[str], project_names: Sequence[str], missing: str = "drop") -> ClassMapping:
    """Map model classes to project classes by name (exact, else case- and space-insensitive)."""
    if missing not in MISSING_CLASS_POLICIES:
        raise ValueError(f"unknown policy for missing classes {missing!r}; use one of {', '.join(MISSING_CLASS_POLICIES)}")
    folded = {}
    for name in project_names:
        folded.setdefault(name.strip().casefold(), name)
    to_project, lacking = {}, []
    for index, name in enumerate(model_names):
        target = name if name in project_names else folded.get(name.strip().casefold())
        if target is None:
            lacking.append(name)
            if missing == "add":
                to_project[index] = name
        else:
            to_project[index] = target
    return ClassMapping(list(model_names), list(project_names), to_project, lacking, missing)


# ----------------------------------------------------------------------------------------------- proposals
@dataclass
class Proposal:
    box: Box  # label = project class name, corners in image pixels
    score: float

    def key(self) -> tuple:
        """Identity across re-decoding: the same raw output gives the same corners."""
        return (self.box.label, *(round(v, 2) for v in self.box.xyxy()))


def proposals_from_detections(detections: Detections, mapping: ClassMapping) -> list[Proposal]:
    proposals = []
    for corners, score, label in zip(detections.boxes.tolist(), detections.scores.tolist(), detections.labels.tolist()):
        name = mapping.project_name(label)
        if name is not None:
            proposals.append(Proposal(Box(name, *map(float, corners)), float(score)))
    return proposals


def without_duplicates(proposals: list[Proposal], boxes: Sequence[Box], iou: float = DUPLICATE_IOU) -> list[Proposal]:
    """``proposals`` minus those of the same class as one of ``boxes`` with IoU above ``iou``."""
    if not proposals or not boxes:
        return list(proposals)
    import torch
    from torchvision.ops import box_iou

    overlap = box_iou(torch.tensor([p.box.xyxy() for p in proposals], dtype=torch.float64),
                      torch.tensor([b.xyxy() for b in boxes], dtype=torch.float64))
    same_class = torch.tensor([[p.box.label == b.label for b in boxes] for p in proposals])
    duplicate = ((overlap > iou) & same_class).any(1).tolist()
    return [p for p, dup in zip(proposals, duplicate) if not dup]


@dataclass
class ImageProposals:
    """One image's raw network output (``1 x S x S x (B*5+C)``, CPU) and what the user decided about it."""

    output: torch.Tensor
    size: tuple[int, int]  # (width, height) of the image
    decode: Decoder
    mapping: ClassMapping
    replaced_boxes: list[Box] | None = None  # the labels an "accept all" replaces; None: add to the labels
    rejected: set = field(default_factory=set)
    _cache: tuple | None = None  # ((conf, iou), proposals)

    def decoded(self, conf: float, iou: float) -> list[Proposal]:
        if self._cache is None or self._cache[0] != (conf, iou):
            detections = self.decode(self.output, [self.size], conf, iou)[0].to("cpu")
            self._cache = ((conf, iou), proposals_from_detections(detections, self.mapping))
        return [p for p in self._cache[1] if p.key() not in self.rejected]


class ProposalStore:
    """Proposals per image (by path), in memory only, under the current confidence and NMS thresholds."""

    def __init__(self, conf_threshold: float = 0.25, iou_threshold: float = 0.5):
        self.conf_threshold, self.iou_threshold = conf_threshold, iou_threshold
        self._images: dict[Path, ImageProposals] = {}

    def set_thresholds(self, conf_threshold: float, iou_threshold: float) -> None:
        self.conf_threshold, self.iou_threshold = float(conf_threshold), float(iou_threshold)

    def put(self, image_path: Path | str, entry: ImageProposals) -> None:
        self._images[Path(image_path)] = entry

    def entry(self, image_path: Path | str) -> ImageProposals | None:
        return self._images.get(Path(image_path))

    def paths(self) -> list[Path]:
        return list(self._images)

    def visible(self, ann: ImageAnnotation) -> list[Proposal]:
        """What to show on ``ann``'s image: decoded at the thresholds, not rejected, duplicates of labels hidden."""
        entry = self._images.get(Path(ann.image_path))
        if entry is None:
            return []
        replaced = {id(b) for b in self.boxes_to_replace(ann)}  # by identity: equal boxes may be distinct labels
        return without_duplicates(entry.decoded(self.conf_threshold, self.iou_threshold),
                                  [b for b in ann.boxes if id(b) not in replaced])

    def has_proposals(self, ann: ImageAnnotation) -> bool:
        return bool(self.visible(ann))

    def boxes_to_replace(self, ann: ImageAnnotation) -> list[Box]:
        """The labels of ``ann`` that accepting all its proposals deletes (empty unless replacing was asked)."""
        entry = self._images.get(Path(ann.image_path))
        if entry is None or not entry.replaced_boxes:
            return []
        return [b for b in ann.boxes if any(b is old for old in entry.replaced_boxes)]

    def reject(self, ann: ImageAnnotation, proposals: Iterable[Proposal]) -> None:
        entry = self._images.get(Path(ann.image_path))
        if entry is not None:
            entry.rejected.update(p.key() for p in proposals)

    def discard(self, image_path: Path | str) -> None:
        self._images.pop(Path(image_path), None)

    def clear(self) -> None:
        self._images.clear()


# ----------------------------------------------------------------------------------------------- folders
def images_to_label(annotations: Iterable[ImageAnnotation], only_unlabelled: bool) -> list[ImageAnnotation]:
    """The images an auto-labelling pass covers: all, or those without any box."""
    return [a for a in annotations if not (only_unlabelled and a.boxes)]


@dataclass
class RawResult:
    path: Path
    output: torch.Tensor | None  # 1 x S x S x (B*5+C) on the CPU; None when the image could not be read
    size: tuple[int, int]
    error: str | None = None


def raw_outputs(detector, paths: Iterable[Path | str], batch_size: int = 4,
                should_stop: Callable[[], bool] = lambda: False) -> Iterator[RawResult]:
    """Run ``detector``'s network on image files in batches; yield each image's raw output, in order.

    An unreadable image yields a result with its error (and no output); ``should_stop`` is asked between batches.
    """
    pending: list[tuple[Path, object]] = []

    def flush():
        if not pending:
            return []
        arrays = [im for _, im in pending]
        output = detector.forward(detector.preprocess(arrays)).to("cpu")
        results = [RawResult(p, output[i:i + 1].clone(), (im.shape[1], im.shape[0])) for i, (p, im) in enumerate(pending)]
        pending.clear()
        return results

    for path in paths:
        if should_stop():
            return
        path = Path(path)
        try:
            pending.append((path, read_image(path)))
        except ImageReadError as exc:
            yield from flush()
            yield RawResult(path, None, (0, 0), str(exc))
            continue
        if len(pending) >= batch_size:
            yield from flush()
    if not should_stop():
        yield from flush()
