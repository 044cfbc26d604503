"""The model side of the labelling canvas: box edits as undo commands, one undo stack per image.

A mixin of :class:`~resyolo_gui.canvas.view.AnnotationCanvas` (kept apart from the mouse handling).
``ann.boxes`` is the truth: every edit is a command from :mod:`.commands` that changes the records;
afterwards :meth:`_after_model_edit` marks the image dirty, mirrors the records in the box items and
emits ``annotation_edited``. Undo stacks live as long as the canvas, keyed by image path, so going
back to an image keeps its history.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QRectF
from PySide6.QtGui import QUndoGroup, QUndoStack

from engine.annotations.records import Box, ImageAnnotation
from resyolo_gui.canvas.box_item import BoxItem, box_rect
from resyolo_gui.canvas.commands import (AddBoxesCommand, BoxEditCommand, DeleteBoxesCommand, PasteBoxesCommand,
                                         SetDifficultCommand, SetGeometryCommand, SetLabelCommand)

MIN_BOX_SIZE = 2.0  # image pixels; smaller boxes are slips of the mouse and useless to a detector
DUPLICATE_OFFSET = 10.0  # image pixels, so a duplicate is visibly a second box


class BoxEditing:
    def _init_editing(self) -> None:
        self._ann: ImageAnnotation | None = None
        self._project = None
        self._items: dict[int, BoxItem] = {}  # id(box) -> its item
        self._undo_group = QUndoGroup(self)
        self._stacks: dict[Path, tuple[ImageAnnotation, QUndoStack]] = {}
        self._current_class: str | None = None
        self._boxes_hidden = False

    # ----------------------------------------------------------------- state
    def annotation(self) -> ImageAnnotation | None:
        return self._ann

    def undo_stack(self) -> QUndoStack | None:
        """The current image's undo stack (None while no editable image is shown)."""
        return self._undo_group.activeStack()

    def undo_group(self) -> QUndoGroup:
        return self._undo_group

    def current_class(self) -> str | None:
        return self._current_class

    def set_current_class(self, name: str | None) -> None:
        """The class a newly drawn box gets."""
        if name != self._current_class:
            self._current_class = name
            self.current_class_changed.emit(name or "")

    def selected_boxes(self) -> list[Box]:
        return [item.box for item in self._selected_items()]

    def select_boxes(self, boxes: Sequence[Box]) -> None:
        wanted = {id(b) for b in boxes}
        self.scene().clearSelection()
        for key, item in self._items.items():
            if key in wanted and item.isVisible():
                item.setSelected(True)

    def box_items(self) -> list[BoxItem]:
        """The items in the order of ``ann.boxes``."""
        return sorted(self._items.values(), key=lambda i: i.zValue())

    def boxes_hidden(self) -> bool:
        return self._boxes_hidden

    def set_boxes_hidden(self, hidden: bool) -> None:
        """Hide the boxes to look at the image underneath; hidden boxes cannot be selected."""
        self._boxes_hidden = hidden
        if self.canvas_actions.hide_boxes.isChecked() != hidden:
            self.canvas_actions.hide_boxes.setChecked(hidden)
        if hidden:
            self.scene().clearSelection()
        for item in self._items.values():
            item.setVisible(not hidden)
        self.proposal_layer.set_hidden(hidden)

    def refresh_boxes(self, forget_history: bool = True) -> None:
        """Mirror the model again after it changed outside the canvas (the class panel).

        Renaming, merging or deleting a class replaces :class:`Box` records in every image, so the
        undo histories, which hold the old records, are dropped unless ``forget_history`` is False
        (enough after a recolour).
        """
        if forget_history:
            self.forget_history()
        self._sync_items()

    def forget_history(self) -> None:
        for _ann, stack in self._stacks.values():
            self._undo_group.removeStack(stack)
            stack.deleteLater()
        self._stacks.clear()
        if self._ann is not None:
            self._activate_stack_for(self._ann)

    # ----------------------------------------------------------------- edits
    def add_box(self, rect: QRectF) -> Box | None:
        """A new box of the current class (asking for a first class name if the project has none)."""
        label = self._label_for_new_box()
        if label is None:
            return None
        x1, y1, x2, y2 = self._clamped(rect.left(), rect.top(), rect.right(), rect.bottom())
        box = Box(label, x1, y1, x2, y2)
        self._push(AddBoxesCommand(self._ann, [box], self._after_model_edit, f"Draw {label!r} box"))
        self.select_boxes([box])
        return box

    def set_box_geometry(self, changes: Sequence[tuple[Box, QRectF]], text: str) -> None:
        """Give boxes new rectangles (a finished move or resize) as one undo step."""
        moved = []
        for box, rect in changes:
            new = self._clamped(rect.left(), rect.top(), rect.right(), rect.bottom())
            if new != box.xyxy():
                moved.append((box, new))
        if moved:
            self._push(SetGeometryCommand(self._ann, moved, self._after_model_edit, text))
        else:
            self._sync_items()  # a drag that ended where it began: drop the preview

    def nudge_selection(self, dx: float, dy: float) -> None:
        boxes = self.selected_boxes()
        rects = [box_rect(b) for b in boxes]
        dx, dy = self._allowed_shift(rects, dx, dy)
        if boxes and (dx or dy):
            self.set_box_geometry([(b, r.translated(dx, dy)) for b, r in zip(boxes, rects)], "Nudge boxes")

    def delete_selection(self) -> None:
        """Del: delete the selected boxes; with none selected, reject the selected or hovered proposal."""
        boxes = self.selected_boxes()
        if boxes:
            self._push(DeleteBoxesCommand(self._ann, boxes, self._after_model_edit))
        else:
            self.proposal_layer.reject_active()

    def duplicate_selection(self) -> None:
        """Copies of the selected boxes, offset so they can be told apart; the copies become the selection."""
        boxes = self.selected_boxes()
        if not boxes:
            return
        copies = []
        for box in boxes:
            dx, dy = self._allowed_shift([box_rect(box)], DUPLICATE_OFFSET, DUPLICATE_OFFSET)
            copies.append(box.copy(x1=box.x1 + dx, y1=box.y1 + dy, x2=box.x2 + dx, y2=box.y2 + dy))
        self._push(AddBoxesCommand(self._ann, copies, self._after_model_edit, "Duplicate boxes"))
        self.select_boxes(copies)

    def paste_boxes(self, boxes: Sequence[Box]) -> int:
        """Add copies of ``boxes`` (another image's), cut to this image. Boxes already here (same class
        and corners) are skipped, so pasting twice does not double them. Returns how many were added."""
        if not self._editable():
            return 0
        present = {(b.label, b.xyxy()) for b in self._ann.boxes}
        copies = []
        for box in boxes:
            x1, y1, x2, y2 = self._clamped(*box.xyxy())
            if x2 - x1 < MIN_BOX_SIZE or y2 - y1 < MIN_BOX_SIZE or (box.label, (x1, y1, x2, y2)) in present:
                continue
            copies.append(box.copy(x1=x1, y1=y1, x2=x2, y2=y2))
            present.add((box.label, (x1, y1, x2, y2)))
        if copies:
            self._push(PasteBoxesCommand(self._ann, copies, self._after_model_edit))
            self.select_boxes(copies)
        return len(copies)

    def set_class_by_index(self, index: int) -> None:
        """Keys 1-9: class ``index`` (0-based) becomes the current class and that of the selected boxes."""
        names = self._project.labels.names if self._project is not None else []
        if 0 <= index < len(names):
            self.set_current_class(names[index])
            self.set_class_of_selection(names[index])

    def set_class_of_selection(self, label: str) -> None:
        boxes = [b for b in self.selected_boxes() if b.label != label]
        if boxes:
            self._push(SetLabelCommand(self._ann, boxes, label, self._after_model_edit))

    def set_difficult_of_selection(self, difficult: bool) -> None:
        boxes = [b for b in self.selected_boxes() if b.difficult != difficult]
        if boxes:
            self._push(SetDifficultCommand(self._ann, boxes, difficult, self._after_model_edit))

    def toggle_difficult(self) -> None:
        """Mark the selection difficult, or unmark it when every selected box already is."""
        boxes = self.selected_boxes()
        self.set_difficult_of_selection(not all(b.difficult for b in boxes))

    # ----------------------------------------------------------------- internals
    def set_view_only(self, view_only: bool) -> None:
        """Show the boxes but take no edit (a large folder's first image while its labels are still being read:
        that project is a preview, replaced by the real one)."""
        self._view_only = view_only
        self.scene().clearSelection()
        self._sync_items()
        self._update_action_states()

    def is_view_only(self) -> bool:
        return getattr(self, "_view_only", False)

    def _editable(self) -> bool:
        return not self.is_view_only() and self._shows_boxes()

    def _shows_boxes(self) -> bool:
        return self._ann is not None and self._project is not None and self.has_image()

    def _switch_annotation(self, ann: ImageAnnotation | None, project) -> None:
        if project is not self._project:  # another project: its records are other objects
            self._project = project
            self._ann = None
            self.forget_history()
        self._ann = ann
        if ann is None:
            self._undo_group.setActiveStack(None)
        else:
            self._activate_stack_for(ann)

    def _activate_stack_for(self, ann: ImageAnnotation) -> None:
        key = Path(ann.image_path)
        entry = self._stacks.get(key)
        if entry is None or entry[0] is not ann:
            stack = QUndoStack(self)
            self._undo_group.addStack(stack)
            entry = self._stacks[key] = (ann, stack)
        self._undo_group.setActiveStack(entry[1])

    def _push(self, command: BoxEditCommand) -> None:
        self.undo_stack().push(command)

    def _after_model_edit(self, ann: ImageAnnotation) -> None:
        if self._project is not None:
            self._project.mark_dirty(ann)
        if ann is self._ann:
            self._sync_items()
        self.annotation_edited.emit(ann)

    def _sync_items(self) -> None:
        """Make the items mirror ``ann.boxes``: drop items of removed boxes, add new ones, refresh all."""
        boxes = self._ann.boxes if self._shows_boxes() else []
        alive = {id(b): b for b in boxes}
        for key, item in list(self._items.items()):
            if alive.get(key) is not item.box:
                self.scene().removeItem(item)
                del self._items[key]
        for order, box in enumerate(boxes):
            item = self._items.get(id(box))
            if item is None:
                item = self._items[id(box)] = BoxItem(box)
                item.set_scene_per_pixel(1 / self.zoom())
                self.scene().addItem(item)
            item.setZValue(order)
            item.setVisible(not self._boxes_hidden)
            text = f"{box.label} (difficult)" if box.difficult else box.label
            item.show_box(self._project.classes.color_of(box.label), text)
        self.proposal_layer.sync()  # an accepted or undone box hides or brings back its proposal
        self._update_action_states()

    def _selected_items(self) -> list[BoxItem]:
        if self.is_view_only():
            return []
        items = [i for i in self.scene().selectedItems() if isinstance(i, BoxItem)]
        return sorted(items, key=lambda i: i.zValue())

    def _label_for_new_box(self) -> str | None:
        names = self._project.labels.names
        if self._current_class in names:
            return self._current_class
        if names:
            self.set_current_class(names[0])
            return names[0]
        name = (self.ask_class_name() or "").strip()
        if not name:
            return None  # cancelled: no box without a class
        self._project.classes.add(name)
        self.set_current_class(name)
        self.classes_changed.emit()
        return name

    def _clamped(self, x1: float, y1: float, x2: float, y2: float) -> tuple[float, float, float, float]:
        image = self.image_rect()
        x1, x2 = sorted((min(max(x1, 0.0), image.width()), min(max(x2, 0.0), image.width())))
        y1, y2 = sorted((min(max(y1, 0.0), image.height()), min(max(y2, 0.0), image.height())))
        return (x1, y1, x2, y2)

    def _allowed_shift(self, rects: Sequence[QRectF], dx: float, dy: float) -> tuple[float, float]:
        """(dx, dy) cut so that every rect stays inside the image."""
        if not rects:
            return 0.0, 0.0
        union = QRectF(rects[0])
        for rect in rects[1:]:
            union = union.united(rect)
        image = self.image_rect()
        dx = min(max(dx, image.left() - union.left()), image.right() - union.right())
        dy = min(max(dy, image.top() - union.top()), image.bottom() - union.bottom())
        return dx, dy

    def _update_action_states(self) -> None:
        acts = self.canvas_actions
        editable, selected = self._editable(), self._selected_items()
        for action in (acts.delete, acts.duplicate, acts.difficult):
            action.setEnabled(bool(selected))
        if self.proposal_layer.proposals():
            acts.delete.setEnabled(True)  # Del rejects the selected or hovered proposal
        acts.difficult.setChecked(bool(selected) and all(i.box.difficult for i in selected))
        for action in (acts.draw, acts.hide_boxes, *acts.set_class):
            action.setEnabled(editable)
        for action in (acts.zoom_in, acts.zoom_out, acts.fit, acts.actual_size):
            action.setEnabled(self.has_image())
