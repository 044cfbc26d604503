"""The class list of a project: colours, and edits (add, rename, recolour, merge, delete) that reach every image.

:class:`ClassList` is composed into :class:`engine.project.project.Project` as ``project.classes``; it edits the
project's ``labels`` and ``annotations`` and owns the class colours. Class edits change every image in memory and
mark the touched ones dirty (``project.mark_dirty``, ``project.mark_settings_dirty``); nothing is written until the
project saves.
"""
from __future__ import annotations

import weakref
import zlib

# Distinct, readable on light and dark backgrounds; class i gets colour i (overrides in settings).
DEFAULT_PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000", "#aaffc3", "#808000",
    "#ffd8b1", "#000075", "#a9a9a9", "#ffe119",
)


class ClassList:
    """``project.classes``: colours and the edits of the project's class list (see the module docstring)."""

    def __init__(self, project, colors: dict[str, str]):
        # A weak reference: no cycle, so a project dropped without close() is freed at once (and lets go of
        # its folder's lock, see engine.project.lock).
        self._project = weakref.proxy(project)
        self.colors = dict(colors)  # colours chosen by name (the project settings); the rest follow the palette

    @property
    def labels(self):
        return self._project.labels

    @property
    def annotations(self):
        return self._project.annotations

    def _changed(self) -> None:
        self._project.mark_settings_dirty()

    def color_of(self, name: str) -> str:
        if name in self.colors:
            return self.colors[name]
        if name in self.labels:
            index = self.labels.index(name)
        else:  # a label not (yet) in the class list still gets a stable colour
            index = zlib.crc32(name.encode())
        return DEFAULT_PALETTE[index % len(DEFAULT_PALETTE)]

    def add(self, name: str, color: str | None = None) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a class name cannot be empty")
        self.labels.add(name)
        if color:
            self.colors[name] = color
        self._changed()

    def rename(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise ValueError("a class name cannot be empty")
        if new in self.labels and new != old:
            raise ValueError(f"class {new!r} already exists; merge the classes instead")
        self.labels.names[self.labels.index(old)] = new
        if old in self.colors:
            self.colors[new] = self.colors.pop(old)
        self._relabel(old, new)

    def recolor(self, name: str, color: str) -> None:
        self.labels.index(name)  # unknown class: KeyError naming the known ones
        self.colors[name] = color
        self._changed()

    def merge(self, source: str, target: str) -> None:
        """Every ``source`` box becomes ``target``; ``source`` leaves the class list."""
        self.labels.index(target)
        self._remove_from_list(source)
        self._relabel(source, target)

    def delete(self, name: str, reassign_to: str | None) -> None:
        """Remove a class; its boxes go to ``reassign_to``, or are deleted when it is None."""
        if reassign_to is not None:
            self.merge(name, reassign_to)
            return
        self._remove_from_list(name)
        for ann in self.annotations:
            kept = [b for b in ann.boxes if b.label != name]
            if len(kept) != len(ann.boxes):
                ann.boxes[:] = kept
                self._project.mark_dirty(ann)

    def box_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.labels.names, 0)
        for ann in self.annotations:
            for box in ann.boxes:
                counts[box.label] = counts.get(box.label, 0) + 1
        return counts

    def _relabel(self, old: str, new: str) -> None:
        for ann in self.annotations:
            touched = False
            for i, box in enumerate(ann.boxes):
                if box.label == old:
                    ann.boxes[i] = box.copy(label=new)
                    touched = True
            if touched:
                self._project.mark_dirty(ann)
        self._changed()

    def _remove_from_list(self, name: str) -> None:
        index = self.labels.index(name)
        # Pin the colours of the classes after it, so deleting one does not repaint the others.
        for later in self.labels.names[index + 1:]:
            self.colors.setdefault(later, self.color_of(later))
        del self.labels.names[index]
        self.colors.pop(name, None)
        self._changed()
        from engine.annotations.formats import get_format

        if get_format(self._project.format).numbered_classes:  # class ids shift: every file of the format is rewritten
            for ann in self.annotations:
                if ann.boxes:
                    self._project.mark_dirty(ann)
