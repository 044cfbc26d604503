"""The Ultralytics / Roboflow layout: a ``data.yaml`` naming the splits and the classes, YOLO txt labels.

As Ultralytics' ``check_det_dataset`` reads it: ``path`` (the dataset root; a relative one: Ultralytics tries the
working directory, then its datasets folder, where we read it from the yaml's folder; absent: the yaml's folder,
for both), ``train`` / ``val`` / ``test`` each a folder, a ``.txt`` list of images or a list of those, relative to
``path``; a value starting ``../`` that does not exist is tried without it (Roboflow writes
``train: ../train/images`` beside ``train/``); ``names`` a list or a ``{id: name}`` dict; ``nc`` optional.
An image's label file is Ultralytics' ``img2label_paths``: the last ``/images/`` of its path becomes
``/labels/``, the suffix ``.txt`` (``images/train/a.jpg`` -> ``labels/train/a.txt``; Roboflow's
``train/images/a.jpg`` -> ``train/labels/a.txt``).

Classes live in ``data.yaml``: a class added in the app is appended to ``names`` (never re-indexed), written
in the yaml's own style (list or dict). Rewriting ``data.yaml`` keeps its keys but not its comments.
"""
from __future__ import annotations

import os
from pathlib import Path

from engine.io.atomic import atomic_write_text
from engine.annotations.listing import is_image_name, natural_sort_key
from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet
from engine.annotations.limits import read_label_text
from engine.annotations import yolo

DATA_FILE = "data.yaml"
SPLIT_KEYS = ("train", "val", "test")


def label_path(image_path: Path) -> Path:
    return Path(_label_text(str(image_path)))


_MARKER = f"{os.sep}images{os.sep}"


def _label_text(text: str) -> str:
    """:func:`label_path` on strings (called per image: no Path)."""
    if _MARKER in text:
        head, tail = text.rsplit(_MARKER, 1)
        text = f"{head}{os.sep}labels{os.sep}{tail}"
    return os.path.splitext(text)[0] + ".txt"


def find_data_yaml(folder: Path | str) -> Path | None:
    folder = Path(folder)
    if (folder / DATA_FILE).is_file():
        return folder / DATA_FILE
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith((".yaml", ".yml")))
    except OSError:
        return None
    for name in names:
        try:
            data = read_data_yaml(folder / name)
        except AnnotationError:
            continue
        if "names" in data and any(k in data for k in SPLIT_KEYS):
            return folder / name
    return None


def read_data_yaml(path: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load(read_label_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise AnnotationError(path, f"not valid YAML: {getattr(exc, 'problem', exc)}",
                              f"line {mark.line + 1}" if mark else None) from None
    if not isinstance(data, dict):
        raise AnnotationError(path, "expected a mapping with train, val and names")
    return data


def class_names(data: dict, path: Path) -> list[str]:
    names = data.get("names")
    if isinstance(names, dict):
        try:
            ordered = sorted((int(k), str(v)) for k, v in names.items())
        except (TypeError, ValueError):
            raise AnnotationError(path, f"names: class ids must be whole numbers, found {list(names)}") from None
        if [k for k, _ in ordered] != list(range(len(ordered))):
            raise AnnotationError(path, f"names: class ids must be 0..{len(ordered) - 1}, found {[k for k, _ in ordered]}")
        return [v for _, v in ordered]
    if isinstance(names, list):
        return [str(n) for n in names]
    if isinstance(data.get("nc"), int):
        return [f"class{i}" for i in range(data["nc"])]
    raise AnnotationError(path, "no 'names' list or dict naming the classes")


def dataset_root(data: dict, yaml_path: Path) -> Path:
    root = data.get("path")
    if not root:
        return yaml_path.parent
    root = Path(str(root)).expanduser()
    if not root.is_absolute():
        root = yaml_path.parent / root
    return root if root.exists() else yaml_path.parent


def split_images(data: dict, yaml_path: Path) -> dict[str, list[Path]]:
    return {key: [Path(text) for text in texts] for key, texts in _split_texts(data, yaml_path).items()}


def _split_texts(data: dict, yaml_path: Path) -> dict[str, list[str]]:
    """:func:`split_images` as path strings (100,000 Paths cost a second; the images' own are made once)."""
    root = dataset_root(data, yaml_path)
    splits = {}
    listed: dict[Path, list[str]] = {}  # val: images/train as well (a common shortcut): listed once
    for key in SPLIT_KEYS:
        value = data.get(key)
        if not value:
            continue
        images: list[str] = []
        for entry in value if isinstance(value, list) else [value]:
            target = Path(os.path.normpath(root / str(entry)))
            if not target.exists() and str(entry).startswith("../"):
                target = Path(os.path.normpath(root / str(entry)[3:]))
            if target not in listed:
                listed[target] = _images_of(target)
            images += listed[target]
        splits[key] = images
    return splits


def _images_of(target: Path) -> list[str]:
    if target.is_file() and target.suffix == ".txt":  # a list of images, relative to the list's folder
        lines = [ln.strip() for ln in read_label_text(target).splitlines() if ln.strip() and not ln.startswith("#")]
        return [os.path.normpath(target.parent / ln) for ln in lines]
    found = []  # strings, sorted: 100,000 Path joins and as_posix() cost seconds
    for directory, subdirectories, files in os.walk(target, onerror=lambda _e: None):
        found += [os.path.join(directory, f) for f in files if is_image_name(f)]
    found.sort(key=lambda p: natural_sort_key(p.replace(os.sep, "/")))
    return found


# ---- the format table entry ---------------------------------------------------------------------------------
def _yaml(listing) -> Path | None:
    names = listing.files_in(str(listing.folder))
    if DATA_FILE not in names and not any(n.endswith((".yaml", ".yml")) for n in names):
        return None  # no stat per candidate: the folder's listing says there is no yaml
    return find_data_yaml(listing.folder)


def _splits(listing, data: dict, path: Path) -> dict[str, list[str]]:
    """The data.yaml's splits (path strings), listed once per folder listing (the image list and loading ask)."""
    cached = listing.__dict__.get("_ultralytics_splits")
    if cached is None:
        cached = listing.__dict__["_ultralytics_splits"] = _split_texts(data, path)
    return cached


def images(listing) -> list[Path] | list[str]:
    path = _yaml(listing)
    try:
        splits = _splits(listing, read_data_yaml(path), path)
    except AnnotationError:
        return listing.images
    if not splits:  # supervision's as_yolo writes names and nc only: the images are the folder's (and images/)
        return listing.images
    return list(dict.fromkeys(p for split in splits.values() for p in split))


def detect(listing) -> int:
    return 2 * 10**9 if _yaml(listing) is not None else 0


def load(listing, loaded) -> None:
    path = _yaml(listing)
    try:
        data = read_data_yaml(path)
        loaded.labels = LabelSet(class_names(data, path))
        if listing.splits is not None:  # known (a reload): the dataset is not listed again
            loaded.splits = listing.splits
        elif not loaded.partial:  # each split's images: the listing's own Path objects (one per image)
            by_text = dict(zip(listing.image_texts, listing.images))
            loaded.splits = {key: [by_text[t] for t in texts] for key, texts in _splits(listing, data, path).items()}
    except AnnotationError as exc:
        loaded.errors.append(exc)
    # the label file of each image read (all of them, or the first alone: load_folder's first_only)
    images = [str(a.image_path) for a in loaded.annotations] if loaded.partial else listing.image_texts
    paths = [_label_text(text) for text in images]
    yolo.load(listing, loaded, paths=paths, classes_path=path)


def write(ann: ImageAnnotation, labels: LabelSet, target: Path | None = None, warnings: list | None = None) -> Path:
    return yolo.write_yolo_txt(ann, labels, target or label_path(ann.image_path), warnings)


def read_class_list(path: Path) -> list[str]:
    return class_names(read_data_yaml(path), path)


def write_class_list(path: Path, names: list[str]) -> None:
    """``names`` into ``data.yaml`` (same style, list or dict; ``nc`` kept in step), other keys as they are."""
    import yaml

    data = read_data_yaml(path) if Path(path).exists() else {}
    if data and class_names(data, path) == list(names):
        return
    data["names"] = dict(enumerate(names)) if isinstance(data.get("names"), dict) else list(names)
    if "nc" in data:
        data["nc"] = len(names)
    atomic_write_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def place_image(relative: str, split: str | None) -> str:
    return f"images/{split or 'train'}/{Path(relative).name}"


def write_layout(folder: Path, names: list[str], splits: list[str]) -> None:
    """A ``data.yaml`` for the ``images/<split>`` folders ``splits`` (one key per split, ``names`` as a dict).

    ``train`` and ``val`` are always there (Ultralytics' ``check_det_dataset`` refuses a yaml without either):
    without a val split, ``val`` is the train folder, as Ultralytics' own coco128.yaml has it. No ``path``: a
    relative one is read by Ultralytics from the working directory (then its datasets folder), not from the
    yaml's folder; without it both tools take the yaml's folder, wherever the dataset is moved."""
    import yaml

    present = [key for key in SPLIT_KEYS if key in splits]
    train = "train" if "train" in present or not present else present[0]
    data = {"train": f"images/{train}", "val": f"images/{'val' if 'val' in present else train}"}
    if "test" in present:
        data["test"] = "images/test"
    data["names"] = dict(enumerate(names))
    atomic_write_text(Path(folder) / DATA_FILE, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _class_list_path(folder: Path, listing=None) -> Path:
    return find_data_yaml(folder) or Path(folder) / DATA_FILE


def _format():
    from engine.annotations.formats import LabelFormat

    return LabelFormat(
        name="ultralytics", title="Ultralytics / Roboflow (data.yaml + YOLO txt)", detect=detect, load=load,
        images=images, write=write, label_path=label_path, class_list_path=_class_list_path,
        read_class_list=read_class_list, write_class_list=write_class_list, numbered_classes=True,
        place_image=place_image, write_layout=write_layout,
        keeps="splits, class ids and names (data.yaml), boxes (6 decimals)",
        loses="difficult, verified (kept in .resyolo/project.json), data.yaml comments when classes change, "
              "segmentation polygons (read as their box)")


FORMAT = _format()
