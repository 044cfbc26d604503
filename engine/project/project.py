"""The labelling app's model of an open folder: images, their labels, the class list and saving. Qt-free.

A project is a folder of images with label files beside them (VOC XML, YOLO txt + classes.txt,
or a COCO JSON) plus ``FOLDER/.resyolo/project.json`` for what the label files cannot hold:
class order and colours, the label format to write, and verified flags (YOLO has none); that
file and the backups are :mod:`engine.project.settings`.

Nothing here raises Qt signals: the GUI calls these methods and refreshes itself. Edits live in
memory until :meth:`Project.save`; a label file that could not be parsed is never touched until
its image is edited, and then a numbered backup of the original is kept first.
"""
from __future__ import annotations

from pathlib import Path

from engine.annotations.formats import format_names, get_format
from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet
from engine.project.classes import DEFAULT_PALETTE, ClassList
from engine.project.disk import DiskSync
from engine.project.settings import (SETTINGS_DIR, SETTINGS_FILE, backup_path_for, clean_train_settings, keep_backup,
                                     read_settings, settings_path, settings_text, write_settings, write_train_settings)

__all__ = ["DEFAULT_PALETTE", "LABEL_FORMATS", "Opening", "Project", "ProjectError", "SETTINGS_DIR", "SETTINGS_FILE",
           "SaveError", "backup_path_for"]
LABEL_FORMATS = format_names(project_writable=True)  # the formats a project saves into in place (COCO, CVAT too)
DEFAULT_FORMAT = "voc"  # a new folder: VOC XML beside the images



class ProjectError(OSError):
    """A project folder that cannot be opened (missing, not a folder, unreadable)."""


class SaveError(OSError):
    """A label or settings file that could not be written. ``path`` names it; the edit stays in memory."""

    def __init__(self, path: Path, reason: str, ann: ImageAnnotation | None = None):
        self.path = Path(path)
        self.reason = reason
        self.ann = ann
        super().__init__(f"{self.path}: {reason}")


class ChangedOnDisk(SaveError):
    """The label file was changed by another program since it was read: not written. The app offers: reload
    theirs, keep mine (:meth:`Project.save` with ``keep_theirs_as_conflict``: theirs kept as ``NAME.conflict``),
    or show both."""


class Project(DiskSync):
    def __init__(self, folder: Path, annotations: list[ImageAnnotation], labels: LabelSet,
                 errors: dict[Path, AnnotationError], format: str, settings: dict, source_format: str | None):
        self.folder = folder
        self.annotations = annotations
        self.labels = labels
        self.errors = errors  # image (or file) -> its first problem: what marks an image in the browser
        self.problems: dict[Path, list[AnnotationError]] = {k: [e] for k, e in errors.items()}  # -> all of them
        self.format = format
        self.output_folder: Path | None = None  # File > Save To...: labels go there instead of beside the images
        self.classes = ClassList(self, settings.get("colors", {}))  # colours and class edits
        self.train_settings: dict = clean_train_settings(settings.get("train"))  # the Train form's last values
        self._dirty: set[Path] = set()
        self._settings_dirty = False
        # Labels read in another format than the one written: the first save converts every labelled image.
        self._needs_conversion = source_format not in (None, format)
        self._source_format = source_format
        self.warnings: list[AnnotationError] = []  # what saving changed: boxes clipped or dropped, each named
        self._known_classes: set[str] = set(labels.names)  # the class names on disk as we last read or wrote them
        self.splits: dict[str, list[Path]] = {}
        self.pixel_origin: int | None = None  # VOC: 0 (labelImg) or 1 (devkit); None: the format's default
        self.read_only = False  # another window holds the folder: nothing is written into it (Save To still works)
        self.lock_holder: dict | None = None  # read-only: who held the folder when it was opened (pid, host, since)
        self._fingerprints: dict[Path, tuple] = {}  # label file -> Fingerprint(size, mtime_ns, hash) as read or written
        self._label_files: dict[Path, Path] = {}  # image -> the label file it was read from
        self._read_format = source_format  # the format the label files were read in at opening

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, folder: Path | str, read_only: bool = False, take_over: bool = False) -> "Project":
        """Open ``folder`` and hold its lock (:mod:`engine.project.lock`): another live process holding it raises
        :class:`~engine.project.lock.ProjectLocked` unless ``read_only`` (nothing is then saved) or
        ``take_over``. The three steps of :class:`Opening` in a row."""
        opening = Opening(folder, read_only=read_only, take_over=take_over)
        try:
            loaded = opening.read()
        except BaseException:
            opening.abandon()
            raise
        return opening.finish(loaded)

    @classmethod
    def _from_loaded(cls, folder: Path, loaded, settings: dict, errors: dict, saved_format: str | None,
                     pixel_origin: int | None, read_only: bool, clean: bool = True) -> "Project":
        labels = LabelSet([n for n in settings.get("classes", []) if isinstance(n, str)])
        for name in loaded.labels:
            labels.add(name)
        verified = set(settings.get("verified", []))
        for ann in loaded.annotations:
            if not isinstance(ann.image_path, Path):
                ann.image_path = Path(ann.image_path)
            for box in ann.boxes:
                labels.add(box.label)
            if verified and _relative(ann.image_path, folder) in verified:
                ann.verified = True
        first, every = _errors_by_image(loaded.errors, loaded.annotations, loaded.label_files)
        errors.update(first)
        label_format = saved_format or (loaded.format if loaded.format in LABEL_FORMATS else DEFAULT_FORMAT)
        from engine.io.atomic import clean_leftover_temp_files

        import os

        if clean:  # not for a preview: the project that follows it cleans
            clean_leftover_temp_files([folder, folder / SETTINGS_DIR,
                                       *{os.path.dirname(a.image_path) for a in loaded.annotations},
                                       *{os.path.dirname(p) for p in loaded.label_files.values()}])
        project = cls(folder, loaded.annotations, labels, errors, label_format, settings, loaded.format)
        project.splits = loaded.splits
        project.problems = {key: [error] for key, error in errors.items() if key not in every} | every
        project.read_only = read_only
        if not read_only:
            from engine.project.lock import hold_here

            hold_here(folder, project)
        else:
            from engine.project.lock import read_lock

            project.lock_holder = read_lock(folder)  # a second live project of this process on the folder is refused too
        # The documented choice: saved in project.json, else where the files tell (a devkit layout: 1), else the
        # format's convention (VOC beside images: labelImg's 0). Never guessed from the numbers in the files.
        project.pixel_origin = pixel_origin if pixel_origin is not None else get_format(label_format).pixel_origin
        project._fingerprints = dict(loaded.fingerprints)
        project._label_files = dict(loaded.label_files)
        project._read_format = loaded.format or label_format  # an unlabelled folder: no file of its format existed
        return project

    def close(self) -> None:
        """Let go of the folder's lock (another window may then open it for writing)."""
        from engine.project.lock import release

        if not self.read_only:
            release(self.folder, owner=self)

    # ----------------------------------------------------------------- dirty state
    def mark_dirty(self, ann: ImageAnnotation) -> None:
        self._dirty.add(Path(ann.image_path))

    def is_dirty(self, ann: ImageAnnotation) -> bool:
        return Path(ann.image_path) in self._dirty

    def mark_settings_dirty(self) -> None:
        """The settings (class list, colours, format...) changed: the next save writes them."""
        self._settings_dirty = True

    def has_unsaved_changes(self) -> bool:
        return bool(self._dirty) or self._settings_dirty

    @property
    def pixel_origin_choice(self) -> int | None:
        """The VOC pixel origin the label files are read and written in; None for formats without one."""
        return self.pixel_origin if get_format(self.format).pixel_origin is not None else None

    def set_pixel_origin(self, origin: int) -> None:
        """The project's VOC pixel origin: 0 as labelImg, 1 as the VOC devkit (and Ultralytics' converter and
        supervision) count. Saved in the settings; every labelled image is rewritten in it on the next save, its
        boxes where they are (:meth:`reread_with_pixel_origin`: the files stay, read the other way)."""
        if origin not in (0, 1):
            raise ValueError(f"pixel origin must be 0 (labelImg) or 1 (VOC devkit), got {origin!r}")
        if origin != self.pixel_origin:
            self.pixel_origin = origin
            self._needs_conversion = True
            self._settings_dirty = True

    def set_format(self, label_format: str) -> None:
        """Switch the format written from now on; every labelled image is rewritten on the next save."""
        if label_format not in LABEL_FORMATS:
            raise ValueError(f"unknown label format {label_format!r}; use one of {', '.join(LABEL_FORMATS)}")
        if label_format != self.format:
            self.format = label_format
            if self.pixel_origin is None:  # switching to VOC: its convention until the user picks the other
                self.pixel_origin = get_format(label_format).pixel_origin
            self._needs_conversion = True
            self._settings_dirty = True

    # ----------------------------------------------------------------- saving
    def label_path(self, ann: ImageAnnotation) -> Path:
        """Where ``ann`` is written in the current format (beside the image, or under the Save To folder). For a
        format with one file for the dataset (COCO, CVAT): the file the image was read from, else the default."""
        fmt, image = get_format(self.format), Path(ann.image_path)
        if fmt.per_image:
            beside = fmt.label_path(image)
        elif self.format == self._source_format and image in self._label_files:
            beside = Path(self._label_files[image])
        else:
            beside = fmt.dataset_file(image)
        if self.output_folder is None:
            return beside
        return self.output_folder / _relative(beside, self.folder)

    def save(self, ann: ImageAnnotation, keep_theirs_as_conflict: bool = False) -> None:
        """Write one image's labels if it has unsaved edits. Raises :class:`SaveError`; the edit stays dirty.
        A label file changed on disk since it was read raises :class:`ChangedOnDisk`, unless
        ``keep_theirs_as_conflict`` (keep mine: theirs is kept as ``NAME.conflict`` first)."""
        if self._needs_conversion:
            self._convert_all()
        if not self.is_dirty(ann):
            return
        self._write(ann, keep_theirs_as_conflict)
        self._dirty.discard(Path(ann.image_path))
        self.save_settings()  # class list, colours and verified flags (cheap when unchanged)

    def save_all(self) -> list[SaveError]:
        """Write every dirty image and the settings; returns the failures (each names its file)."""
        failures: list[SaveError] = []
        if self._needs_conversion:
            self._convert_all()
        dirty = [ann for ann in self.annotations if self.is_dirty(ann)]
        if not get_format(self.format).per_image:  # one dataset file: each read and written once, not per image
            by_file: dict[Path, list[ImageAnnotation]] = {}
            for ann in dirty:
                by_file.setdefault(self.label_path(ann), []).append(ann)
            for target, anns in by_file.items():
                try:
                    self._write_entries(target, anns)
                except SaveError as exc:
                    failures.append(exc)
            dirty = []
        for ann in dirty:
            try:
                self._write(ann)
                self._dirty.discard(Path(ann.image_path))
            except SaveError as exc:
                failures.append(exc)
        if self._settings_dirty or not failures:
            try:
                self.save_settings()
            except SaveError as exc:
                failures.append(exc)
        return failures

    def save_settings(self) -> None:
        if self.read_only and self.output_folder is None:
            if self._settings_dirty:
                raise SaveError(self.settings_path(), "opened read-only (another window holds the folder)")
            return
        path = self.settings_path()
        class_list = self.classes_txt_path()
        if class_list is not None and (get_format(self.format).numbered_classes or class_list.exists()):
            try:  # a class list the project read names from must not bring back a renamed or deleted class
                self._write_class_list(class_list)
            except (OSError, AnnotationError) as exc:
                raise SaveError(class_list, _reason(exc)) from exc
        verified = [_relative(a.image_path, self.folder) for a in self.annotations if a.verified]
        try:
            write_settings(path, settings_text(self.format, self.labels.names, self.classes.colors, verified,
                                              self.pixel_origin, self.train_settings),
                           keep_original=path in self.errors)  # a malformed settings file is kept aside, not lost
        except OSError as exc:
            raise SaveError(path, _reason(exc)) from exc
        self.errors.pop(path, None)
        self.problems.pop(path, None)
        self._settings_dirty = False

    def settings_path(self) -> Path:
        return settings_path(self.output_folder or self.folder)

    def remember_train_settings(self, values: dict) -> None:
        """Keep the Train form's values (plain JSON values by name) for the next session: written to
        ``project.json`` at once, alone (unsaved label and class edits stay unsaved). Raises SaveError."""
        values = clean_train_settings(values)
        if values == self.train_settings:
            return
        self.train_settings = values
        if self.read_only:
            return
        path = self.settings_path()
        try:
            write_train_settings(path, values)
        except OSError as exc:
            raise SaveError(path, _reason(exc)) from exc

    def export_coco(self, path: Path | str) -> list[str]:
        """Write the whole project as one COCO JSON. Returns the images left out (unreadable), with why."""
        from engine.annotations.coco import write_coco_json
        from engine.io.images import ImageReadError, read_image_size

        skipped, kept = [], []
        for ann in self.annotations:
            if ann.width <= 0 or ann.height <= 0:
                try:
                    ann.width, ann.height = read_image_size(ann.image_path)
                except (ImageReadError, OSError) as exc:
                    skipped.append(f"{ann.image_path}: {exc}")
                    continue
            kept.append(ann)
        write_coco_json(kept, self.labels, Path(path), image_root=self.folder)
        return skipped

    def _convert_all(self) -> None:
        for ann in self.annotations:
            if ann.boxes or ann.verified:
                self.mark_dirty(ann)
        self._needs_conversion = False
        self._settings_dirty = True

    def classes_txt_path(self) -> Path | None:
        """The file holding the class list that the format's ids refer to (YOLO's ``classes.txt``, an Ultralytics
        ``data.yaml``; None where names are in the label files), under the Save To folder if there is one."""
        fmt = get_format(self.format)
        path = fmt.class_list_path(self.folder) if fmt.class_list_path is not None else None
        if path is None or self.output_folder is None:
            return path
        return self.output_folder / _relative(path, self.folder)

    def _write_class_list(self, path: Path) -> None:
        """Write the class list, append-only on disk: names another writer added since we read it keep their ids
        (:func:`~engine.annotations.formats.merged_class_list`); the project's list follows."""
        from engine.annotations.formats import merged_class_list

        fmt = get_format(self.format)
        on_disk = fmt.read_class_list(path) if path.exists() else []
        names = merged_class_list(on_disk, self.labels.names, self._known_classes)
        if names != on_disk or not path.exists():
            fmt.write_class_list(path, names)
        self.labels.names[:] = names
        self._known_classes = set(names)

    def _check_unchanged(self, ann: ImageAnnotation, target: Path, keep_theirs_as_conflict: bool) -> None:
        """Raise ChangedOnDisk if ``target`` is not what this project read (or last wrote) there."""
        from engine.annotations.fingerprints import changed

        expected = self._fingerprints.get(target)  # None: we never read this file (new, or another format's)
        if not target.is_file():  # none there (or a folder in the way: the write fails, naming it)
            return
        if expected is None:
            # Created meanwhile: no file was there when the folder was read in this format (another format's
            # or another folder's files are simply replaced: a switch or a Save To writes them all)
            if self._read_format != self.format or self.output_folder is not None:
                return
        elif not changed(target, expected):
            return
        if keep_theirs_as_conflict:
            from engine.io.atomic import atomic_write_bytes

            atomic_write_bytes(target.with_name(target.name + ".conflict"), target.read_bytes())
            return
        raise ChangedOnDisk(target, "changed on disk by another program since it was read; reload theirs, "
                                    "keep mine (theirs kept as .conflict) or compare both", ann)

    def _write(self, ann: ImageAnnotation, keep_theirs_as_conflict: bool = False) -> None:
        if self.read_only and self.output_folder is None:  # Save To another folder is the way out
            raise SaveError(self.label_path(ann), "opened read-only (another window holds the folder)", ann)
        target = self.label_path(ann)
        fmt = get_format(self.format)
        if fmt.per_image:
            self._check_unchanged(ann, target, keep_theirs_as_conflict)
        try:
            self._prepare(ann, target)
            warnings: list[AnnotationError] = []
            origin = {"origin": self.pixel_origin} if fmt.pixel_origin is not None and self.pixel_origin is not None else {}
            fmt.write(ann, self.labels, target, warnings, **origin)
            self._written(target, warnings)
        except (OSError, ValueError, KeyError) as exc:
            raise SaveError(target, _reason(exc), ann) from exc
        self.errors.pop(Path(ann.image_path), None)
        notes = [p for p in self.problems.pop(Path(ann.image_path), []) if not p.is_fault]
        if notes:  # shapes that are not boxes are kept untouched by the write: still worth listing
            self.problems[Path(ann.image_path)] = notes

    def _write_entries(self, target: Path, anns: list[ImageAnnotation]) -> None:
        """Several images' entries in one dataset file (COCO, CVAT), read and written once; the rest of the file
        (other images, keys we do not know) is kept, so another writer's edits of other images survive."""
        if self.read_only and self.output_folder is None:
            raise SaveError(target, "opened read-only (another window holds the folder)", anns[0])
        try:
            for ann in anns:
                self._prepare(ann, target)
            warnings: list[AnnotationError] = []
            get_format(self.format).write_many(anns, self.labels, target, warnings)
            self._written(target, warnings)
        except (OSError, ValueError, KeyError) as exc:
            raise SaveError(target, _reason(exc), anns[0]) from exc
        for ann in anns:
            self.errors.pop(Path(ann.image_path), None)
            self._dirty.discard(Path(ann.image_path))
            notes = [p for p in self.problems.pop(Path(ann.image_path), []) if not p.is_fault]
            if notes:
                self.problems[Path(ann.image_path)] = notes

    def _prepare(self, ann: ImageAnnotation, target: Path) -> None:
        """Before writing ``ann`` to ``target``: its size known, a malformed file it replaces kept as a backup,
        its classes in the class list (and the class list file written when ids refer to it)."""
        if ann.width <= 0 or ann.height <= 0:
            from engine.io.images import read_image_size

            ann.width, ann.height = read_image_size(ann.image_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        error = self.errors.get(Path(ann.image_path))
        if error is not None and Path(error.path) == target:
            keep_backup(target)
        for box in ann.boxes:  # a label typed on the canvas joins the class list
            self.labels.add(box.label)
        class_list = self.classes_txt_path()
        if class_list is not None and (get_format(self.format).numbered_classes or class_list.exists()):
            self._write_class_list(class_list)

    def _written(self, target: Path, warnings: list[AnnotationError]) -> None:
        from engine.annotations.fingerprints import of_file

        self.warnings += warnings
        self._fingerprints[target] = of_file(target)  # what we wrote is what the next save expects


class Opening:
    """Opening a project in three steps, so that the slow one can run on another thread (the app reads a large
    folder's label files in the background while it shows the first image):

    1. ``Opening(folder, read_only, take_over)``: the folder checked, its lock taken (raises
       :class:`~engine.project.lock.ProjectLocked` as :meth:`Project.open` does) and its settings read. Quick.
    2. :meth:`read`: every label file (or only the first image's, ``first_only``). Touches no shared state: safe
       on a worker thread. :meth:`preview` is a read-only :class:`Project` of the first image only, for showing.
    3. :meth:`finish`: the :class:`Project` of what :meth:`read` returned, holding the lock. Or :meth:`abandon`:
       the lock let go, nothing opened.
    """

    def __init__(self, folder: Path | str, read_only: bool = False, take_over: bool = False):
        folder = Path(folder).expanduser()
        if folder.is_file() and folder.suffix in (".yaml", ".yml"):  # an Ultralytics data.yaml: its dataset
            folder = folder.parent
        if not folder.exists():
            raise ProjectError(f"Folder not found: {folder}")
        if not folder.is_dir():
            raise ProjectError(f"Not a folder: {folder}")
        self.folder = folder = folder.resolve()
        self.read_only = read_only
        if not read_only:
            from engine.project.lock import acquire, hold_here

            acquire(folder, take_over=take_over)  # ProjectLocked names the holder
            hold_here(folder, self)  # held while the labels are read: another window of this process is told so
        self.errors: dict[Path, AnnotationError] = {}
        self.settings = read_settings(folder, self.errors)
        settings = self.settings
        self.saved_format = settings.get("label_format") if settings.get("label_format") in LABEL_FORMATS else None
        self.pixel_origin = settings.get("voc_pixel_origin") if settings.get("voc_pixel_origin") in (0, 1) else None

    def read(self, first_only: bool = False):
        """The folder's images and labels (a :class:`~engine.annotations.formats.LoadedFolder`); with
        ``first_only``, the labels of the first image alone (per-image formats; a dataset file is read whole).
        Raises :class:`ProjectError` when the folder cannot be read."""
        from engine.annotations.folder import load_folder  # deferred: keeps `import engine.project.project` light

        try:
            return load_folder(self.folder, format=self.saved_format, pixel_origin=self.pixel_origin,
                               first_only=first_only)
        except OSError as exc:
            raise ProjectError(f"Cannot read folder {self.folder}: {exc.strerror or exc}") from exc

    def preview(self, loaded) -> Project:
        """A read-only project of ``loaded`` (from ``read(first_only=True)``) for showing, not editing: it holds no
        lock and writes nothing. Its ``image_count`` is the folder's number of images."""
        project = Project._from_loaded(self.folder, loaded, dict(self.settings), dict(self.errors),
                                       self.saved_format, self.pixel_origin, read_only=True, clean=False)
        project.lock_holder = None
        project.image_count = max(loaded.image_count, len(loaded.annotations))
        return project

    def finish(self, loaded) -> Project:
        """The project of ``loaded`` (from :meth:`read`), holding the folder's lock unless read-only."""
        return Project._from_loaded(self.folder, loaded, self.settings, self.errors, self.saved_format,
                                    self.pixel_origin, self.read_only)

    def abandon(self) -> None:
        """Nothing is opened after all: let go of the lock this opening took."""
        if not self.read_only:
            from engine.project.lock import release

            release(self.folder, owner=self)


def _errors_by_image(errors: list[AnnotationError], annotations: list[ImageAnnotation],
                     label_files: dict[Path, Path]) -> tuple[dict, dict]:
    """Key each label-file error by the image it belongs to (the loader says which file each image was read
    from; else same folder and stem), else by the file itself: (the first problem of each, all of each)."""
    if not errors:
        return {}, {}
    by_label_file: dict[Path, Path | None] = {}
    for image, label_file in label_files.items():  # a file shared by many images (COCO) names none of them
        by_label_file[Path(label_file)] = None if Path(label_file) in by_label_file else Path(image)
    by_stem = {(Path(a.image_path).parent, Path(a.image_path).stem): Path(a.image_path) for a in annotations}
    first, every = {}, {}
    for error in errors:
        path = Path(error.path)
        image = by_label_file.get(path) or by_stem.get((path.parent, path.stem))
        first.setdefault(image or path, error)
        every.setdefault(image or path, []).append(error)
    return first, every


def _relative(path: Path, folder: Path) -> str:
    for candidate in (Path(path), Path(path).resolve()):
        try:
            return candidate.relative_to(folder).as_posix()
        except ValueError:
            continue
    return Path(path).as_posix()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (is the folder read-only?)"
    if isinstance(exc, IsADirectoryError):
        return "a folder is in the way of the label file"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
