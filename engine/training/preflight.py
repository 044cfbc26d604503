"""The app's data source: which of the open project's images a run trains and validates on, and what must be
fixed before it can start. Qt-free; used by the run planner (:mod:`engine.training.plan`), as the command line's
folders and lists are read by :func:`engine.training.setup.load_training_data`.

The training data is the open project's labelled images (the labels in memory, saved first by the caller),
optionally only the verified ones. Validation is a seeded share of them, a separate labelled folder, or none.
Every refusal is a :class:`PreflightError` (a :class:`SetupError`) whose message says what is wrong and what to
do about it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from engine.annotations.records import ImageAnnotation
from engine.data.split import split_train_val
from engine.training.setup import SetupError, load_training_data

VAL_SPLIT, VAL_FOLDER, VAL_NONE = "split", "folder", "none"
NO_PROJECT = "Open a folder of labelled images first (File > Open Folder)."


class PreflightError(SetupError):
    """The run cannot start as set up; the message says why, in the user's terms."""


@dataclass
class DataChoice:
    verified_only: bool = False
    val_mode: str = VAL_SPLIT
    val_fraction: float = 0.2
    split_seed: int = 0
    val_folder: Path | None = None


@dataclass
class PlannedData:
    train: list[ImageAnnotation]  # copies: the labelling window may go on editing the originals
    val: list[ImageAnnotation]
    class_names: list[str]


def labelled_images(project, verified_only: bool = False) -> list[ImageAnnotation]:
    """Images with boxes, or with a label file saying there are none; not those whose label file is unreadable
    (training on them as empty pictures would teach the model to miss their objects)."""
    chosen = []
    for ann in project.annotations:
        if Path(ann.image_path) in project.errors or (verified_only and not ann.verified):
            continue
        if ann.boxes or ann.verified or project.label_path(ann).is_file():
            chosen.append(ann)
    return chosen


def plan_data(project, choice: DataChoice, class_names: list[str] | None = None) -> PlannedData:
    """The project's images for a run, split as ``choice`` says; ``class_names`` fixes the class list (a resumed
    run's), otherwise it is the project's."""
    if project is None:
        raise PreflightError(NO_PROJECT)
    labelled = labelled_images(project, choice.verified_only)
    if not [a for a in labelled if a.boxes]:
        which = "verified labelled images" if choice.verified_only else "labelled images"
        hint = " Mark images verified (Space) or untick “Only verified images”." if choice.verified_only else \
            " Draw boxes on some images first."
        raise PreflightError(f"No {which} with boxes in {project.folder}.{hint}")
    class_names = list(project.labels.names if class_names is None else class_names)
    if choice.val_mode == VAL_SPLIT and choice.val_fraction > 0:
        if len(labelled) < 2:
            raise PreflightError(
                f"Only {len(labelled)} labelled image: too few to split off validation images. Label more images, "
                "set the validation share to 0 %, or choose a separate validation folder.")
        train, val = split_train_val(labelled, choice.val_fraction, choice.split_seed)
    else:
        train, val = list(labelled), []
    if choice.val_mode == VAL_FOLDER:
        val = _validation_folder(choice.val_folder, class_names)
    _check_every_class_has_boxes(train, class_names)
    return PlannedData(copy.deepcopy(train), copy.deepcopy(val), class_names)


def _check_every_class_has_boxes(train: list[ImageAnnotation], class_names: list[str]) -> None:
    counts = dict.fromkeys(class_names, 0)
    for ann in train:
        for box in ann.boxes:
            if box.label in counts and not box.difficult:
                counts[box.label] += 1
    empty = [name for name, count in counts.items() if count == 0]
    if empty:
        names = ", ".join(f"“{n}”" for n in empty)
        raise PreflightError(
            f"{'Class' if len(empty) == 1 else 'Classes'} {names} {'has' if len(empty) == 1 else 'have'} no boxes in "
            "the training images, so the model cannot learn to find "
            f"{'it' if len(empty) == 1 else 'them'}. Label some, or delete or merge the class in the Classes panel.")


def _validation_folder(folder: Path | None, class_names: list[str]) -> list[ImageAnnotation]:
    if folder is None or not str(folder).strip():
        raise PreflightError("Choose the folder of labelled validation images (or another validation setting).")
    try:
        data = load_training_data(Path(folder), val_fraction=0.0)
    except SetupError as error:
        raise PreflightError(f"Validation folder: {error}") from None
    unknown = sorted({b.label for a in data.train for b in a.boxes} - set(class_names))
    if unknown:
        raise PreflightError(f"The validation folder {folder} uses classes the project does not have: "
                             f"{', '.join(unknown)}. Rename them there or add them to the project.")
    return data.train

