"""When and how the labelling window saves: leaving an image, a timer, File > Save / Save To, closing.

A failed save never loses an edit: it stays in memory (and dirty), the status bar names the file and
the reason, a non-blocking warning says so once, and leaving the project asks retry / save elsewhere /
discard / cancel (:func:`resyolo_gui.labelling.dialogs.ask_save_failure`).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from engine.project.project import Project, SaveError
from resyolo_gui.labelling import dialogs

AUTOSAVE_MS = 30_000


class SaveFlow(QObject):
    """Saves ``project`` for ``window`` (the parent of its dialogs, and whose status bar it writes to)."""

    saved = Signal()  # after every save attempt, failed or not: rows and title may need refreshing

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.project: Project | None = None
        self.failures: list[SaveError] = []
        self.conflicts = None  # a resyolo_gui.labelling.conflicts.ConflictResolver: asks about files changed on disk
        self._warned = False
        self.timer = QTimer(self, interval=AUTOSAVE_MS, timeout=self.autosave)
        self.timer.start()

    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.failures = []
        if self.conflicts is not None:
            self.conflicts.project_changed(project)

    def autosave(self, leaving: int | None = None) -> None:
        """Leaving an image (row ``leaving``) saves it; the timer saves everything."""
        if self.project is None or not self.project.has_unsaved_changes():
            return
        if self.project.read_only and self.project.output_folder is None:
            return  # nothing is written into a folder another window holds; edits wait for Save To or quitting
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
        folder = QFileDialog.getExistingDirectory(self.window, "Save labels to folder")
        if not folder or self.project is None:
            return False
        self.project.output_folder = Path(folder)
        for ann in self.project.annotations:
            if ann.boxes or ann.verified or self.project.is_dirty(ann):
                self.project.mark_dirty(ann)
        self._warned = False
        self._after_save(self.project.save_all())
        from resyolo_gui.labelling.lock_dialog import show_lock_state

        show_lock_state(self.window, self.project)  # a read-only project saves again, elsewhere
        self.window.statusBar().showMessage(f"Labels are now saved to {folder}", 8000)
        return not self.failures

    def save_before_leaving(self) -> bool:
        """Save everything; if that fails ask retry / save elsewhere / discard / cancel. False: stay."""
        while self.project is not None and self.project.has_unsaved_changes():
            attempted = self.project.save_all()
            failures = self._after_save(attempted, ask_now=True)
            if not failures:
                if attempted:
                    continue  # conflicts resolved (mine saved, or theirs reloaded): save what is left
                break
            choice = dialogs.ask_save_failure(self.window, failures)
            if choice == dialogs.DISCARD:
                break
            if choice == dialogs.CANCEL:
                return False
            if choice == dialogs.SAVE_ELSEWHERE:
                self.save_to()
        return True

    def export_coco(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export COCO JSON",
                                              str(self.project.folder / "annotations.json"), "COCO JSON (*.json)")
        if path:
            skipped = self.project.export_coco(path)
            note = f"; {len(skipped)} unreadable image(s) left out" if skipped else ""
            self.window.statusBar().showMessage(f"Exported {path}{note}", 8000)

    def _after_save(self, failures: list[SaveError], ask_now: bool = False) -> list[SaveError]:
        if self.conflicts is not None:  # files another program changed: reload theirs / keep mine / show both
            failures = self.conflicts.handle(failures, ask_now)
        self.failures = failures
        self.saved.emit()
        if not failures:
            return failures
        self.window.statusBar().showMessage(f"Could not save {failures[0].path}: {failures[0].reason}. "
                                            "Edits are kept in memory; use File > Save To… to write them elsewhere.")
        if not self._warned:  # tell once, without blocking (autosave can fail every 30 s)
            self._warned = True
            box = QMessageBox(QMessageBox.Warning, "Cannot save labels",
                              f"{failures[0]}\n\nYour edits are kept in memory. Use File > Save To… to write "
                              "the labels to another folder.", QMessageBox.Ok, self.window)
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.open()
        return failures
