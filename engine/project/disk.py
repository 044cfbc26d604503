"""A project and its label files on disk, after opening: what another program changed, reloading it, and the
ways out of a "changed on disk" save error (reload theirs, keep mine, show both). Qt-free.

A mixin of :class:`engine.project.project.Project`, working on its ``annotations``, ``_fingerprints`` (label file ->
:class:`~engine.annotations.fingerprints.Fingerprint` as read or last written), ``_dirty``, ``errors`` and
``labels``. Only per-image formats are watched: a COCO or CVAT file is one file for the whole dataset.
"""
from __future__ import annotations

import os
from pathlib import Path

from engine.annotations import fingerprints
from engine.annotations.formats import LoadedFolder, get_format
from engine.annotations.records import AnnotationError, ImageAnnotation, LabelSet


class DiskSync:
    """Methods of :class:`~engine.project.project.Project` (see the module docstring)."""

    # ----------------------------------------------------------------- what changed
    def changed_on_disk(self, anns: list[ImageAnnotation] | None = None) -> list[ImageAnnotation]:
        """The images (of ``anns``, default all) whose label file is no longer what this project read or wrote:
        rewritten, created or deleted by another program."""
        if not get_format(self.format).per_image:
            return []
        result = []
        for ann in self.annotations if anns is None else anns:
            path = self.label_path(ann)
            expected = self._fingerprints.get(path)
            if (expected is not None or os.path.lexists(path)) and fingerprints.changed(path, expected):
                result.append(ann)
        return result

    def changed_in_folder(self, directory: Path | str) -> list[ImageAnnotation]:
        """:meth:`changed_on_disk` for the label files of one folder, from one listing of it (a watcher's event):
        a file is hashed only when its size or mtime moved, or it was written in the last two seconds."""
        index = self._label_index().get(os.path.abspath(directory), {})
        if not index:
            return []
        seen, result = set(), []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    ann = index.get(entry.name)
                    if ann is None:
                        continue
                    seen.add(entry.name)
                    path = Path(entry.path)
                    expected = self._fingerprints.get(path)
                    try:
                        quick = fingerprints.quick_changed(entry.stat(), expected)
                    except OSError:
                        continue
                    if quick and fingerprints.changed(path, expected):
                        result.append(ann)
        except OSError:
            return []
        for name, ann in index.items():  # deleted by another program since we read it
            if name not in seen and self._fingerprints.get(Path(directory) / name) is not None:
                result.append(ann)
        return result

    def label_file_names(self, directory: Path | str) -> set[str]:
        """The names of the label files the project reads and writes in ``directory`` (existing or not)."""
        return set(self._label_index().get(os.path.abspath(directory), {}))

    def label_folders(self) -> list[Path]:
        """The folders holding (or to hold) the project's label files: what a watcher watches."""
        return [Path(d) for d in self._label_index()]

    def _label_index(self) -> dict[str, dict[str, ImageAnnotation]]:
        """label folder -> {label file name -> its image}, in the current format and Save To folder."""
        key = (self.format, self.output_folder, len(self.annotations))
        cached = getattr(self, "_label_index_cache", None)
        if cached is None or cached[0] != key:
            index: dict[str, dict[str, ImageAnnotation]] = {}
            fmt = get_format(self.format)
            if fmt.per_image:
                from engine.annotations.beside import label_paths

                # per folder: a label path depends on the image's folder and stem only (no stat per image)
                paths = label_paths([a.image_path for a in self.annotations], fmt.label_path, per_folder=True)
                for ann, path in zip(self.annotations, paths):
                    if self.output_folder is not None:
                        path = str(self.output_folder / _relative_to(path, self.folder))
                    directory, name = os.path.split(path)
                    index.setdefault(directory, {})[name] = ann
            cached = self._label_index_cache = (key, index)
        return cached[1]

    # ----------------------------------------------------------------- reading theirs
    def read_from_disk(self, anns: list[ImageAnnotation]) -> dict[Path, tuple[ImageAnnotation, list, object]]:
        """What the label files of ``anns`` hold now, without changing the project: image path -> (annotation,
        its problems, fingerprint). An image without a label file reads as no boxes."""
        fmt = get_format(self.format)
        if not fmt.per_image or not anns:
            return {}
        from engine.annotations.listing import FolderListing

        listing = FolderListing(self.folder)
        listing.set_images([Path(a.image_path) for a in anns])
        listing.splits = self.splits  # known: a layout need not list its whole dataset again
        loaded = LoadedFolder([ImageAnnotation(image_path=Path(a.image_path)) for a in anns], LabelSet(), [],
                              self.format)
        loaded.pixel_origin = self.pixel_origin
        class_list = fmt.class_list_path(self.folder, listing) if fmt.class_list_path is not None else None
        if class_list is not None and os.path.isfile(class_list):
            try:
                loaded.labels = LabelSet(fmt.read_class_list(class_list))  # their ids, as on disk now
            except AnnotationError as exc:
                loaded.errors.append(exc)
        fmt.load(listing, loaded)
        result = {}
        for ann, read in zip(anns, loaded.annotations):
            path = self.label_path(ann)
            problems = [e for e in loaded.errors if Path(e.path) == path]
            result[Path(ann.image_path)] = (read, problems, loaded.fingerprints.get(path))
        return result

    def reload(self, anns: list[ImageAnnotation]) -> list[ImageAnnotation]:
        """Replace ``anns``' boxes by what their label files hold now ("reload theirs"): their unsaved edits are
        dropped. The records stay the same objects (a view showing one keeps showing it). Returns ``anns``."""
        everything = self.read_from_disk(anns)  # one listing of each folder for all of them
        for ann in anns:
            read, problems, fingerprint = everything.get(Path(ann.image_path), (ImageAnnotation(ann.image_path), [], None))
            ann.boxes = list(read.boxes)
            ann.verified = read.verified if get_format(self.format).keeps_verified else ann.verified  # else: settings
            if read.width > 0 and read.height > 0:
                ann.width, ann.height = read.width, read.height
            for box in ann.boxes:
                if box.label not in self.labels:
                    self.labels.add(box.label)
                self._known_classes.add(box.label)
            path = self.label_path(ann)
            if fingerprint is not None:
                self._fingerprints[path] = fingerprint
            else:
                self._fingerprints.pop(path, None)
            self._dirty.discard(Path(ann.image_path))
            self.forget_problems(ann)
            if problems:
                self.add_problems(ann, problems)
        return anns

    def reread_with_pixel_origin(self, origin: int) -> list[ImageAnnotation]:
        """The VOC files were written counting pixels from ``origin`` (0: labelImg, 1: the devkit, supervision,
        Ultralytics' converter): read them again so, and keep that as the project's choice. The files are not
        changed; boxes move by the difference. Refused while images have unsaved edits (save first). Returns the
        images read again. (:meth:`set_pixel_origin` is the other way: boxes stay, files are rewritten.)"""
        if origin not in (0, 1):
            raise ValueError(f"pixel origin must be 0 (labelImg) or 1 (VOC devkit), got {origin!r}")
        if get_format(self.format).pixel_origin is None:
            raise ValueError(f"{get_format(self.format).title} has no pixel origin to choose")
        if self._dirty:
            raise ValueError("save or discard the unsaved edits first: they were drawn, not read")
        if origin == self.pixel_origin:
            return []
        self.pixel_origin = origin
        self._settings_dirty = True
        anns = [a for a in self.annotations if self._fingerprints.get(self.label_path(a)) is not None]
        return self.reload(anns)

    def keep_theirs_aside(self, ann: ImageAnnotation) -> Path | None:
        """"Show both": theirs is kept as ``NAME.conflict`` and counts as read, so the next save writes mine
        without asking again. Returns the copy (None if the file is gone)."""
        from engine.io.atomic import atomic_write_bytes

        path = self.label_path(ann)
        now = fingerprints.of_file(path)
        if now is None:
            self._fingerprints.pop(path, None)
            return None
        copy = path.with_name(path.name + ".conflict")
        atomic_write_bytes(copy, path.read_bytes())
        self._fingerprints[path] = now
        return copy

    # ----------------------------------------------------------------- problems of an image
    def forget_problems(self, ann: ImageAnnotation) -> None:
        self.errors.pop(Path(ann.image_path), None)
        self.problems.pop(Path(ann.image_path), None)

    def add_problems(self, ann: ImageAnnotation, problems: list[AnnotationError]) -> None:
        self.errors.setdefault(Path(ann.image_path), problems[0])
        self.problems.setdefault(Path(ann.image_path), []).extend(problems)

    def problems_by_file(self) -> dict[Path, list[AnnotationError]]:
        """Every problem reading the project, and every box saving clipped or dropped, grouped by the file
        they are about (file order of the images; each bad box its own entry)."""
        grouped: dict[Path, list[AnnotationError]] = {}
        for problems in self.problems.values():
            for problem in problems:
                grouped.setdefault(Path(problem.path), []).append(problem)
        for warning in self.warnings:
            grouped.setdefault(Path(warning.path), []).append(warning)
        return grouped


def _relative_to(path: str, folder: Path) -> str:
    try:
        return Path(path).relative_to(folder).as_posix()
    except ValueError:
        return Path(path).name
