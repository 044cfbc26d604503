"""Undoable edits of one image's boxes.

The :class:`ImageAnnotation` is the truth: every command changes ``ann.boxes`` (or the
:class:`Box` records in it) in ``redo`` and restores exactly the previous records in ``undo``, then
calls ``on_changed(ann)`` so the canvas can mirror the model, mark the image dirty and tell the app.
Boxes are tracked by identity (``is``), never by equality: two boxes may have the same coordinates.
"""
from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtGui import QUndoCommand

from engine.annotations.records import Box, ImageAnnotation

ChangeListener = Callable[[ImageAnnotation], None]
XYXY = tuple[float, float, float, float]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}es" if noun.endswith("x") else f"{count} {noun}s"


class BoxEditCommand(QUndoCommand):
    """Base of the commands: applies or reverts one edit, then reports which image changed."""

    def __init__(self, ann: ImageAnnotation, on_changed: ChangeListener, text: str):
        super().__init__(text)
        self.ann = ann
        self._on_changed = on_changed

    def redo(self) -> None:
        self._apply()
        self._on_changed(self.ann)

    def undo(self) -> None:
        self._revert()
        self._on_changed(self.ann)

    def _apply(self) -> None:
        raise NotImplementedError

    def _revert(self) -> None:
        raise NotImplementedError


class AddBoxesCommand(BoxEditCommand):
    """New boxes appended to the image (a drawn box, or duplicates)."""

    def __init__(self, ann: ImageAnnotation, boxes: Sequence[Box], on_changed: ChangeListener,
                 text: str | None = None):
        super().__init__(ann, on_changed, text or f"Add {_plural(len(boxes), 'box')}")
        self.boxes = list(boxes)

    def _apply(self) -> None:
        self.ann.boxes.extend(self.boxes)

    def _revert(self) -> None:
        added = {id(b) for b in self.boxes}
        self.ann.boxes[:] = [b for b in self.ann.boxes if id(b) not in added]


class PasteBoxesCommand(AddBoxesCommand):
    """Copies of another image's boxes (Ctrl+V: "copy the previous image's boxes")."""

    def __init__(self, ann: ImageAnnotation, boxes: Sequence[Box], on_changed: ChangeListener):
        super().__init__(ann, boxes, on_changed, f"Paste {_plural(len(boxes), 'box')}")


class DeleteBoxesCommand(BoxEditCommand):
    """Boxes removed; undo puts each back at its old place in the list (drawing order is kept)."""

    def __init__(self, ann: ImageAnnotation, boxes: Sequence[Box], on_changed: ChangeListener):
        super().__init__(ann, on_changed, f"Delete {_plural(len(boxes), 'box')}")
        self.boxes = list(boxes)
        self._removed: list[tuple[int, Box]] = []

    def _apply(self) -> None:
        doomed = {id(b) for b in self.boxes}
        self._removed = [(i, b) for i, b in enumerate(self.ann.boxes) if id(b) in doomed]
        self.ann.boxes[:] = [b for b in self.ann.boxes if id(b) not in doomed]

    def _revert(self) -> None:
        for index, box in self._removed:  # ascending indices: each insert lands where it was
            self.ann.boxes.insert(index, box)


class SetGeometryCommand(BoxEditCommand):
    """Boxes moved, resized or nudged: each box gets new corners."""

    def __init__(self, ann: ImageAnnotation, changes: Sequence[tuple[Box, XYXY]], on_changed: ChangeListener,
                 text: str = "Move boxes"):
        super().__init__(ann, on_changed, text)
        self.changes = [(box, box.xyxy(), tuple(new)) for box, new in changes]

    def _apply(self) -> None:
        for box, _old, new in self.changes:
            box.x1, box.y1, box.x2, box.y2 = new

    def _revert(self) -> None:
        for box, old, _new in self.changes:
            box.x1, box.y1, box.x2, box.y2 = old


class SetLabelCommand(BoxEditCommand):
    """Boxes given another class."""

    def __init__(self, ann: ImageAnnotation, boxes: Sequence[Box], label: str, on_changed: ChangeListener):
        super().__init__(ann, on_changed, f"Set class {label!r} on {_plural(len(boxes), 'box')}")
        self.label = label
        self.old_labels = [(b, b.label) for b in boxes]

    def _apply(self) -> None:
        for box, _old in self.old_labels:
            box.label = self.label

    def _revert(self) -> None:
        for box, old in self.old_labels:
            box.label = old


class SetDifficultCommand(BoxEditCommand):
    """Boxes marked (or unmarked) "difficult": kept in the labels, left out of training targets."""

    def __init__(self, ann: ImageAnnotation, boxes: Sequence[Box], difficult: bool, on_changed: ChangeListener):
        verb = "Mark" if difficult else "Unmark"
        super().__init__(ann, on_changed, f"{verb} {_plural(len(boxes), 'box')} difficult")
        self.difficult = difficult
        self.old_flags = [(b, b.difficult) for b in boxes]

    def _apply(self) -> None:
        for box, _old in self.old_flags:
            box.difficult = self.difficult

    def _revert(self) -> None:
        for box, old in self.old_flags:
            box.difficult = old
