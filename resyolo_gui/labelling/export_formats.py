"""File > Export Labels As: the project, unsaved edits included, written as a new dataset in a format of the table.

The writing is the engine's ``resyolo convert`` (:func:`engine.annotations.convert.convert_annotations`): images
are hard-linked (or copied) into the chosen folder, labels written by the format's own writer, splits kept where
both sides have them. A folder that is not empty is written into only after the user says so (files of the
same name are replaced); the project itself is never the target.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.annotations.convert import CONVERT_TARGETS, ConvertError, convert_annotations
from engine.annotations.formats import get_format

MENU_TEXT = "Export &Labels As"


def export_choices() -> list[tuple[str, str]]:
    """(format name, menu text) for each format ``resyolo convert`` writes, from the format table."""
    return [(name, get_format(name).title + "…") for name in CONVERT_TARGETS]


class LabelExport(QObject):
    """The File > Export Labels As submenu of ``window``; ``export(name)`` is one entry's action."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        # The questions asked; tests answer them (modal dialogs would block an offscreen test).
        self.choose_folder = lambda title: QFileDialog.getExistingDirectory(window, title)
        self.confirm_overwrite = self._ask_overwrite
        self.last_report = None
        file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
        self.menu = file_menu.addMenu(MENU_TEXT)
        anchor = next((a for a in file_menu.actions() if a.text().replace("&", "").startswith("Export COCO")), None)
        if anchor is not None:  # beside the other export, not at the bottom of the menu
            following = file_menu.actions()[file_menu.actions().index(anchor) + 1]
            file_menu.insertMenu(following, self.menu)
        self.actions: dict[str, QAction] = {}
        for name, text in export_choices():
            action = self.menu.addAction(text)
            action.setStatusTip(f"Write the labels as a new {get_format(name).title} dataset in a folder you choose")
            action.triggered.connect(lambda _checked=False, n=name: self.export(n))
            self.actions[name] = action
        self.menu.aboutToShow.connect(lambda: self.menu.setEnabled(window.project is not None))

    def export(self, name: str):
        """Ask for a folder and write the project there in format ``name``; returns the report (None: cancelled)."""
        project = self.window.project
        if project is None:
            return None
        title = get_format(name).title
        folder = self.choose_folder(f"Export labels as {title} to folder")
        if not folder:
            return None
        out = Path(folder)
        overwrite = False
        if out.exists() and any(out.iterdir()):
            if not self.confirm_overwrite(out):
                self.window.statusBar().showMessage("Export cancelled: nothing was written", 5000)
                return None
            overwrite = True
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            report = convert_annotations(project.annotations, project.labels, project.splits, project.folder, name,
                                         out, overwrite=overwrite)
        except (ConvertError, OSError, ValueError) as exc:
            QGuiApplication.restoreOverrideCursor()
            QMessageBox.warning(self.window, "Export failed", str(exc))
            return None
        QGuiApplication.restoreOverrideCursor()
        self.last_report = report
        notes = [f"{len(report.warnings)} box(es) clipped or dropped"] if report.warnings else []
        notes += [f"{len(report.problems)} image(s) left out (see File > Problems)"] if report.problems else []
        self.window.statusBar().showMessage(
            f"Exported {report.images:,} image(s), {report.boxes:,} box(es) as {title} to {out}"
            + (f"; {'; '.join(notes)}" if notes else ""), 10000)
        return report

    def _ask_overwrite(self, out: Path) -> bool:
        answer = QMessageBox.question(
            self.window, "Folder not empty",
            f"{out} is not empty.\n\nWrite the export into it? Files of the same name are replaced; others stay.",
            QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Yes
