"""The run planner: everything decided before a training run starts, the same for ``resyolo train`` and the app.

:func:`plan_run` takes a :class:`RunRequest`: where the images come from (a :class:`PathSource`, the command
line's folder, ``data.yaml`` or ``.txt`` list, or a :class:`ProjectSource`, the app's open project), the model and
training settings, and optionally a checkpoint to resume and a run folder. It

1. checks what must be fixed before the run can start: each problem raises :class:`SetupError` with a message
   naming the file or the setting (no images, nothing labelled, a class without boxes in a project, a bad split,
   an input size, a checkpoint that cannot be resumed, a folder that holds another run, ...);
2. applies the resume rules (:func:`resume_rules`);
3. picks the run folder: the one asked for, the resumed run's own, or the next ``run<N>`` of the runs folder
   (:func:`engine.training.runs.next_run_dir`; folders of the earlier ``exp``, ``exp2`` numbering are runs too);
4. holds the one ``config.json`` record (:data:`CONFIG_KEYS`, :data:`DATA_KEYS`): the same keys, the same
   meaning, whoever trains.

The caller then does, on the thread that trains: :meth:`RunPlan.build` (datasets and model; may raise
SetupError), :meth:`RunPlan.prepare_folder`, :meth:`RunPlan.make_trainer`, :meth:`RunPlan.record` ("running"),
``trainer.fit()``, and :meth:`RunPlan.record` with how it ended. Nothing is written before ``prepare_folder``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from engine.annotations.records import LabelSet
from engine.model.config import ModelConfig
from engine.training.config import DEFAULT_PRESET, PRESET_HEADS, TrainConfig
from engine.training.preflight import NO_PROJECT, VAL_FOLDER, VAL_NONE, VAL_SPLIT, DataChoice, PreflightError, plan_data
from engine.training.runs import next_run_dir, runs_folder
from engine.training.setup import (RUN_CONFIG, SetupError, TrainingData, build_datasets, build_model_config,
                                   build_train_config, existing_run_files, load_training_data, prepare_model,
                                   read_run_config)

DEFAULT_RUNS = Path("runs/train")  # where `resyolo train` numbers its runs when no --out is given
DEFAULT_BACKBONE, DEFAULT_IMAGE_SIZE, DEFAULT_WEIGHTS = "resnet50", 448, "imagenet"
DEFAULT_VAL_FRACTION, DEFAULT_SPLIT_SEED = 0.2, 0

# config.json: every run's record has these keys (None where they do not apply).
CONFIG_KEYS = ("model", "train", "classes", "data", "weights", "weights_loaded", "world_size", "started",
               "resumed_from", "resumed", "status", "message", "ended")
# config.json "data": the source ("train": its folder or file, absolute; "val": a separate validation source),
# how it was split, and the images used, relative to the data folder (the project) when inside it.
DATA_KEYS = ("train", "val", "val_fraction", "split_seed", "split", "val_split", "verified_only", "train_images",
             "val_images")
RUNNING = "running"


@dataclass
class PathSource:
    """Images from a folder, an Ultralytics ``data.yaml`` or a ``.txt`` list (``resyolo train DATA``). Resuming,
    ``path=None`` means the run's own data, with its split settings (any given here still win)."""
    path: Path | None = None
    val: Path | None = None
    val_fraction: float | None = None
    split_seed: int | None = None
    split: str | None = None
    val_split: str | None = None


@dataclass
class ProjectSource:
    """The open project's labelled images (the labels in memory). Resuming, ``choice=None`` means the run's own
    choice (only verified images, validation share and seed, or folder) as its ``config.json`` records it."""
    project: object
    choice: DataChoice | None = None


@dataclass
class RunRequest:
    source: PathSource | ProjectSource
    settings: dict = field(default_factory=dict)  # "preset" and TrainConfig fields; None: not given
    backbone: str | None = None
    image_size: int | None = None
    head: str | None = None
    weights: str | None = None  # "imagenet" (default), "none" or a file; never with resume
    resume: Path | None = None  # a run's last.pt
    out: Path | None = None  # the run folder; default: the resumed run's, else the next run<N> of runs_parent
    runs_parent: Path | None = None  # default: the project's runs folder, or runs/train
    exist_ok: bool = False  # a new run may replace the run in ``out``


@dataclass
class BuiltRun:
    """What :meth:`RunPlan.build` made: the model, how its starting weights went, the datasets."""
    model: object
    weights: object  # engine.model.weights.WeightsReport
    train_set: object
    val_set: object | None


@dataclass
class RunPlan:
    out: Path
    data: TrainingData
    data_record: dict
    model_config: ModelConfig
    train_config: TrainConfig
    weights: str  # what the model is built from ("none" when resuming: the checkpoint's weights replace them)
    weights_record: str  # what config.json says the run started from
    resume: Path | None = None
    epochs_done: int = 0  # resuming: epochs the checkpoint has trained
    notes: list[str] = field(default_factory=list)  # things the user should know; the run starts anyway
    previous: dict = field(default_factory=dict)  # the resumed run's config.json
    replaces: bool = False  # exist_ok: the earlier run's files in ``out`` are removed by prepare_folder
    numbered: bool = False  # ``out`` was picked as the next run<N>
    _record: dict | None = field(default=None, repr=False)

    @property
    def class_names(self) -> list[str]:
        return list(self.data.labels.names)

    # ---- on the training thread ------------------------------------------------------------------------
    def build(self) -> BuiltRun:
        """The datasets and the model with its starting weights. Raises SetupError for a dataset that cannot be
        used (a box of an unknown class, no readable image) or a weights file that cannot be read."""
        train_set, val_set = build_datasets(self.data, self.model_config.image_size, self.train_config.augmentation())
        model, report = prepare_model(self.model_config, self.weights)
        return BuiltRun(model, report, train_set, val_set)

    def prepare_folder(self) -> Path:
        """Make the run folder (another ``run<N>`` if that one was taken meanwhile) and, for ``exist_ok``, remove
        the earlier run's files (a stale best.pt would pass for this run's). Returns the folder. Under torchrun
        only rank 0 calls it, and the name stays the one every rank planned."""
        from engine.training import distributed

        try:
            if self.numbered and not distributed.is_distributed():
                while True:
                    try:
                        self.out.mkdir(parents=True)
                        break
                    except FileExistsError:  # another run started since the plan was made
                        self.out = next_run_dir(self.out.parent)
            else:
                self.out.mkdir(parents=True, exist_ok=True)
            if self.replaces:
                for old in existing_run_files(self.out):
                    old.unlink()
        except OSError as error:
            raise SetupError(f"cannot use {self.out} as the run folder: {error.strerror or error}") from None
        return self.out

    def make_trainer(self, built: BuiltRun, callbacks=None):
        """The trainer of this run, put where the checkpoint left off when resuming."""
        from engine.training.trainer import Trainer, TrainingError

        trainer = Trainer(built.model, self.class_names, built.train_set, built.val_set, self.train_config, self.out,
                          callbacks=callbacks)
        if self.resume is not None:
            try:
                trainer.load_resume_state(self.resume)
            except TrainingError as error:
                raise SetupError(str(error)) from None
        return trainer

    def record(self, status: str = RUNNING, message: str = "", built: BuiltRun | None = None) -> Path:
        """Write ``config.json``: what the run was made from (model, settings, classes, data, weights) and where it
        stands (``status`` "running", then "finished", "stopped" or "failed", with ``message``)."""
        from engine.io.atomic import atomic_write_text
        from engine.training import distributed
        import json

        now = datetime.now().isoformat(timespec="seconds")
        if self._record is None:
            previous = self.previous if self.resume is not None else {}
            loaded = previous.get("weights_loaded") if self.resume is not None else None
            if loaded is None and built is not None and self.resume is None:
                loaded = built.weights.message
            self._record = {
                "model": self.model_config.to_dict(), "train": self.train_config.to_dict(),
                "classes": self.class_names, "data": dict(self.data_record), "weights": self.weights_record,
                "weights_loaded": loaded, "world_size": distributed.world_size(),
                "started": previous.get("started") or now,
                "resumed_from": str(self.resume) if self.resume is not None else None,
                "resumed": now if self.resume is not None else None,
                "status": None, "message": "", "ended": None}
        self._record.update(status=status, message=message, ended=None if status == RUNNING else now)
        path = self.out / RUN_CONFIG
        atomic_write_text(path, json.dumps(self._record, indent=2) + "\n")
        return path


# ---- planning ------------------------------------------------------------------------------------------------
def plan_run(request: RunRequest) -> RunPlan:
    """Check and decide everything for ``request``; raises SetupError for what must be fixed first."""
    if isinstance(request.source, ProjectSource) and request.source.project is None:
        raise PreflightError(NO_PROJECT)
    settings = dict(request.settings)
    preset = settings.pop("preset", None)
    saved, previous = None, {}
    if request.resume is not None:
        saved = load_resumable(request.resume)
        previous = read_run_config(Path(request.resume).parent) or {}
        resume_rules(request, saved, preset, settings)
        out, numbered, replaces = Path(request.out or Path(request.resume).parent), False, False
    else:
        out, numbered = _new_run_folder(request)
        replaces = request.exist_ok and bool(existing_run_files(out))
    recorded = previous.get("data") or {}
    class_names = list(saved["class_names"]) if saved else None
    if isinstance(request.source, ProjectSource):
        data, data_record, notes = _project_data(request.source, class_names, recorded, resuming=saved is not None)
    else:
        data, data_record, notes = _path_data(request.source, class_names, recorded, resuming=saved is not None)
    preset = preset or DEFAULT_PRESET
    if saved:
        model_config = saved["model_config"]
        base = TrainConfig.from_dict(saved.get("train_config") or {})
    else:
        model_config = build_model_config(request.backbone or DEFAULT_BACKBONE,
                                          request.image_size or DEFAULT_IMAGE_SIZE, len(data.labels),
                                          head=request.head or PRESET_HEADS.get(preset, PRESET_HEADS[DEFAULT_PRESET]))
        base = None
    train_config = build_train_config(base, preset=preset, **settings)
    epochs_done = int(saved["epoch"]) if saved else 0
    if saved and epochs_done >= train_config.epochs:
        raise SetupError(f"{request.resume} has already trained {epochs_done} of {train_config.epochs} epochs; "
                         f"pass --epochs N (more than {epochs_done}) to train further")
    if isinstance(request.source, PathSource):
        notes += _classes_without_boxes(data)
    if saved:
        weights, weights_record = "none", str(previous.get("weights") or "unknown")
    else:
        weights = weights_record = str(request.weights or DEFAULT_WEIGHTS)
    return RunPlan(out, data, data_record, model_config, train_config, weights, weights_record,
                   resume=Path(request.resume) if saved else None, epochs_done=epochs_done, notes=notes,
                   previous=previous, replaces=replaces, numbered=numbered)


def load_resumable(checkpoint: Path) -> dict:
    """The checkpoint of a run to continue: a run's ``last.pt`` (with its optimiser state)."""
    from engine.model.checkpoint import CheckpointError, load_checkpoint

    try:
        saved = load_checkpoint(checkpoint)
    except CheckpointError as error:
        raise SetupError(str(error)) from None
    if "optimizer" not in saved:
        raise SetupError(f"{checkpoint} holds no optimiser state: it is not the last.pt of a run. "
                         f"To start a new run from its weights use --weights {checkpoint}")
    return saved


def resume_rules(request: RunRequest, saved: dict, preset: str | None, settings: dict) -> None:
    """What a resumed run keeps and what may change; refuses the rest, naming it.

    It keeps, from its checkpoint: the model (backbone, head, input size), the class list, the weights, EMA and
    optimiser state, and the training settings it was started with; from its ``config.json``: its data (source,
    split, and the very images it trained and validated on, with their labels as they are now) unless new data
    is given, and its starting-weights record. Its folder is the checkpoint's unless another is given.
    Any training setting may be given anew (epochs, batch size, learning rate, schedule, warm-up, EMA,
    augmentation, validation interval, device, loader processes) except the optimiser: its saved state belongs
    to the kind it was made by. A preset, another head, backbone or input size, starting weights and replacing
    the run are refused: those make a new run (``--weights CHECKPOINT`` starts one from its weights)."""
    model_config = saved["model_config"]
    for option, given, own in (("--backbone", request.backbone, model_config.backbone),
                               ("--img-size", request.image_size, model_config.image_size),
                               ("--head", request.head, model_config.head)):
        if given is not None and given != own:
            raise SetupError(f"{option} {given} differs from the run's {own}; a run resumes with its own model "
                             "(start a new run with --weights to change it)")
    if preset is not None:
        raise SetupError("--preset cannot change a resumed run (it keeps its own model and settings); start a new "
                         "run with --weights to change them")
    own_optimizer = (saved.get("train_config") or {}).get("optimizer", TrainConfig().optimizer)
    if settings.get("optimizer") not in (None, own_optimizer):
        raise SetupError(f"--optimizer {settings['optimizer']} differs from the run's {own_optimizer}; its saved "
                         "optimiser state cannot continue in another optimiser (start a new run with --weights)")
    if request.weights is not None:
        raise SetupError(f"--weights {request.weights} cannot be used with --resume: a resumed run continues from "
                         "its own weights (start a new run to choose them)")
    if request.exist_ok:
        raise SetupError("--exist-ok replaces a run and --resume continues one: give only one of them")


def _new_run_folder(request: RunRequest) -> tuple[Path, bool]:
    """(the folder of a new run, whether it was numbered); refuses a folder holding a run unless exist_ok."""
    if request.out is not None:
        out = Path(request.out)
        existing = existing_run_files(out)
        if existing and not request.exist_ok:
            raise SetupError(f"{out} already holds a run ({', '.join(p.name for p in existing)}); continue it with "
                             f"--resume {out / 'last.pt'}, replace it with --exist-ok, or choose another --out")
        return out, False
    parent = request.runs_parent
    if parent is None:
        project = getattr(request.source, "project", None)
        parent = runs_folder(project.folder) if project is not None else DEFAULT_RUNS
    return next_run_dir(parent), True


# ---- the data of a run ---------------------------------------------------------------------------------------
def _path_data(source: PathSource, class_names, recorded: dict, resuming: bool):
    same_data = resuming and source.path is None  # "the run's own data": its split settings too
    own = recorded if same_data else {}
    path = source.path or (Path(recorded["train"]) if same_data and recorded.get("train") else None)
    if path is None:
        raise SetupError("DATA is missing: give a folder or a .txt list of labelled images"
                         + (f" (the run's {RUN_CONFIG} names none)" if resuming else ""))
    val = source.val or (Path(own["val"]) if own.get("val") else None)
    val_fraction = _first(source.val_fraction, own.get("val_fraction"), DEFAULT_VAL_FRACTION)
    split_seed = _first(source.split_seed, own.get("split_seed"), DEFAULT_SPLIT_SEED)
    split = _first(source.split, own.get("split"))
    val_split = _first(source.val_split, own.get("val_split"))
    data = load_training_data(path, val, val_fraction, split_seed, class_names, split=split, val_split=val_split)
    root = _data_folder(path)
    notes = []
    if same_data and source.val is None and source.val_fraction is None and source.split_seed is None:
        data, notes = _recorded_images(data, recorded, root, str(path))
    record = data_record(path, val, val_fraction, split_seed, split, val_split, False, data, root)
    return data, record, notes


def _project_data(source: ProjectSource, class_names, recorded: dict, resuming: bool):
    project = source.project
    choice = source.choice
    if choice is None:
        choice = recorded_choice(recorded) if resuming else DataChoice()
    planned = plan_data(project, choice, class_names)
    data = TrainingData(planned.train, planned.val, LabelSet(list(planned.class_names)))
    notes = []
    if resuming and source.choice is None:
        data, notes = _recorded_images(data, recorded, Path(project.folder), f"the project {project.folder}")
    split = choice.val_mode == VAL_SPLIT
    record = data_record(project.folder, choice.val_folder if choice.val_mode == VAL_FOLDER else None,
                         choice.val_fraction if split else 0.0, choice.split_seed, None, None, choice.verified_only,
                         data, Path(project.folder))
    return data, record, notes


def recorded_choice(recorded: dict) -> DataChoice:
    """The app's data choice as a run's ``config.json`` "data" records it (also runs from before this record)."""
    val_folder = recorded.get("val") or recorded.get("val_folder")
    fraction = float(recorded.get("val_fraction") or 0.0)
    mode = VAL_FOLDER if val_folder else (VAL_SPLIT if fraction > 0 else VAL_NONE)
    return DataChoice(bool(recorded.get("verified_only", False)), mode, fraction,
                      int(recorded.get("split_seed") or 0), Path(val_folder) if val_folder else None)


def data_record(source: Path | str, val, val_fraction: float, split_seed: int, split, val_split,
                verified_only: bool, data: TrainingData, root: Path) -> dict:
    """config.json "data" (:data:`DATA_KEYS`)."""
    return {"train": os.path.abspath(source), "val": os.path.abspath(val) if val else None,
            "val_fraction": float(val_fraction), "split_seed": int(split_seed), "split": split,
            "val_split": val_split, "verified_only": bool(verified_only),
            "train_images": [_relative(a.image_path, root) for a in data.train],
            "val_images": [_relative(a.image_path, root) for a in data.val]}


def _recorded_images(data: TrainingData, recorded: dict, root: Path, where: str) -> tuple[TrainingData, list[str]]:
    """A resumed run trains and validates on the images it recorded (their labels as they are now), not on a new
    split of what the source holds now: images labelled since are left out, images gone are said so."""
    lists = recorded.get("train_images"), recorded.get("val_images")
    if not all(isinstance(listed, list) for listed in lists):  # runs from before the lists: split again
        return data, []
    pool = {_key(a.image_path): a for a in (*data.train, *data.val)}
    chosen = [[pool[k] for k in (_key(_absolute(p, root)) for p in listed) if k in pool] for listed in lists]
    train, val = chosen
    if not train:
        raise SetupError(f"none of the run's {len(lists[0])} training images is among the labelled images of "
                         f"{where} any more; start a new run")
    notes = []
    gone = len(lists[0]) + len(lists[1]) - len(train) - len(val)
    if gone:
        notes.append(f"{gone} of the run's images are no longer labelled images of {where}; it resumes without them")
    added = len(pool) - len(train) - len(val)
    if added:
        notes.append(f"{added} labelled image(s) of {where} are not the run's and are left out (a resumed run keeps "
                     "its images; start a new run to train on them)")
    return TrainingData(train, val, data.labels, data.problems, data.unlabelled), notes


def _classes_without_boxes(data: TrainingData) -> list[str]:
    """A class list (classes.txt, data.yaml) may name classes no training box has: said, not refused (the
    class ids of such a dataset are fixed; in a project the Classes panel fixes it, and there it is refused)."""
    counted = {box.label for ann in data.train for box in ann.boxes if not box.difficult}
    empty = [name for name in data.labels.names if name not in counted]
    if not empty:
        return []
    shown = ", ".join(empty[:10]) + (f" and {len(empty) - 10} more" if len(empty) > 10 else "")
    return [f"{len(empty)} class(es) have no boxes in the training images, so the model cannot learn to find "
            f"them: {shown}"]


def _data_folder(path: Path | str) -> Path:
    """The folder image paths are recorded relative to: the data folder, or the folder of a data.yaml or list."""
    path = Path(os.path.abspath(path))
    return path if path.is_dir() else path.parent


def _relative(path: Path | str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def _absolute(path: str, root: Path) -> Path:
    return Path(path) if Path(path).is_absolute() else Path(root) / path


def _key(path: Path | str) -> str:
    return os.path.normcase(str(Path(path).resolve()))


def _first(*values):
    return next((v for v in values if v is not None), None)


__all__ = ["CONFIG_KEYS", "DATA_KEYS", "DEFAULT_RUNS", "BuiltRun", "PathSource", "ProjectSource", "RunPlan",
           "RunRequest", "SetupError", "data_record", "load_resumable", "plan_run", "recorded_choice", "resume_rules"]
