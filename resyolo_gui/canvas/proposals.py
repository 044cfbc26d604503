"""The proposals layer of the canvas: detector boxes offered as labels, drawn dashed with their scores.

Proposals are not ground truth: they come from a :class:`~engine.inference.autolabel.ProposalStore` (memory only) and
become labels only when accepted, through the canvas's undo commands (so Ctrl+Z takes an accepted box back,
and the proposal reappears because it no longer duplicates a label). Rejecting marks proposals rejected in the
store; that is not an edit of the labels and is not on the undo stack.

Keys: Enter accepts the selected (clicked) or else hovered proposal, Ctrl+Enter accepts all, Del rejects the
selected/hovered one when no label box is selected, Esc rejects all once nothing else is left to cancel. Enter
and Esc also work while focus is in a widget given to :meth:`ProposalLayer.share_keys_with` (the Detect panel,
whose sliders keep the focus after a move).

The proposal under the mouse is the one whose score tag is pointed at, else the smallest one containing the
point: a tag is what the eye aims at, and it may lie over a larger proposal or stick out of its own small box.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QStyleOptionGraphicsItem, QWidget

from engine.inference.autolabel import Proposal, ProposalStore
from resyolo_gui.canvas.box_item import BoxLabelTag, box_rect
from resyolo_gui.canvas.commands import AddBoxesCommand, DeleteBoxesCommand

PROPOSAL_Z = 100_000  # above every label box (their z is their index)


class ProposalItem(QGraphicsRectItem):
    """One proposal: dashed rectangle in its class colour and a "class 0.87" tag. Never takes mouse presses,
    so label boxes under it stay editable; the canvas hit-tests proposals itself."""

    def __init__(self, proposal: Proposal, color: str):
        super().__init__(box_rect(proposal.box))
        self.proposal = proposal
        self.active = False
        self._color = QColor(color)
        self.setZValue(PROPOSAL_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._tag = BoxLabelTag(self)
        self._tag.set_text(f"{proposal.box.label} {proposal.score:.2f}", self._color.darker(130))
        self._tag.setPos(self.rect().bottomLeft())  # inside the bottom-left corner: a label's tag sits on top

    def tag_text(self) -> str:
        return self._tag.text()

    def tag_rect_in_view(self, view) -> QRectF:
        """Where the tag is drawn in ``view``'s viewport pixels (it keeps its screen size at every zoom)."""
        anchor = view.mapFromScene(self.mapToScene(self._tag.pos()))
        return self._tag.boundingRect().translated(anchor.x(), anchor.y())

    def set_active(self, active: bool) -> None:
        if active != self.active:
            self.active = active
            self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pen = QPen(self._color, 3 if self.active else 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        fill = QColor(self._color)
        fill.setAlpha(70 if self.active else 0)
        painter.setBrush(QBrush(fill))
        painter.drawRect(self.rect())


class ProposalLayer(QObject):
    """Owned by the canvas (``canvas.proposal_layer``); shows ``store``'s proposals of the current image."""

    changed = Signal(object)  # ImageAnnotation whose proposals were accepted or rejected

    def __init__(self, canvas):
        super().__init__(canvas)
        self._canvas = canvas
        self.store: ProposalStore | None = None
        self._items: list[ProposalItem] = []
        self._selected: Proposal | None = None
        self._hovered: Proposal | None = None
        self.accept_one_action = self._action("&Accept proposal", ["Return", "Enter"],
                                              Qt.ShortcutContext.WidgetWithChildrenShortcut, self.accept_active)
        self.accept_all_action = self._action("Accept a&ll proposals", ["Ctrl+Return", "Ctrl+Enter"],
                                              Qt.ShortcutContext.WindowShortcut, self.accept_all)
        self.reject_all_action = self._action("&Reject all proposals", [], Qt.ShortcutContext.WindowShortcut,
                                              self.reject_all)
        canvas.addActions([self.accept_one_action, self.accept_all_action, self.reject_all_action])

    def share_keys_with(self, widget: QWidget) -> None:
        """Let Enter (accept one) and Esc (as on the canvas: cancel, else reject all) act while focus is anywhere
        in ``widget``. Ctrl+Enter already works in the whole window."""
        widget.addAction(self.accept_one_action)
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        # An Esc that the focused child left unused (a slider, a button) reaches its parent, the shared widget.
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape and \
                event.modifiers() == Qt.KeyboardModifier.NoModifier and self.proposals():
            self._canvas.escape()
            return True
        return super().eventFilter(watched, event)

    def _action(self, text, keys, context, slot) -> QAction:
        action = QAction(text, self._canvas)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(context)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    # ----------------------------------------------------------------- view
    def proposals(self) -> list[Proposal]:
        return [item.proposal for item in self._items]

    def items(self) -> list[ProposalItem]:
        return list(self._items)

    def forget_items(self) -> None:
        """The scene was cleared (another image): its items are gone."""
        self._items.clear()
        self._selected = self._hovered = None

    def sync(self) -> None:
        """Show the store's proposals for the current image (after an edit, an undo, new thresholds...)."""
        canvas = self._canvas
        for item in self._items:
            canvas.scene().removeItem(item)
        ann = canvas.annotation() if canvas._editable() else None
        shown = self.store.visible(ann) if (self.store is not None and ann is not None) else []
        keys = {p.key() for p in shown}
        if self._selected is not None and self._selected.key() not in keys:
            self._selected = None
        if self._hovered is not None and self._hovered.key() not in keys:
            self._hovered = None
        self._items = []
        for proposal in shown:
            item = ProposalItem(proposal, canvas._project.classes.color_of(proposal.box.label))
            item.setVisible(not canvas.boxes_hidden())
            canvas.scene().addItem(item)
            self._items.append(item)
        self._mark_active()
        enabled = bool(shown)
        for action in (self.accept_one_action, self.accept_all_action, self.reject_all_action):
            action.setEnabled(enabled)
        canvas._update_action_states()

    def proposal_at(self, point: QPointF, view_pos: QPointF | None = None) -> Proposal | None:
        """The proposal whose tag is under ``view_pos`` (viewport pixels, when given), else the smallest visible
        proposal containing ``point`` (scene = image pixels)."""
        tagged = self.proposal_with_tag_at(view_pos) if view_pos is not None else None
        if tagged is not None:
            return tagged
        hits = [i for i in self._items if i.isVisible() and i.rect().contains(point)]
        if not hits:
            return None
        return min(hits, key=lambda i: i.rect().width() * i.rect().height()).proposal

    def proposal_with_tag_at(self, view_pos: QPointF) -> Proposal | None:
        """The proposal whose "class 0.87" tag is under ``view_pos``; of overlapping tags, the one drawn on top."""
        for item in reversed(self._items):  # later items are drawn over earlier ones
            if item.isVisible() and item.tag_rect_in_view(self._canvas).contains(view_pos):
                return item.proposal
        return None

    def select(self, proposal: Proposal | None) -> None:
        self._selected = proposal
        self._mark_active()

    def hover(self, proposal: Proposal | None) -> None:
        if proposal is not self._hovered:
            self._hovered = proposal
            self._mark_active()

    def active(self) -> Proposal | None:
        """The proposal Enter and Del act on: the clicked one, else the one under the mouse."""
        return self._selected or self._hovered

    def _mark_active(self) -> None:
        active = self.active()
        for item in self._items:
            item.set_active(item.proposal is active)

    # ----------------------------------------------------------------- decisions
    def accept_active(self) -> bool:
        proposal = self.active()
        return self.accept([proposal]) if proposal is not None else False

    def accept_all(self) -> bool:
        return self.accept(self.proposals(), replace=True)

    def accept(self, proposals: list[Proposal], replace: bool = False) -> bool:
        """Turn ``proposals`` into labels (one undo step). With ``replace``, the labels the store says these
        proposals replace (auto-labelling asked to replace existing labels) are deleted in the same step."""
        canvas = self._canvas
        if not proposals or not canvas._editable():
            return False
        ann = canvas.annotation()
        boxes = [p.box.copy(**dict(zip(("x1", "y1", "x2", "y2"), canvas._clamped(*p.box.xyxy())))) for p in proposals]
        replaced = self.store.boxes_to_replace(ann) if (replace and self.store is not None) else []
        stack = canvas.undo_stack()
        count = f"{len(boxes)} proposal{'s' if len(boxes) != 1 else ''}"
        stack.beginMacro(f"Accept {count}" + (f", replacing {len(replaced)} box(es)" if replaced else ""))
        if replaced:
            stack.push(DeleteBoxesCommand(ann, replaced, canvas._after_model_edit))
        stack.push(AddBoxesCommand(ann, boxes, canvas._after_model_edit, f"Accept {count}"))
        stack.endMacro()
        self.changed.emit(ann)
        return True

    def reject_active(self) -> bool:
        proposal = self.active()
        return self.reject([proposal]) if proposal is not None else False

    def reject_all(self) -> bool:
        return self.reject(self.proposals())

    def reject(self, proposals: list[Proposal]) -> bool:
        canvas = self._canvas
        if not proposals or self.store is None or not canvas._editable():
            return False
        ann = canvas.annotation()
        self.store.reject(ann, proposals)
        self.sync()
        self.changed.emit(ann)
        return True

    def set_hidden(self, hidden: bool) -> None:
        for item in self._items:
            item.setVisible(not hidden)
