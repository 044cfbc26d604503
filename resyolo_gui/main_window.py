"""The labelling window: wires the image browser, canvas, class panel, loader and project together.

Behaviour lives in the widgets and in :mod:`engine.project`; this file only connects them, holds
the menus, and decides when to save (leaving an image, a timer, closing).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QWidget

from engine.project import Project, ProjectError, SaveError
from resyolo_gui import dialogs
from resyolo_gui.browser import ImageBrowser
from resyolo_gui.canvas import AnnotationCanvas
from resyolo_gui.classes import ClassPanel
from resyolo_gui.icons import icon
from resyolo_gui.loader import ImageLoader
from resyolo_gui.settings import AppSettings

AUTOSAVE_MS = 30_000


class MainWindow(QMainWindow):
    first_image_shown = Signal()  # the first image of a project is on screen (--screenshot waits for it)

    def __init__(self, project: Project | None, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.project: Project | None = None
        self.save_failures: list[SaveError] = []
        self._warned_save_failure = False
        self.setWindowIcon(icon("app"))
        self.loader = ImageLoader(self)
        self.loader.loaded.connect(self._on_image_loaded)
        self.canvas = AnnotationCanvas(self)
        self.setCentralWidget(self.canvas)
        self.browser = ImageBrowser(self)
        self.browser.current_changed.connect(self._on_current_changed)
        self.class_panel = ClassPanel(self)
        docks = [self._add_dock("Images", self.browser, Qt.LeftDockWidgetArea),
                 self._add_dock("Classes", self.class_panel, Qt.RightDockWidgetArea)]
        self.resizeDocks(docks, [270, 230], Qt.Horizontal)  # the image gets the room
        self._connect_editing_signals()
        self._build_status_bar()
        self._build_menus()
        self.autosave_timer = QTimer(self, interval=AUTOSAVE_MS, timeout=self.autosave)
        self.autosave_timer.start()
        geometry, state = settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 800)
        if state is not None:
            self.restoreState(state)
        self.set_project(project)

    # ----------------------------------------------------------------- project
    def set_project(self, project: Project | None) -> None:
        self.loader.clear()
        self.project = project
        self.save_failures = []
        self._first_shown = False
        self._current_row = self._previous_row = -1
        self._shown_path = None
        if project is None:
            self.canvas.set_image(None, None, None, "Open a folder of images with File > Open Folder (Ctrl+O).")
            self._update_title()
            return
        self.browser.set_project(project)
        self.class_panel.set_project(project)
        if project.errors:
            self.statusBar().showMessage(f"{len(project.errors)} label file(s) could not be read: "
                                         "left untouched; see File > Problems", 15000)
        if project.annotations:
            self.browser.set_current(0)
        else:
            self.canvas.set_image(None, None, project, f"No images found in {project.folder}")
        self._update_title()

    def open_folder(self, folder: Path | str | None = None) -> bool:
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Open a folder of images")
            if not folder:
                return False
        if not self.save_before_leaving():
            return False
        try:
            project = Project.open(folder)
        except ProjectError as exc:
            QMessageBox.warning(self, "Cannot open folder", str(exc))
            self.settings.remove_recent_folder(Path(folder))
            self._fill_recent_menu()
            return False
        self.settings.add_recent_folder(project.folder)
        self._fill_recent_menu()
        self.set_project(project)
        return True

    def current_annotation(self):
        row = self.browser.current_row()
        return self.project.annotations[row] if self.project and row >= 0 else None

    # ----------------------------------------------------------------- images
    def _on_current_changed(self, row: int) -> None:
        self.autosave(leaving=self._current_row)
        self._previous_row, self._current_row = self._current_row, row
        ann = self.project.annotations[row]
        cached = self.loader.cached(ann.image_path)
        if cached is not None:
            self._show(ann, *cached)
        else:
            self.canvas.set_image(None, ann, self.project, f"Loading {Path(ann.image_path).name}…")
        self.loader.request(ann.image_path)
        self.loader.prefetch([self.project.annotations[r].image_path for r in self.browser.neighbours(2)])
        self.position_label.setText(f"Image {row + 1:,} of {len(self.project.annotations):,}")
        error = self.project.errors.get(Path(ann.image_path))
        if error is not None:
            self.statusBar().showMessage(f"Label file not read, left untouched until you edit: {error}")
        self._update_title()

    def _on_image_loaded(self, path: str, rgb, full_size, message: str) -> None:
        ann = self.current_annotation()
        if ann is not None and str(ann.image_path) == path  and self._shown_path != path:
            self._show(ann, rgb, full_size, message)

    def _show(self, ann, rgb, full_size, message: str) -> None:
        if rgb is not None and full_size[0] > 0:
            ann.width, ann.height = full_size  # sizes come lazily: only images actually opened are measured
        self._shown_path = str(ann.image_path)
        self.canvas.set_image(rgb, ann, self.project, message or None)
        if not self._first_shown:
            self._first_shown = True
            self.first_image_shown.emit()

    def step(self, delta: int) -> None:
        if self.project is not None and not self.browser.step(delta):
            self.statusBar().showMessage("Last image" if delta > 0 else "First image", 2000)

    def paste_previous_boxes(self) -> None:
        """Copy the boxes of the image shown before this one (consecutive video frames, near-duplicates)."""
        if self.project is not None and self._previous_row >= 0:
            pasted = self.canvas.paste_boxes(self.project.annotations[self._previous_row].boxes)
            self.statusBar().showMessage(f"Pasted {pasted} box(es)", 2000)

    def toggle_verified(self) -> None:
        ann = self.current_annotation()
        if ann is not None:
            ann.verified = not ann.verified
            self._annotation_edited(ann)
            self.statusBar().showMessage("Marked verified" if ann.verified else "Verified mark removed", 2000)

    # ----------------------------------------------------------------- saving
    def _annotation_edited(self, ann) -> None:
        self.project.mark_dirty(ann)
        self.browser.refresh_row(self.project.annotations.index(ann))
        self.class_panel.refresh()
        self._update_title()

    def autosave(self, leaving: int | None = None) -> None:
        """Leaving an image (row ``leaving``) saves it; the timer saves everything. Failures keep edits in memory."""
        if self.project is None or not self.project.has_unsaved_changes():
            return
        if leaving is not None:
            if leaving < 0:
                return
            try:
                self.project.save(self.project.annotations[leaving])
                failures = []
            except SaveError as exc:
                failures = [exc]
        else:
            failures = self.project.save_all()
        self._after_save(failures)

    def save(self) -> None:
        if self.project is not None:
            self._after_save(self.project.save_all())

    def save_to(self) -> bool:
        """Write every label to another folder (the way out of a read-only folder); later saves go there too."""
        folder = QFileDialog.getExistingDirectory(self, "Save labels to folder")
        if not folder:
            return False
        self.project.output_folder = Path(folder)
        for ann in self.project.annotations:
            if ann.boxes or ann.verified or self.project.is_dirty(ann):
                self.project.mark_dirty(ann)
        self._warned_save_failure = False
        self._after_save(self.project.save_all())
        self.statusBar().showMessage(f"Labels are now saved to {folder}", 8000)
        return not self.save_failures

    def save_before_leaving(self) -> bool:
        """Save everything; if that fails ask retry / save elsewhere / discard / cancel. False: stay."""
        while self.project is not None and self.project.has_unsaved_changes():
            failures = self.project.save_all()
            self._after_save(failures)
            if not failures:
                break
            choice = dialogs.ask_save_failure(self, failures)
            if choice == dialogs.DISCARD:
                break
            if choice == dialogs.CANCEL:
                return False
            if choice == dialogs.SAVE_ELSEWHERE:
                self.save_to()
        return True

    def _after_save(self, failures: list[SaveError]) -> None:
        self.save_failures = failures
        row = self.browser.current_row()
        if row >= 0:
            self.browser.refresh_row(row)
        self._update_title()
        if not failures:
            return
        self.statusBar().showMessage(f"Could not save {failures[0].path}: {failures[0].reason}. "
                                     "Edits are kept in memory; use File > Save To… to write them elsewhere.")
        if not self._warned_save_failure:  # tell once, without blocking (autosave can fail every 30 s)
            self._warned_save_failure = True
            box = QMessageBox(QMessageBox.Warning, "Cannot save labels",
                              f"{failures[0]}\n\nYour edits are kept in memory. Use File > Save To… to write "
                              "the labels to another folder.", QMessageBox.Ok, self)
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.open()

    def export_coco(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export COCO JSON", str(self.project.folder / "annotations.json"),
                                              "COCO JSON (*.json)")
        if path:
            skipped = self.project.export_coco(path)
            note = f"; {len(skipped)} unreadable image(s) left out" if skipped else ""
            self.statusBar().showMessage(f"Exported {path}{note}", 8000)

    def set_label_format(self, label_format: str) -> None:
        self.project.set_format(label_format)
        self._update_title()

    def closeEvent(self, event) -> None:
        if not self.save_before_leaving():
            event.ignore()
            return
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.loader.clear()
        event.accept()

    # ----------------------------------------------------------------- view
    def show_problems(self) -> None:
        problems = [str(e) for e in self.project.errors.values()] if self.project else []
        problems += [f"not saved: {f}" for f in self.save_failures]
        dialogs.ProblemsDialog(problems, self).open()

    def show_shortcuts(self) -> None:
        dialogs.ShortcutsDialog(self.findChildren(QAction) + self.canvas.actions(), self).open()

    def _update_title(self) -> None:
        ann = self.current_annotation()
        parts = ([Path(ann.image_path).name + "[*]"] if ann is not None else []) + \
                ([self.project.folder.name] if self.project else []) + ["ResYOLO"]
        if ann is None and self.project is not None:
            parts[0] += "[*]"
        self.setWindowTitle(" — ".join(parts))
        self.setWindowModified(bool(self.project and self.project.has_unsaved_changes()))

    def _connect_editing_signals(self) -> None:
        self.canvas.annotation_edited.connect(self._annotation_edited)
        self.canvas.cursor_moved.connect(lambda x, y: self.cursor_label.setText(f"x {x:.0f}, y {y:.0f}"))
        self.canvas.zoom_changed.connect(lambda zoom: self.zoom_label.setText(f"{zoom * 100:.0f}%"))
        self.canvas.selection_changed.connect(self._on_selection)
        self.canvas.classes_changed.connect(self._on_classes_changed)
        self.canvas.current_class_changed.connect(lambda name: self.class_panel.set_current_class(name or None))
        self.class_panel.classes_changed.connect(self._on_classes_changed)
        self.class_panel.class_chosen.connect(self.canvas.set_current_class)

    def _on_selection(self, boxes) -> None:
        text = f"box {boxes[0].width:.0f} × {boxes[0].height:.0f}" if len(boxes) == 1 else \
            (f"{len(boxes)} boxes" if boxes else "")
        self.box_label.setText(text)

    def _on_classes_changed(self) -> None:
        self.canvas.refresh_boxes(forget_history=True)  # a rename or merge changed boxes under the canvas
        self.class_panel.refresh()
        self.browser.refresh_classes()
        self.browser.model.layoutChanged.emit()  # labels and counts of many rows may have changed
        self._update_title()

    def _add_dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        self.position_label, self.zoom_label, self.cursor_label, self.box_label = (QLabel(self) for _ in range(4))
        for label in (self.box_label, self.cursor_label, self.zoom_label, self.position_label):
            self.statusBar().addPermanentWidget(label)

    def _action(self, menu, text: str, slot, keys=(), icon_name: str | None = None) -> QAction:
        action = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Open Folder…", self.open_folder, [QKeySequence.Open], "open")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._fill_recent_menu()
        file_menu.addSeparator()
        self._action(file_menu, "&Save", self.save, [QKeySequence.Save], "save")
        self._action(file_menu, "Save &To…", self.save_to, ["Ctrl+Shift+S"], "save-to")
        self._action(file_menu, "&Export COCO JSON…", self.export_coco, ["Ctrl+E"], "export")
        format_menu = file_menu.addMenu("Label &Format")
        self.format_actions = {}
        for fmt, text in (("voc", "Pascal VOC XML (default)"), ("yolo", "YOLO txt")):
            action = self._action(format_menu, text, lambda f=fmt: self.set_label_format(f))
            action.setCheckable(True)
            self.format_actions[fmt] = action
        format_menu.aboutToShow.connect(lambda: [a.setChecked(self.project is not None and self.project.format == f)
                                                 for f, a in self.format_actions.items()])
        file_menu.addSeparator()
        self._action(file_menu, "&Problems…", self.show_problems, [], "problems")
        self._action(file_menu, "&Quit", self.close, [QKeySequence.Quit], "quit")
        image_menu = bar.addMenu("&Image")
        self._action(image_menu, "&Next Image", lambda: self.step(1), ["D", "PgDown"], "next")
        self._action(image_menu, "&Previous Image", lambda: self.step(-1), ["A", "PgUp"], "previous")
        self._action(image_menu, "Mark &Verified", self.toggle_verified, ["Space"], "verified")
        self._action(image_menu, "Paste Boxes of &Previous Image", self.paste_previous_boxes, ["Ctrl+Shift+V"])
        acts = self.canvas.canvas_actions
        edit_menu = bar.addMenu("&Edit")
        for group in ([acts.undo, acts.redo], [acts.draw, acts.delete, acts.duplicate, acts.difficult]):
            edit_menu.addActions(group)
            edit_menu.addSeparator()
        edit_menu.addMenu("Set &Class").addActions(acts.set_class)
        bar.addMenu("&View").addActions([acts.zoom_in, acts.zoom_out, acts.fit, acts.actual_size, acts.hide_boxes])
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard Shortcuts", self.show_shortcuts, ["F1"], "keyboard")

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for folder in self.settings.recent_folders():
            self.recent_menu.addAction(str(folder), lambda f=folder: self.open_folder(f))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

