"""The labelling canvas: an image with its ground-truth boxes, edited with the mouse and keys.

Mouse gestures (this module): in draw mode (W) a left drag draws a box; otherwise a press on a box
selects it and a drag moves the selection, a press on a selected box's handle resizes it, and a drag
on empty image makes a rubber-band selection. Middle drag or space + drag pans; the wheel zooms.
Model edits (undo stacks, class keys, paste, ...) live in :mod:`resyolo_gui.canvas.editing`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QImage, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsView, QInputDialog, QMenu, QWidget

from engine.annotations.records import ImageAnnotation
from resyolo_gui.canvas.actions import build_canvas_actions
from resyolo_gui.canvas.box_item import HANDLE_CURSORS, HANDLE_PX, BoxItem, handle_points, resized_rect
from resyolo_gui.canvas.editing import MIN_BOX_SIZE, BoxEditing
from resyolo_gui.canvas.image_view import ImageView
from resyolo_gui.canvas.proposals import ProposalLayer

MIN_DRAG_PX = 4  # a press that moves less than this on screen is a click, not a drawn box
NUDGE_KEYS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}


@dataclass
class _Drawing:
    start: QPointF  # scene, inside the image
    press_view: QPointF
    preview: QGraphicsRectItem


@dataclass
class _Moving:
    press: QPointF  # scene
    items: list[BoxItem]
    start_rects: list[QRectF] = field(default_factory=list)


@dataclass
class _Resizing:
    item: BoxItem
    handle: str
    start_rect: QRectF


class AnnotationCanvas(BoxEditing, ImageView):
    annotation_edited = Signal(object)  # ImageAnnotation whose boxes changed
    selection_changed = Signal(list)  # list[Box]
    current_class_changed = Signal(str)  # the class new boxes get (keys 1-9, or a name typed for the first box)
    classes_changed = Signal()  # the canvas added a class to the project (first box of an empty project)

    def __init__(self, parent: QWidget | None = None):
        ImageView.__init__(self, parent)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self._init_editing()
        self.proposal_layer = ProposalLayer(self)  # detector proposals, apart from the labels
        self._gesture: _Drawing | _Moving | _Resizing | None = None
        self._draw_mode = False
        self._cursor_scene: QPointF | None = None
        # Asked for the first class name when a box is drawn in a project without classes; tests replace it.
        self.ask_class_name: Callable[[], str | None] = self._ask_class_name_dialog
        self.scene().selectionChanged.connect(self._on_selection_changed)
        self.canvas_actions = build_canvas_actions(self)
        self.addActions(self.canvas_actions.all())
        self._update_action_states()

    # ----------------------------------------------------------------- public API
    def set_image(self, rgb: QImage | np.ndarray | None, ann: ImageAnnotation | None, project,
                  message: str | None = None, display_scale: float | None = None) -> None:
        """Show the image ``rgb`` with ``ann``'s boxes, editable through ``project``.

        ``rgb`` is a QImage (the loader makes a ``Format_RGB32`` one in its worker thread, so showing it
        costs the GUI thread almost nothing) or an ``H x W x 3`` uint8 RGB array (converted here). It may
        be a downscaled copy of the image: ``display_scale`` is its size over the full size (default:
        worked out from ``ann.width``). ``rgb=None`` shows ``message`` instead (a corrupt image) and
        nothing can be edited.
        """
        self._cancel_gesture()
        self._items.clear()
        self.proposal_layer.forget_items()  # the scene is cleared below
        if rgb is None:
            self.show_message(message or "No image")
        else:
            width, height = (rgb.width(), rgb.height()) if isinstance(rgb, QImage) else rgb.shape[1::-1]
            if display_scale:
                full_size = (round(width / display_scale), round(height / display_scale))
            else:
                full_size = (ann.width, ann.height) if ann is not None and ann.width > 0 else None
            self.show_image(rgb, full_size)
        self._switch_annotation(ann if rgb is not None else None, project)
        self._sync_items()
        self._update_action_states()

    def is_draw_mode(self) -> bool:
        return self._draw_mode

    def set_draw_mode(self, enabled: bool) -> None:
        self._draw_mode = enabled
        if self.canvas_actions.draw.isChecked() != enabled:
            self.canvas_actions.draw.setChecked(enabled)
        if not enabled:
            self._cancel_gesture()
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if enabled else Qt.CursorShape.ArrowCursor)
        self.viewport().update()

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self._editable():
            super().mousePressEvent(event)
            return
        if self.start_pan(event):
            return
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        point = self.scene_pos(event)
        item, handle = self._handle_at(event.position())
        if item is not None:
            self._gesture = _Resizing(item, handle, item.rect())
            return
        if self._draw_mode:
            self._start_drawing(point, event.position())
            return
        tagged = self.proposal_layer.proposal_with_tag_at(event.position())
        if tagged is not None:  # a click on a proposal's tag picks that proposal, whatever box lies under it
            self.scene().clearSelection()
            self.proposal_layer.select(tagged)
            return
        item = self._box_at(point)
        self.proposal_layer.select(None if item is not None else self.proposal_layer.proposal_at(point))
        if item is None:
            super().mousePressEvent(event)  # empty image (or a proposal): rubber-band selection
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            item.setSelected(not item.isSelected())
            return
        if not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        moving = self._selected_items()
        self._gesture = _Moving(point, moving, [i.rect() for i in moving])

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = self.scene_pos(event)
        self._cursor_scene = point
        self.cursor_moved.emit(point.x(), point.y())
        if self.is_panning():
            self.continue_pan(event)
            return
        gesture = self._gesture
        if isinstance(gesture, _Drawing):
            gesture.preview.setRect(QRectF(gesture.start, self._inside_image(point)).normalized())
        elif isinstance(gesture, _Resizing):
            gesture.item.set_preview_rect(
                resized_rect(gesture.start_rect, gesture.handle, point, self.image_rect(), MIN_BOX_SIZE))
        elif isinstance(gesture, _Moving):
            dx, dy = self._allowed_shift(gesture.start_rects, point.x() - gesture.press.x(),
                                         point.y() - gesture.press.y())
            for item, rect in zip(gesture.items, gesture.start_rects):
                item.set_preview_rect(rect.translated(dx, dy))
        else:
            self._update_hover_cursor(event.position(), point)
            self.proposal_layer.hover(self.proposal_layer.proposal_at(point, event.position()))
            super().mouseMoveEvent(event)
        if self._draw_mode:
            self.viewport().update()  # the crosshair follows the mouse

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.is_panning():
            self.end_pan()
            return
        gesture, self._gesture = self._gesture, None
        if isinstance(gesture, _Drawing):
            self.scene().removeItem(gesture.preview)
            self._finish_drawing(gesture, self._inside_image(self.scene_pos(event)), event.position())
        elif isinstance(gesture, _Resizing):
            self.set_box_geometry([(gesture.item.box, gesture.item.rect())], "Resize box")
        elif isinstance(gesture, _Moving):
            self.set_box_geometry([(i.box, i.rect()) for i in gesture.items], "Move boxes")
        else:
            super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if not self._editable():
            return
        item = self._box_at(self.mapToScene(event.pos()))
        if item is not None and not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        menu = QMenu(self)
        acts = self.canvas_actions
        menu.addActions([acts.draw, acts.duplicate, acts.difficult, acts.delete])
        classes = menu.addMenu("Set class")
        for name in self._project.labels.names:
            classes.addAction(name, lambda n=name: self.set_class_of_selection(n))
        menu.exec(event.globalPos())

    # ----------------------------------------------------------------- keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in NUDGE_KEYS and self._selected_items():
            step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            dx, dy = NUDGE_KEYS[event.key()]
            self.nudge_selection(dx * step, dy * step)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escape()
            event.accept()
            return
        super().keyPressEvent(event)

    def escape(self) -> None:
        """Esc: cancel the gesture, else leave draw mode, else clear the selection, else reject the proposals."""
        if self._gesture is not None:
            self._cancel_gesture()
        elif self._draw_mode:
            self.set_draw_mode(False)
        elif self.scene().selectedItems() or not self.proposal_layer.proposals():
            self.scene().clearSelection()
        else:
            self.proposal_layer.reject_all()

    # ----------------------------------------------------------------- drawing
    def _start_drawing(self, point: QPointF, press_view: QPointF) -> None:
        if not self.image_rect().contains(point):
            return  # a box starts on the image; outside it is a miss, not a box clamped to an edge
        if self.boxes_hidden():
            self.canvas_actions.hide_boxes.setChecked(False)  # the new box must be seen
        self.scene().clearSelection()
        preview = self.scene().addRect(QRectF(point, point), self._preview_pen())
        self._gesture = _Drawing(point, press_view, preview)

    def _finish_drawing(self, gesture: _Drawing, end: QPointF, release_view: QPointF) -> None:
        rect = QRectF(gesture.start, end).normalized()
        dragged = release_view - gesture.press_view
        if max(abs(dragged.x()), abs(dragged.y())) < MIN_DRAG_PX:
            return
        if rect.width() < MIN_BOX_SIZE or rect.height() < MIN_BOX_SIZE:
            return
        self.add_box(rect)

    def _preview_pen(self) -> QPen:
        label = self.current_class()
        color = QColor(self._project.classes.color_of(label)) if label else QColor("white")
        pen = QPen(color, 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        return pen

    def _cancel_gesture(self) -> None:
        gesture, self._gesture = self._gesture, None
        if isinstance(gesture, _Drawing):
            self.scene().removeItem(gesture.preview)
        elif isinstance(gesture, _Resizing):
            gesture.item.set_preview_rect(gesture.start_rect)
        elif isinstance(gesture, _Moving):
            for item, rect in zip(gesture.items, gesture.start_rects):
                item.set_preview_rect(rect)
        if self.is_panning():
            self.end_pan()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """Crosshair lines across the image while in draw mode, to line a box up with object edges."""
        point, image = self._cursor_scene, self.image_rect()
        if not self._draw_mode or point is None or not image.contains(point):
            return
        pen = QPen(QColor(255, 255, 255, 170), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawLine(QPointF(image.left(), point.y()), QPointF(image.right(), point.y()))
        painter.drawLine(QPointF(point.x(), image.top()), QPointF(point.x(), image.bottom()))

    # ----------------------------------------------------------------- hit testing
    def _handle_at(self, view_pos: QPointF) -> tuple[BoxItem | None, str | None]:
        """The selected box whose resize handle is under ``view_pos`` (viewport pixels)."""
        for item in self._selected_items():
            for name, point in handle_points(item.rect()).items():
                distance = self.mapFromScene(point) - view_pos.toPoint()
                if max(abs(distance.x()), abs(distance.y())) <= HANDLE_PX / 2 + 1:
                    return item, name
        return None, None

    def _box_at(self, point: QPointF) -> BoxItem | None:
        """The box under ``point``: a selected one first (so it can be dragged), else the smallest."""
        hits = [i for i in self.scene().items(point) if isinstance(i, BoxItem) and i.isVisible()]
        selected = [i for i in hits if i.isSelected()]
        candidates = selected or hits
        if not candidates:
            return None
        return min(candidates, key=lambda i: i.rect().width() * i.rect().height())

    def _update_hover_cursor(self, view_pos: QPointF, point: QPointF) -> None:
        if self._space_held:
            return
        _item, handle = self._handle_at(view_pos) if self._editable() else (None, None)
        if handle is not None:
            cursor = HANDLE_CURSORS[handle]
        elif self._draw_mode:
            cursor = Qt.CursorShape.CrossCursor
        elif self._editable() and self._box_at(point) is not None:
            cursor = Qt.CursorShape.SizeAllCursor
        else:
            cursor = Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(cursor)

    def _inside_image(self, point: QPointF) -> QPointF:
        image = self.image_rect()
        return QPointF(min(max(point.x(), image.left()), image.right()),
                       min(max(point.y(), image.top()), image.bottom()))

    def _zoom_applied(self) -> None:
        for item in self._items.values():
            item.set_scene_per_pixel(1 / self.zoom())
        super()._zoom_applied()

    def _on_selection_changed(self) -> None:
        self._update_action_states()
        self.selection_changed.emit(self.selected_boxes())

    def _ask_class_name_dialog(self) -> str | None:
        name, ok = QInputDialog.getText(self, "New class", "There are no classes yet. Class of this box:")
        return name if ok else None
