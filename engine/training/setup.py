"""The parts a training run is made of, for the run planner (:mod:`engine.training.plan`), which ``resyolo train``
and the app share: the annotations (a folder or a list file of images), the train/validation split, the class
list, the datasets, the model with its starting weights, the training settings, and reading a run folder.

Problems the user must fix raise :class:`SetupError` with a message naming the file and the problem. Label files
that cannot be read do not stop a run while some labelled images remain: they are listed in
``TrainingData.problems`` for the caller to show.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.annotations.folder import load_folder
from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet
from engine.annotations.splits import train_val_pair
from engine.annotations.folder import dataset_root
from engine.model.config import DEFAULT_HEAD, ModelConfig
from engine.data.split import DatasetError, read_list_file, select_listed, split_train_val
from engine.training.config import DEFAULT_PRESET, TrainConfig

if TYPE_CHECKING:
    from engine.data.dataset import DetectionDataset

RUN_FILES = ("config.json", "results.csv", "last.pt", "best.pt")  # their presence marks a folder as a run
RUN_CONFIG = "config.json"


class SetupError(ValueError):
    """An input that cannot be trained on as given; the message says which and why."""


@dataclass
class TrainingData:
    train: list[ImageAnnotation]
    val: list[ImageAnnotation]
    labels: LabelSet
    problems: list[AnnotationError] = field(default_factory=list)  # unreadable label files, left out
    unlabelled: int = 0  # images without any label file, left out


@dataclass
class _Source:
    annotations: list[ImageAnnotation]  # labelled images only
    labels: LabelSet
    problems: list[AnnotationError]
    unlabelled: int
    splits: dict[str, list[ImageAnnotation]] = field(default_factory=dict)  # the dataset's own, labelled only


def load_training_data(data: Path | str, val: Path | str | None = None, val_fraction: float = 0.2,
                       split_seed: int = 0, class_names: list[str] | None = None, split: str | None = None,
                       val_split: str | None = None) -> TrainingData:
    """The labelled images of ``data`` (a folder, an Ultralytics ``data.yaml`` or a ``.txt`` list of image paths),
    split for validation.

    With ``val`` the validation images come from there and ``val_fraction`` is ignored. A dataset with its own
    splits (``data.yaml``, a VOC devkit's ``ImageSets/Main``) trains on ``split`` and validates on ``val_split``
    (default: its train and val splits; never pooled and split again). Otherwise a seeded ``val_fraction`` of
    ``data`` validates (0: no validation). ``class_names`` fixes the class list (resuming a run); otherwise it is
    the training source's. Validation boxes of another class are refused by :func:`build_datasets` (most often a
    typo such as ``Cat`` for ``cat``).
    """
    source = _load_source(Path(data))
    problems, unlabelled = list(source.problems), source.unlabelled
    own = _own_splits(source, data, split, val_split) if val is None else None
    if val is not None:
        val_source = _load_source(Path(val))
        train = _named_split(source, data, split) if split else source.annotations
        validation = _named_split(val_source, val, val_split) if val_split else val_source.annotations
        problems += val_source.problems
        unlabelled += val_source.unlabelled
    elif own is not None:
        train, validation = own
    else:
        if not 0.0 <= val_fraction < 1.0:
            raise SetupError(f"--val-fraction must be at least 0 and below 1, got {val_fraction:g}")
        train, validation = split_train_val(source.annotations, val_fraction, split_seed)
    if class_names is not None:
        names = list(class_names)
    else:
        names = list(source.labels.names)
        names += sorted({box.label for ann in train for box in ann.boxes} - set(names))
    if not names:
        raise SetupError(f"{data}: the labelled images hold no boxes and no class list was found; "
                         "label some objects first")
    return TrainingData(train, validation, LabelSet(names), problems, unlabelled)


def _own_splits(source: _Source, data, split: str | None, val_split: str | None):
    """(train, val) from the dataset's own splits, or None when it has none and none is named."""
    if split or val_split:
        train = _named_split(source, data, split) if split else source.annotations
        if val_split:
            return train, _named_split(source, data, val_split)
        return train, []
    pair = train_val_pair(source.splits)  # Ultralytics' train/val, Roboflow's valid, COCO's train2017/val2017
    if pair is None:
        return None
    return source.splits[pair[0]], source.splits[pair[1]]


def _devkit_split_file(path: Path) -> tuple[Path, str] | None:
    """(the VOC20xx folder, the split) for a devkit's ``ImageSets/Main/<split>.txt``, else None."""
    from engine.annotations.vocdevkit import is_year_folder

    path = Path(os.path.abspath(path))
    if path.suffix != ".txt" or path.parent.name != "Main" or path.parent.parent.name != "ImageSets":
        return None
    year = path.parent.parent.parent
    return (year, path.stem) if is_year_folder(year) else None


def _named_split(source: _Source, data, name: str) -> list[ImageAnnotation]:
    if name not in source.splits:
        known = ", ".join(sorted(source.splits)) or "none: the dataset defines no splits"
        raise SetupError(f"{data}: no split {name!r} (its splits: {known})")
    return source.splits[name]


def _load_source(path: Path) -> _Source:
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):  # an Ultralytics data.yaml: its dataset
        path = path.parent
    devkit_split = _devkit_split_file(path)
    if devkit_split is not None:  # VOC20xx/ImageSets/Main/trainval.txt lists image ids, not paths
        year, split = devkit_split
        source = _load_source(year)
        return _Source(_named_split(source, year, split), source.labels, source.problems, source.unlabelled,
                       source.splits)
    if path.is_dir():
        loaded = _load_folder(path)
        labelled, unlabelled = _labelled(loaded)
        if not labelled:
            _raise_nothing_labelled(path, len(loaded.annotations), loaded.errors)
        keys = {_key(a.image_path): a for a in labelled}
        splits = {name: [keys[k] for k in map(_key, images) if k in keys] for name, images in loaded.splits.items()}
        return _Source(labelled, loaded.labels, list(loaded.errors), unlabelled, splits)
    if not path.exists():
        raise SetupError(f"{path}: no such folder or list file")
    if path.suffix.lower() != ".txt":
        raise SetupError(f"{path}: expected a folder of labelled images, a data.yaml or a .txt list of image paths")
    return _load_list(path)


def _load_list(list_path: Path) -> _Source:
    """A darknet-style list: each listed image's dataset folder is loaded once, then the listed images kept.
    Label-file problems are reported for the listed images only (and for files every image depends on)."""
    try:
        listed = read_list_file(list_path)
    except DatasetError as error:
        raise SetupError(str(error)) from None
    if not listed:
        raise SetupError(f"{list_path}: the list names no images")
    roots = list(dict.fromkeys(dataset_root(p) for p in listed))
    annotations, labels, problems, labelled_keys = [], LabelSet(), [], set()
    for root in roots:
        loaded = _load_folder(root)
        annotations += loaded.annotations
        labels.names += [n for n in loaded.labels.names if n not in labels.names]
        labelled_keys |= {_key(a.image_path) for a in _labelled(loaded)[0]}
        per_image = {_key(f) for a in loaded.annotations if (f := _label_file(loaded, a.image_path))}
        listed_label_files = {_key(f) for p in listed if (f := _label_file(loaded, p))}
        problems += [e for e in loaded.errors if _key(e.path) in listed_label_files or _key(e.path) not in per_image]
    try:
        selected = select_listed(annotations, listed, str(list_path))
    except DatasetError as error:
        raise SetupError(str(error)) from None
    labelled = [a for a in selected if _key(a.image_path) in labelled_keys]
    if not labelled:
        _raise_nothing_labelled(list_path, len(selected), problems)
    return _Source(labelled, labels, problems, len(selected) - len(labelled))


def _load_folder(folder: Path):
    try:
        return load_folder(folder)
    except (OSError, ValueError) as error:
        raise SetupError(f"{folder}: cannot load the folder ({error})") from None


def _labelled(loaded) -> tuple[list[ImageAnnotation], int]:
    """(images with a readable label file or boxes, number with neither). An image whose label file is broken
    is neither: training on it as a picture without objects would teach the model to miss them."""
    broken = {_key(e.path) for e in loaded.errors if e.is_fault}
    labelled, unlabelled = [], 0
    for ann in loaded.annotations:
        label_file = _label_file(loaded, ann.image_path)
        if label_file is not None and _key(label_file) in broken:
            continue
        if ann.boxes or (label_file is not None and label_file.is_file()):
            labelled.append(ann)
        else:
            unlabelled += 1
    return labelled, unlabelled


def _label_file(loaded, image_path: Path) -> Path | None:
    """The image's own label file as the format table places it; None for formats with one file for all (an
    image is then labelled when it has boxes)."""
    from engine.annotations.formats import get_format

    if loaded.format is None or not get_format(loaded.format).per_image:
        return None
    return get_format(loaded.format).label_path(Path(image_path))


def _raise_nothing_labelled(where: Path, images: int, problems: list[AnnotationError]) -> None:
    if images == 0:
        raise SetupError(f"{where}: no images found (looked for .jpg, .png, .bmp, .webp, .tif)")
    hint = f"; {len(problems)} label file(s) could not be read, the first: {problems[0]}" if problems else ""
    raise SetupError(f"{where}: none of its {images} image(s) is labelled{hint}")


def _key(path: Path | str) -> str:
    return os.path.normcase(os.path.abspath(path))


def build_datasets(data: TrainingData, image_size: int, augment=None) -> tuple[DetectionDataset, DetectionDataset | None]:
    """Augmented training set (``augment``: :meth:`TrainConfig.augmentation`, default the recipe's) and plain
    validation set (None without validation images)."""
    from engine.data.dataset import DetectionDataset, UnknownClassError  # torch: only when a run is being built

    try:
        train_set = DetectionDataset(data.train, data.labels, image_size, train=True, augment=augment)
    except UnknownClassError as error:
        raise SetupError(f"training data: {error}") from None
    try:
        val_set = DetectionDataset(data.val, data.labels, image_size, train=False) if data.val else None
    except UnknownClassError as error:
        raise SetupError(f"validation data: {error}") from None
    if len(train_set) == 0:
        raise SetupError(f"none of the {len(data.train)} training images can be read")
    return train_set, val_set


def build_model_config(backbone: str, image_size: int, num_classes: int, head: str = DEFAULT_HEAD) -> ModelConfig:
    try:
        return ModelConfig(num_classes=num_classes, backbone=backbone, image_size=image_size, head=head)
    except ValueError as error:
        raise SetupError(str(error)) from None


def build_train_config(base: TrainConfig | None = None, preset: str = DEFAULT_PRESET, **overrides) -> TrainConfig:
    """``base`` (by default the ``preset``: "recipe" or "modern") with the given settings; None values keep the
    base's. Changing the number of epochs of a multistep schedule moves its milestones to the recipe's 50% and
    75% of the run."""
    try:
        values = (base or TrainConfig.preset(preset)).to_dict()
    except ValueError as error:
        raise SetupError(str(error)) from None
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(given) - set(values)
    if unknown:
        raise SetupError(f"unknown training settings: {', '.join(sorted(unknown))}")
    if base is None and "epochs" in given and "milestones" not in given:
        given["milestones"] = sorted({max(1, round(given["epochs"] * 0.5)), max(1, round(given["epochs"] * 0.75))})
    values.update(given)
    try:
        return TrainConfig.from_dict(values)
    except ValueError as error:
        raise SetupError(str(error)) from None


def prepare_model(model_config: ModelConfig, weights: str | Path):
    """(model, WeightsReport). A weights file that is missing, unreadable or of another backbone is a SetupError;
    ImageNet weights that cannot be had are not (the report says so and the model starts from random)."""
    from engine.model.weights import build_model

    try:
        return build_model(model_config, weights)
    except (OSError, ValueError) as error:  # CheckpointError is a ValueError
        raise SetupError(f"weights: {error}") from None


# ---- the run folder ----------------------------------------------------------------------------------------
def existing_run_files(folder: Path) -> list[Path]:
    return [folder / name for name in RUN_FILES if (folder / name).exists()]


def read_run_config(out_dir: Path) -> dict | None:
    path = Path(out_dir) / RUN_CONFIG
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise SetupError(f"{path}: cannot read the run's settings ({error})") from None
