"""A label file another program changed since it was read, met when saving (the engine's ``ChangedOnDisk``).

The question offers: **Reload Theirs** (their file replaces my unsaved edits of that image), **Keep Mine** (mine
is written, theirs kept beside it as ``NAME.conflict``) or **Show Both** (theirs is kept as ``NAME.conflict`` and
drawn over the image as a dashed, read-only overlay; mine stays the image's labels and is saved as usual; Image >
Add Their Boxes copies theirs in, as an undoable paste). Cancel leaves the edit unsaved.

A conflict met by an autosave (leaving an image, the timer) is asked a moment later, not inside the image switch;
leaving the project asks at once. :class:`ConflictResolver` is given to :class:`~resyolo_gui.labelling.saving.SaveFlow`.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSimpleTextItem, QMessageBox, QWidget

from engine.annotations.records import Box
from engine.project.project import ChangedOnDisk

RELOAD, KEEP_MINE, SHOW_BOTH, CANCEL = "reload", "keep_mine", "show_both", "cancel"
RELOAD_BUTTON, KEEP_MINE_BUTTON, SHOW_BOTH_BUTTON = "Reload Theirs", "Keep Mine", "Show Both"
THEIRS_COLOR = "#ff8c00"
OVERLAY_Z = 90_000  # above label boxes, under proposals


def ask_conflict(parent: QWidget | None, failure: ChangedOnDisk) -> str:
    box = QMessageBox(QMessageBox.Warning, "Label file changed on disk",
                      f"{failure.path.name} was changed by another program since ResYOLO read it, and you have "
                      f"unsaved edits of {Path(failure.ann.image_path).name if failure.ann else 'this image'}.\n\n"
                      "Reload Theirs: their file replaces your edits of this image.\n"
                      f"Keep Mine: yours is saved; theirs is kept as {failure.path.name}.conflict.\n"
                      f"Show Both: theirs is drawn dashed over the image (kept as {failure.path.name}.conflict); "
                      "yours stays and is saved.", parent=parent)
    box.setObjectName("changed_on_disk_question")
    buttons = {box.addButton(RELOAD_BUTTON, QMessageBox.DestructiveRole): RELOAD,
               box.addButton(KEEP_MINE_BUTTON, QMessageBox.AcceptRole): KEEP_MINE,
               box.addButton(SHOW_BOTH_BUTTON, QMessageBox.ActionRole): SHOW_BOTH,
               box.addButton(QMessageBox.Cancel): CANCEL}
    box.exec()
    return buttons.get(box.clickedButton(), CANCEL)


class TheirOverlay:
    """Their boxes of one image, dashed and read-only over the canvas (re-added when the canvas redraws it)."""

    def __init__(self, window):
        self.window = window
        self.image_path: Path | None = None
        self.boxes: list[Box] = []
        self.items: list = []

    def show(self, image_path: Path, boxes: list[Box]) -> None:
        self.clear()
        self.image_path, self.boxes = Path(image_path), list(boxes)
        self.sync()

    def clear(self) -> None:
        self._remove_items()
        self.image_path, self.boxes = None, []

    def sync(self) -> None:
        """Draw the overlay if the canvas shows its image (a new image clears the scene: items are re-made)."""
        canvas = self.window.canvas
        ann = canvas.annotation()
        if self.image_path is None or ann is None or Path(ann.image_path) != self.image_path or not canvas.has_image():
            self._remove_items()
            return
        if self.items and all(item.scene() is canvas.scene() for item in self.items):
            return
        self._remove_items()
        pen = QPen(QColor(THEIRS_COLOR), 2, Qt.PenStyle.DotLine)
        pen.setCosmetic(True)
        for box in self.boxes:
            rect = QGraphicsRectItem(box.x1, box.y1, box.width, box.height)
            rect.setPen(pen)
            rect.setZValue(OVERLAY_Z)
            rect.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            rect.setToolTip(f"theirs: {box.label}")
            tag = QGraphicsSimpleTextItem(f"theirs: {box.label}", rect)
            tag.setBrush(QColor(THEIRS_COLOR))
            tag.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
            tag.setPos(box.x1, box.y2)
            canvas.scene().addItem(rect)
            self.items.append(rect)

    def labels(self) -> list[str]:
        return [item.toolTip().removeprefix("theirs: ") for item in self.items]

    def _remove_items(self) -> None:
        for item in self.items:
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.items = []


class ConflictResolver(QObject):
    """Asks what to do about each ``ChangedOnDisk`` save failure and does it (see the module docstring)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.ask = lambda failure: ask_conflict(window, failure)  # tests may answer it
        self.overlay = TheirOverlay(window)
        self._queued: dict[Path, ChangedOnDisk] = {}
        self._asking = False
        self.add_theirs_action = QAction("Add &Their Boxes (changed on disk)", window)
        self.add_theirs_action.setEnabled(False)
        self.add_theirs_action.triggered.connect(lambda _checked=False: self.add_their_boxes())
        image_menu = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Image"), None)
        (image_menu or window.menuBar()).addAction(self.add_theirs_action)
        window.browser.current_changed.connect(lambda _row: QTimer.singleShot(0, self._sync_overlay))
        window.loader.loaded.connect(lambda *_a: QTimer.singleShot(0, self._sync_overlay))
        window.loader.preview_loaded.connect(lambda *_a: QTimer.singleShot(0, self._sync_overlay))

    def project_changed(self, _project) -> None:
        self._queued.clear()
        self.overlay.clear()
        self.add_theirs_action.setEnabled(False)

    # ----------------------------------------------------------------- from the save flow
    def handle(self, failures: list, ask_now: bool = False) -> list:
        """The failures left after dealing with the conflicts among them: asked now (leaving the project), or
        queued and asked as soon as the current event is done (autosave); cancelled ones stay failures."""
        conflicts = [f for f in failures if isinstance(f, ChangedOnDisk) and f.ann is not None]
        if not conflicts:
            return failures
        rest = [f for f in failures if f not in conflicts]
        if ask_now and not self._asking:
            return rest + [f for f in conflicts if not self._resolve(f)]
        for failure in conflicts:
            self._queued[Path(failure.ann.image_path)] = failure
        self.window.statusBar().showMessage(f"{conflicts[0].path.name} was changed on disk by another program", 5000)
        if not self._asking:
            QTimer.singleShot(0, self._ask_queued)
        return rest

    def _ask_queued(self) -> None:
        project = self.window.project
        while self._queued and not self._asking:
            _path, failure = self._queued.popitem()
            ann = failure.ann
            if project is None or not any(a is ann for a in project.annotations) or not project.is_dirty(ann):
                continue  # saved or reloaded meanwhile
            if not project.changed_on_disk([ann]):
                continue  # the other program put it back
            if not self._resolve(failure):
                self.window.statusBar().showMessage(f"Not saved: {failure.path.name} changed on disk; your edits "
                                                    "are kept in memory", 10000)

    def _resolve(self, failure: ChangedOnDisk) -> bool:
        """Ask about one conflict and act; False if cancelled (the edit stays unsaved)."""
        project, ann = self.window.project, failure.ann
        self._asking = True
        try:
            choice = self.ask(failure)
        finally:
            self._asking = False
        if project is not self.window.project or choice == CANCEL:
            return False
        row = next(i for i, a in enumerate(project.annotations) if a is ann)
        if choice == RELOAD:
            project.reload([ann])
            self._refresh(ann)
            self.window.statusBar().showMessage(f"Reloaded {failure.path.name} as the other program wrote it", 8000)
        elif choice == KEEP_MINE:
            project.save(ann, keep_theirs_as_conflict=True)
            self._refresh(ann)
            self.window.statusBar().showMessage(f"Saved yours; theirs is kept as {failure.path.name}.conflict", 8000)
        else:  # SHOW_BOTH
            theirs = project.read_from_disk([ann]).get(Path(ann.image_path))
            copy = project.keep_theirs_aside(ann)
            self.overlay.show(Path(ann.image_path), theirs[0].boxes if theirs else [])
            self.add_theirs_action.setEnabled(True)
            if self.window.browser.current_row() != row:
                QTimer.singleShot(0, lambda: self.window.browser.set_current(row))
            else:
                self.overlay.sync()
            self.window.statusBar().showMessage(
                f"Theirs is drawn dashed (kept as {copy.name if copy else 'nothing: the file is gone'}); yours stays "
                "and is saved. Image > Add Their Boxes copies theirs in.", 15000)
        return True

    def add_their_boxes(self) -> int:
        """Copy their boxes into mine on the shown image (an undoable paste; duplicates skipped)."""
        ann = self.window.current_annotation()
        if ann is None or self.overlay.image_path != Path(ann.image_path):
            return 0
        added = self.window.canvas.paste_boxes(self.overlay.boxes)
        self.window.statusBar().showMessage(f"Added {added} of their box(es)", 4000)
        return added

    def _sync_overlay(self) -> None:
        self.overlay.sync()
        ann = self.window.current_annotation()
        self.add_theirs_action.setEnabled(ann is not None and self.overlay.image_path == Path(ann.image_path))

    def _refresh(self, ann) -> None:
        """An image's labels changed under the view: its row, the class lists, the canvas if it shows it."""
        refresh_after_reload(self.window, [ann])


def refresh_after_reload(window, anns) -> None:
    project = window.project
    row_of = {id(a): row for row, a in enumerate(project.annotations)}
    for ann in anns:
        window.browser.refresh_row(row_of[id(ann)])
    if any(window.current_annotation() is ann for ann in anns):
        window.canvas.refresh_boxes(forget_history=True)  # its undo history holds the replaced records
    window.class_panel.refresh()
    window.browser.refresh_classes()
    window._update_title()
