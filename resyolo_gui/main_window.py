"""The labelling window: wires the image browser, canvas, class panel, loader and project together.

Behaviour lives in the widgets and in :mod:`engine.project.project`; this file only connects them and holds
the menus. When to save (leaving an image, a timer, closing) is :mod:`resyolo_gui.labelling.saving`.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QWidget

from engine.project.project import Project, ProjectError
from resyolo_gui.labelling import background_open, dialogs, lock_dialog
from resyolo_gui.labelling.browser import ImageBrowser
from resyolo_gui.canvas import AnnotationCanvas
from resyolo_gui.labelling.classes import ClassPanel
from resyolo_gui.labelling.conflicts import ConflictResolver
from resyolo_gui.labelling.export_formats import LabelExport
from resyolo_gui.features import install_features
from resyolo_gui.labelling.folder_watch import FolderWatch
from resyolo_gui.icons import icon
from resyolo_gui.labelling.loader import ImageLoader
from resyolo_gui.labelling.menus import build_menus, fill_recent_menu
from resyolo_gui.labelling.pixel_origin import PixelOriginMenu
from resyolo_gui.labelling.saving import SaveFlow
from resyolo_gui.screen_fit import fit_to_screen
from resyolo_gui.settings import AppSettings
from resyolo_gui.workspaces import WORKSPACE_NAMES, Workspaces, add_dock


class MainWindow(QMainWindow):
    first_image_shown = Signal()  # the first image of a project is on screen (--screenshot waits for it)

    def __init__(self, project: Project | None, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.project: Project | None = None
        self.setWindowIcon(icon("app"))
        self.features: list = []  # filled once the window's own parts exist (see install_features below)
        self.saving = SaveFlow(self)
        self.saving.saved.connect(self._after_save)
        self.autosave_timer = self.saving.timer
        self.loader = ImageLoader(self)
        self.background_open = background_open.BackgroundOpen(self)  # a large folder's labels, read meanwhile
        self.background_open.read_done.connect(self._on_background_read)
        self.loader.loaded.connect(self._on_image_loaded)
        self.loader.preview_loaded.connect(self._on_preview_loaded)
        self.canvas = AnnotationCanvas(self)
        self.setCentralWidget(self.canvas)
        self.browser = ImageBrowser(self)
        self.browser.current_changed.connect(self._on_current_changed)
        self.class_panel = ClassPanel(self)
        add_dock(self, "Images", self.browser, Qt.LeftDockWidgetArea)
        add_dock(self, "Classes", self.class_panel, Qt.RightDockWidgetArea)
        self._connect_editing_signals()
        self._build_status_bar()
        build_menus(self)
        self.saving.conflicts = ConflictResolver(self)  # a label file changed on disk: reload / keep mine / both
        self.folder_watch = FolderWatch(self)  # reloads label files other programs change
        self.label_export = LabelExport(self)  # File > Export Labels As (each format of the engine's table)
        self.pixel_origin_menu = PixelOriginMenu(self)  # File > Label Format > VOC pixels from 0 / from 1
        self.features = install_features(self)
        geometry = settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 800)
        fit_to_screen(self)  # a size saved on a bigger monitor, or the default on a laptop
        self.workspaces = Workspaces(self, settings)  # after the features: their docks are in the workspaces
        self.workspaces.fill_view_menu(self.view_menu)
        current = settings.current_workspace()
        self.workspaces.switch(current if current in WORKSPACE_NAMES else WORKSPACE_NAMES[0])
        self.set_project(project)

    # ----------------------------------------------------------------- project
    def set_project(self, project: Project | None) -> None:
        self.background_open.cancel()  # a folder still being read is not wanted any more
        self.canvas.set_view_only(False)
        self.loader.clear()
        if self.project is not None and self.project is not project:
            self.project.close()  # let go of the old folder's lock
        self.project = project
        self.saving.set_project(project)
        lock_dialog.show_lock_state(self, project)
        self.folder_watch.set_project(project)
        self._first_shown = False
        self._current_row = self._previous_row = -1
        self._shown_path = None
        self._showing_preview = False
        if project is None:
            self.canvas.set_image(None, None, None, "Open a folder of images with File > Open Folder (Ctrl+O).")
            self._update_title()
            return
        self.browser.set_project(project)
        self.class_panel.set_project(project)
        for feature in self.features:
            feature.project_changed(project)
        if project.errors:
            self.statusBar().showMessage(f"{len(project.errors)} label file(s) could not be read: "
                                         "left untouched; see File > Problems", 15000)
        if project.annotations:
            self.browser.set_current(0)
        else:
            self.canvas.set_image(None, None, project, f"No images found in {project.folder}")
        self._update_title()

    def open_folder(self, folder: Path | str | None = None) -> bool:
        """Open ``folder`` (asked for when None). A large one shows its first image at once, view only, and is
        ready for editing when all its labels are read (:mod:`resyolo_gui.labelling.background_open`)."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Open a folder of images")
            if not folder:
                return False
        if not self.saving.save_before_leaving():
            return False
        if self.background_open.pending():
            self.set_project(None)  # the folder being read is not wanted any more: its lock is let go
        try:  # a held folder: read-only or take over
            opening = lock_dialog.begin_open(self, folder, self.project)
        except ProjectError as exc:
            return self._cannot_open(folder, exc)
        if opening is None:
            return False
        try:
            self.open_opening(opening)
        except ProjectError as exc:
            return self._cannot_open(folder, exc)
        return True

    def open_opening(self, opening) -> None:
        """Read the labels of ``opening`` (an :class:`~engine.project.project.Opening`, its lock taken): a large
        folder shows its first image at once, view only, and reads the rest on a worker thread; any other opens
        at once. Raises ProjectError (the lock let go) when the folder cannot be read."""
        try:
            first = opening.read(first_only=True)
            if first.partial and first.image_count > background_open.BACKGROUND_OPEN_IMAGES:
                self._open_in_background(opening, first)
                return
            loaded = opening.read() if first.partial else first
        except ProjectError:
            opening.abandon()
            raise
        self._opened(opening.finish(loaded))

    def labels_pending(self) -> bool:
        """A folder is open in preview while its labels are read (nothing can be edited yet)."""
        return self.background_open.pending()

    def _cannot_open(self, folder, exc: ProjectError) -> bool:
        QMessageBox.warning(self, "Cannot open folder", str(exc))
        self.settings.remove_recent_folder(Path(folder))
        fill_recent_menu(self)
        return False

    def _opened(self, project: Project) -> None:
        self.settings.add_recent_folder(project.folder)
        fill_recent_menu(self)
        self.set_project(project)

    def _open_in_background(self, opening, first) -> None:
        """The first image of ``first`` shown view only; the whole folder read on a worker thread."""
        from resyolo_gui.labelling.loader import decode_for_display, decode_preview

        self.set_project(None)  # the old project lets go of its folder; nothing is editable meanwhile
        preview = opening.preview(first)
        ann = preview.annotations[0]
        viewport, ratio = self.canvas.viewport().size(), self.canvas.devicePixelRatioF()
        message = None
        try:
            decoded = decode_preview(ann.image_path, (round(viewport.width() * ratio), round(viewport.height() * ratio)))
            image, full_size = decoded if decoded is not None else decode_for_display(ann.image_path)
            ann.width, ann.height = full_size
        except (OSError, ValueError, MemoryError) as exc:
            image, message = None, f"Cannot show {Path(ann.image_path).name}: {exc}"
        self.canvas.set_view_only(True)
        self.canvas.set_image(image, ann, preview, message)
        self.background_open.start(opening)
        self._preview = preview  # what the canvas shows, until the project replaces it
        self.position_label.setText(f"Image 1 of {preview.image_count:,}")
        self.statusBar().showMessage(f"Reading the labels of {preview.image_count:,} images: "
                                     "view only until they are all read…")
        self.setWindowTitle(f"{Path(ann.image_path).name} — {Path(opening.folder).name} (reading labels…) — ResYOLO")

    def _on_background_read(self, token: int, result) -> None:
        opening = self.background_open.take(token)
        if opening is None:
            return  # another folder was opened meanwhile (its lock was let go then)
        self._preview = None
        self.canvas.set_view_only(False)
        if isinstance(result, BaseException):
            opening.abandon()
            self.canvas.set_image(None, None, None, "Open a folder of images with File > Open Folder (Ctrl+O).")
            self._update_title()
            self._cannot_open(opening.folder, result if isinstance(result, ProjectError) else ProjectError(str(result)))
            return
        self.statusBar().clearMessage()
        self._opened(opening.finish(result))

    def current_annotation(self):
        row = self.browser.current_row()
        return self.project.annotations[row] if self.project and row >= 0 else None

    # ----------------------------------------------------------------- images
    def _on_current_changed(self, row: int) -> None:
        self.saving.autosave(leaving=self._current_row)
        self._previous_row, self._current_row = self._current_row, row
        ann = self.project.annotations[row]
        cached = self.loader.cached(ann.image_path)
        if cached is not None:
            self._show(ann, *cached)
        else:
            self._shown_path, self._showing_preview = None, False  # whatever arrives for this image is shown
            self.canvas.set_image(None, ann, self.project, f"Loading {Path(ann.image_path).name}…")
        viewport, ratio = self.canvas.viewport().size(), self.canvas.devicePixelRatioF()
        self.loader.request(ann.image_path, preview_size=(round(viewport.width() * ratio),
                                                          round(viewport.height() * ratio)))
        # Two ahead (labelling mostly goes forward) and one back: with the current one, what the cache holds.
        self.loader.prefetch([self.project.annotations[r].image_path for r in self.browser.neighbours(2, behind=1)])
        self.position_label.setText(f"Image {row + 1:,} of {len(self.project.annotations):,}")
        error = self.project.errors.get(Path(ann.image_path))
        if error is not None:
            self.statusBar().showMessage(f"Label file not read, left untouched until you edit: {error}")
        self._update_title()

    def _on_image_loaded(self, path: str, image, full_size, message: str) -> None:
        ann = self.current_annotation()
        if ann is None or str(ann.image_path) != path:
            return
        if self._shown_path != path:
            self._show(ann, image, full_size, message)
        elif self._showing_preview:
            self._showing_preview = False
            if image is not None:
                self.canvas.replace_image(image)  # full resolution for zooming in; edits and zoom stay
            else:
                self._show(ann, image, full_size, message)

    def _on_preview_loaded(self, path: str, image, full_size) -> None:
        ann = self.current_annotation()
        if ann is not None and str(ann.image_path) == path and self._shown_path != path:
            self._show(ann, image, full_size, "")
            self._showing_preview = True

    def _show(self, ann, image, full_size, message: str) -> None:
        """Show ``image`` (a QImage from the loader, or None with the reason in ``message``) for ``ann``."""
        if image is not None and full_size[0] > 0:
            ann.width, ann.height = full_size  # sizes come lazily: only images actually opened are measured
        self._shown_path = str(ann.image_path)
        self._showing_preview = False
        self.canvas.set_image(image, ann, self.project, message or None)
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

    # ----------------------------------------------------------------- edits and saving
    def _annotation_edited(self, ann) -> None:
        self.project.mark_dirty(ann)
        self.browser.refresh_row(self.project.annotations.index(ann))
        self.class_panel.refresh()
        self._update_title()

    def save(self) -> None:
        """File > Save (the rest of the save flow is :class:`SaveFlow`, ``self.saving``)."""
        self.saving.save()

    def _after_save(self) -> None:
        row = self.browser.current_row()
        if row >= 0:
            self.browser.refresh_row(row)
        self._update_title()

    def set_label_format(self, label_format: str) -> None:
        self.project.set_format(label_format)
        self._update_title()

    def closeEvent(self, event) -> None:
        # Features first (e.g. a running training asks whether to stop it), then unsaved labels.
        if not all(feature.can_close() for feature in self.features) or not self.saving.save_before_leaving():
            event.ignore()
            return
        self.settings.save_window_geometry(self.saveGeometry())
        self.workspaces.save()
        self.loader.clear()
        self.background_open.cancel()
        if self.project is not None:
            self.project.close()
        event.accept()

    # ----------------------------------------------------------------- view
    def show_workspace(self, name: str) -> None:
        """Switch to the workspace ``name`` (Label, Train, Evaluate, Detect), as its tab does."""
        self.workspaces.switch(name)

    def show_problems(self) -> None:
        from resyolo_gui.labelling import problems# every problem, grouped by file

        groups = problems.problem_groups(self.project, self.saving.failures)
        self.problems_dialog = problems.ProblemsDialog(
            groups, self, show_image=lambda path: problems.show_image_of_label_file(self, path))
        self.problems_dialog.open()

    def show_shortcuts(self) -> None:
        dialogs.ShortcutsDialog(self.findChildren(QAction) + self.canvas.actions(), self).open()

    def _update_title(self) -> None:
        ann = self.current_annotation()
        parts = ([Path(ann.image_path).name + "[*]"] if ann is not None else []) + \
                ([self.project.folder.name] if self.project else []) + lock_dialog.title_tag(self.project) + ["ResYOLO"]
        if ann is None and self.project is not None:
            parts[0] += "[*]"
        self.setWindowTitle(" — ".join(parts))
        self.setWindowModified(bool(self.project and self.project.has_unsaved_changes()))

    def _connect_editing_signals(self) -> None:
        self.canvas.annotation_edited.connect(self._annotation_edited)
        # The canvas keeps Space while it has focus (held: pan); a tap there still marks the image verified.
        self.canvas.space_tapped.connect(self.toggle_verified)
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
        self.browser.refresh_all_rows()  # labels and counts of many rows may have changed
        self._update_title()

    def _build_status_bar(self) -> None:
        self.position_label, self.zoom_label, self.cursor_label, self.box_label = (QLabel(self) for _ in range(4))
        for label in (self.box_label, self.cursor_label, self.zoom_label, self.position_label):
            self.statusBar().addPermanentWidget(label)
