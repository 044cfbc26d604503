"""What an evaluation is made of, without Qt: which checkpoints a project offers, which images a checkpoint is
judged on, the detection step, and the scores (VOC07 and COCO AP, error analysis) of one detection pass.

The detection step is :func:`run_detection`; the scores are recomputed from its output whenever the score
threshold or the labels change, without running the model again.
"""
from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.evaluation.analysis import DEFAULT_SCORE_THRESHOLD, ErrorAnalysis, analyse_detections
from engine.annotations.records import ImageAnnotation, LabelSet
from engine.evaluation import EvalResult, evaluate
from engine.io.images import ImageReadError
from engine.training.runs import list_runs, read_run

AP_CONF_THRESHOLD = 0.01  # detections kept for AP (the whole precision-recall curve), as in training's validation


@dataclass
class CheckpointChoice:
    label: str
    path: Path


def checkpoint_choices(project_folder: Path | str) -> list[CheckpointChoice]:
    """The project's run checkpoints, newest run first, best before last."""
    choices = []
    for run in list_runs(project_folder):
        score = run.best_map50()
        suffix = f" (mAP@0.5 {score:.3f})" if score is not None else ""
        for kind, path in (("best", run.best_checkpoint), ("last", run.last_checkpoint)):
            if path is not None:
                choices.append(CheckpointChoice(f"{run.name} — {kind}{suffix if kind == 'best' else ''}", path))
    return choices


def evaluation_images(project, checkpoint: Path) -> tuple[list[ImageAnnotation], str]:
    """The project annotations to judge ``checkpoint`` on, and a sentence saying which they are.

    A checkpoint inside a run folder whose ``config.json`` lists validation images is judged on exactly those
    (with the labels as they are now in the project); any other checkpoint on the project's labelled images."""
    by_path = {Path(ann.image_path).resolve(): ann for ann in project.annotations}
    run = read_run(Path(checkpoint).parent)
    listed = run.image_paths("val", project.folder)
    if listed:
        chosen = [by_path[p.resolve()] for p in listed if p.resolve() in by_path]
        gone = len(listed) - len(chosen)
        note = f"the {len(chosen)} validation images of run {run.name}"
        if gone:
            note += f" ({gone} listed by the run are no longer in the project)"
        return chosen, note
    chosen = [ann for ann in project.annotations if ann.boxes or ann.verified]
    why = "the checkpoint is not from one of this project's runs" if not run.config else \
        f"run {run.name} does not list its validation images"
    return chosen, f"all {len(chosen)} labelled images of the project, as {why} (images it was trained on score too well)"


def run_detection(checkpoint: Path, paths: Sequence[Path], progress: Callable[[int, int], None],
                  cancelled: Callable[[], bool]) -> tuple[list[str], list]:
    """(class names of the model, per path its ``Detections`` or the ``ImageReadError`` that stopped it).
    Stops early (a shorter list) when ``cancelled()`` turns true."""
    from engine.inference.loading import load_detector

    detector = load_detector(checkpoint, conf_threshold=AP_CONF_THRESHOLD)
    results = []
    for path, detections in detector.detect_files(paths, batch_size=4):
        results.append(detections)
        progress(len(results), len(paths))
        if cancelled():
            break
    return detector.class_names, results


@dataclass
class Evaluation:
    """Scores of one detection pass. ``images[i]`` (the project's own annotation objects, so edits made in the
    labelling view count when re-scored) goes with ``detections[i]``."""

    checkpoint: Path
    images: list[ImageAnnotation]
    labels: LabelSet
    detections: list
    voc07: EvalResult | None = None
    coco: EvalResult | None = None
    analysis: ErrorAnalysis | None = None
    notes: list[str] = field(default_factory=list)  # what was chosen or left out, for the user to read
    scored_ground_truth: list[ImageAnnotation] = field(default_factory=list)


def collect(checkpoint: Path, images: Sequence[ImageAnnotation], class_names: list[str], results: list,
            notes: list[str]) -> Evaluation:
    """Drop the images that could not be read (saying which) and keep the rest with their detections."""
    kept, detections, unreadable = [], [], []
    for ann, result in zip(images, results):
        if isinstance(result, ImageReadError):
            unreadable.append(f"{Path(ann.image_path).name}: {result}")
        else:
            kept.append(ann)
            detections.append(result)
    notes = list(notes)
    if unreadable:
        notes.append(f"{len(unreadable)} unreadable image(s) left out: " + "; ".join(unreadable[:3]))
    return Evaluation(Path(checkpoint), kept, LabelSet(list(class_names)), detections, notes=notes)


def score(evaluation: Evaluation, score_threshold: float = DEFAULT_SCORE_THRESHOLD) -> Evaluation:
    """Fill the AP results and the error analysis from the images' current labels. Boxes of classes the model
    does not know are left out (and counted in a note): the model cannot be asked to find them."""
    known = set(evaluation.labels.names)
    ground_truth, unknown = [], {}
    for ann in evaluation.images:
        boxes = [b for b in ann.boxes if b.label in known]
        for b in ann.boxes:
            if b.label not in known:
                unknown[b.label] = unknown.get(b.label, 0) + 1
        ground_truth.append(ImageAnnotation(ann.image_path, ann.width, ann.height, boxes, ann.verified))
    evaluation.notes = [n for n in evaluation.notes if not n.startswith("boxes of classes the model")]
    if unknown:
        listed = ", ".join(f"{name} ({count})" for name, count in sorted(unknown.items()))
        evaluation.notes.append(f"boxes of classes the model was not trained on, left out: {listed}")
    ids = list(range(len(ground_truth)))
    dets = dict(enumerate(evaluation.detections))
    evaluation.voc07 = evaluate(ground_truth, dets, evaluation.labels, metric="voc07", image_ids=ids)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its own tables
        evaluation.coco = evaluate(ground_truth, dets, evaluation.labels, metric="coco", image_ids=ids)
    evaluation.analysis = analyse_detections(ground_truth, dets, evaluation.labels, score_threshold)
    evaluation.scored_ground_truth = ground_truth
    return evaluation
