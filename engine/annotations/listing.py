"""One pass over a dataset folder: its images, and the file names that label lookups need.

A 10,000-image folder used to cost tens of thousands of ``stat`` calls: one per image (is it a file?)
and one per possible label file (is there an ``a.xml``? an ``a.txt``?). ``os.scandir`` returns the
names and file types of a whole directory in one read, so each directory is listed once and every
later "does this label file exist" is a set lookup.
"""
from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})  # compared lower-case
IMAGES_DIR = "images"
_DIGITS = re.compile(r"(\d+)")


def natural_sort_key(text: str) -> tuple:
    """``img2`` before ``img10``; case-insensitive."""
    parts = _DIGITS.split(str(text).lower())  # text, digits, text, ..., text: the digits at odd places
    parts[1::2] = map(int, parts[1::2])
    return tuple(parts)


def split_path(path: str) -> tuple[str, str]:
    """``os.path.split``, quicker for the usual absolute path without doubled separators (called per image)."""
    directory, sep, name = path.rpartition(os.sep)
    if not directory or directory.endswith(os.sep) or (os.altsep and os.altsep in path):
        return os.path.split(path)
    return directory, name


def split_stem(name: str) -> str:
    """``os.path.splitext(name)[0]`` for a file name (no folder), quicker for the usual ``stem.ext``."""
    dot = name.rfind(".")
    if dot <= 0 or name.startswith("."):
        return os.path.splitext(name)[0]
    return name[:dot]


def is_image_name(name: str) -> bool:
    """An image by its extension; dot files are not (macOS leaves ``._name.jpg`` companions on shared drives)."""
    dot = name.rfind(".")  # a name not starting with a dot: its extension is from the last dot (as splitext)
    return dot > 0 and not name.startswith(".") and name[dot:].lower() in IMAGE_EXTENSIONS


class FolderListing:
    """The images directly in ``folder`` and anywhere under ``folder/images/`` (natural order of their
    path relative to ``folder``), plus a cache of the regular files of each directory looked at."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self._files_in: dict[str, frozenset[str]] = {}
        self._dirs_in: dict[str, frozenset[str]] = {}
        self.problems: list = []  # AnnotationError per entry that cannot be looked at (symlink loop, no access)
        self.splits: dict | None = None  # the dataset's own splits, once a layout has listed them (or was told)

    @cached_property
    def top_level_image_names(self) -> list[str]:
        folder = str(self.folder)
        if folder not in self._files_in:
            self._scan(folder, recursive=False)  # an unreadable dataset folder is an error, not an empty one
        return [name for name in self._files_in[folder] if is_image_name(name)]

    @cached_property
    def _found(self) -> list[tuple[str, str]]:
        """(path relative to the folder with ``/``, absolute path) of each image found here, in no order."""
        folder = str(self.folder)
        found = [(name, folder + os.sep + name) for name in self.top_level_image_names]
        below_texts = []
        images_dir = self.folder / IMAGES_DIR
        if images_dir.is_dir():
            base = len(folder) + 1
            try:
                below = self._scan(str(images_dir), recursive=True)
            except OSError:  # unreadable images/ folder: skipped, as Path.rglob does
                below = []
            for path in below:
                if is_image_name(os.path.basename(path)):
                    found.append((path[base:].replace(os.sep, "/"), path))
                    below_texts.append(path)
        self.__dict__["_below_texts"] = below_texts  # images_by_folder: the top level is known without a split
        return found

    @cached_property
    def image_texts(self) -> list[str]:
        """:attr:`images` as strings (absolute paths): what per-image lookups use, no Path per image."""
        return [path for _, path in sorted(self._found, key=lambda item: natural_sort_key(item[0]))]

    def image_count(self) -> int:
        return len(self.__dict__["image_texts"]) if "image_texts" in self.__dict__ else len(self._found)

    def first_image_text(self) -> str | None:
        """``image_texts[0]`` without sorting them all (a quick look at a large folder)."""
        if "image_texts" in self.__dict__:
            return self.image_texts[0] if self.image_texts else None
        found = self._found
        return min(found, key=lambda item: natural_sort_key(item[0]))[1] if found else None

    @cached_property
    def images(self) -> list[Path]:
        """The images: directly in the folder and anywhere under ``images/``, in natural order. A layout with its
        own list sets this (and :meth:`set_images`)."""
        return [Path(text) for text in self.image_texts]

    def images_by_folder(self) -> dict[str, list[str]]:
        """The image names of each folder (as strings; in no particular order: for counting and lookups)."""
        cached = self.__dict__.get("_images_by_folder")
        if cached is None:
            cached = self.__dict__["_images_by_folder"] = {}
            if "image_texts" in self.__dict__ and "_found" not in self.__dict__:  # a layout's own list
                texts = self.image_texts
            else:  # listed here: the top-level names need no split, nor a sort
                self._found
                if self.top_level_image_names:
                    cached[str(self.folder)] = list(self.top_level_image_names)
                texts = self.__dict__["_below_texts"]
            for text in texts:
                directory, name = split_path(text)
                cached.setdefault(directory, []).append(name)
        return cached

    def stems_by_folder(self) -> dict[str, list[str]]:
        """:meth:`images_by_folder` without the extensions (``a.jpg`` -> ``a``), for label file lookups."""
        cached = self.__dict__.get("_stems_by_folder")
        if cached is None:
            cached = self.__dict__["_stems_by_folder"] = {
                directory: [split_stem(name) for name in names] for directory, names in self.images_by_folder().items()}
        return cached

    def set_images(self, images: list[Path] | list[str]) -> None:
        """The dataset's images are these (a layout that lists its own; Paths or path strings): lookups computed
        for others are forgotten."""
        for derived in ("images", "image_texts", "_label_paths", "_images_by_folder", "_stems_by_folder",
                        "_below_texts", "_found"):
            self.__dict__.pop(derived, None)
        self.__dict__["image_texts"] = [image if isinstance(image, str) else str(image) for image in images]
        if images and not isinstance(images[0], str):  # Paths: kept (the same objects)
            self.__dict__["images"] = [image if isinstance(image, Path) else Path(image) for image in images]

    def has_file(self, path: Path | str) -> bool:
        """Is ``path`` a regular file (or a link to one)? Lists its directory on first use."""
        directory, name = split_path(str(path))
        return name in self.files_in(directory)

    def files_in(self, directory: str) -> frozenset[str]:
        """Names of the regular files in ``directory`` (empty if it does not exist or cannot be read)."""
        names = self._files_in.get(directory)
        if names is None:
            try:
                self._scan(directory, recursive=False)
            except OSError:
                self._files_in[directory] = frozenset()
            names = self._files_in[directory]
        return names

    def has_dir(self, path: Path | str) -> bool:
        """Is ``path`` a folder (not following links)? Lists its parent on first use."""
        directory, name = os.path.split(str(path))
        self.files_in(directory)
        return name in self._dirs_in.get(directory, frozenset())

    def _scan(self, directory: str, recursive: bool) -> list[str]:
        """Record the files of ``directory`` (and, if ``recursive``, of every folder below it, not following
        links to folders, as ``Path.rglob`` does). Returns the top-level file names, or with ``recursive``
        every file's full path."""
        names, paths, subdirectories, dir_names = [], [], [], []
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    if entry.is_file():
                        names.append(entry.name)
                        paths.append(entry.path)
                    elif entry.is_dir(follow_symlinks=False):
                        dir_names.append(entry.name)
                        if recursive:
                            subdirectories.append(entry.path)
                except OSError as exc:  # a symlink loop, a dangling network mount: that entry only
                    from engine.annotations.records import AnnotationError

                    self.problems.append(AnnotationError(entry.path, f"skipped: {exc.strerror or exc}"))
        self._files_in[directory] = frozenset(names)
        self._dirs_in[directory] = frozenset(dir_names)
        for subdirectory in subdirectories:
            try:
                paths += self._scan(subdirectory, recursive=True)
            except OSError as exc:  # an unreadable subfolder: one named problem, the rest is listed
                from engine.annotations.records import AnnotationError

                self.problems.append(AnnotationError(subdirectory, f"folder skipped: {exc.strerror or exc}"))
        return paths if recursive else names
