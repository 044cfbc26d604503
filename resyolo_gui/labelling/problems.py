"""File > Problems: every problem of the project, grouped by the file it is about, each bad box its own line.

Reading problems (a file that could not be read, each bad box of a file otherwise read, shapes that are not
boxes), what saving changed (boxes clipped to the image or dropped) and saves that failed. A double click on a
problem of an image's label file shows that image.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from resyolo_gui.icons import icon

INTRO = ("A label file that could not be read is left untouched until you edit its image; then a backup of the "
         "original is kept beside it (.bak). A bad box is skipped and named here; the file's other boxes are kept.")


def problem_groups(project, save_failures=()) -> dict[Path, list[tuple[str, str]]]:
    """file -> [(kind, text)], in a stable order: reading problems and notes, saving warnings, failed saves."""
    groups: dict[Path, list[tuple[str, str]]] = {}
    if project is not None:
        warnings = {id(w) for w in project.warnings}
        for path, problems in project.problems_by_file().items():
            for problem in problems:
                kind = "saved with a change" if id(problem) in warnings else \
                       ("problem" if getattr(problem, "is_fault", True) else "note")
                groups.setdefault(path, []).append((kind, _text(problem)))
    for failure in save_failures:
        groups.setdefault(Path(failure.path), []).append(("not saved", str(failure.reason)))
    return groups


def _text(problem) -> str:
    where = getattr(problem, "where", None)
    return f"{where}: {problem.problem}" if where else str(getattr(problem, "problem", problem))


class ProblemsDialog(QDialog):
    """One row per file (its problem count), one child row per problem."""

    def __init__(self, groups: dict[Path, list[tuple[str, str]]], parent: QWidget | None = None, show_image=None):
        super().__init__(parent)
        self.setWindowTitle("Problems")
        self.setWindowIcon(icon("problems"))
        count = sum(map(len, groups.values()))
        intro = QLabel(f"{count:,} problem(s) in {len(groups):,} file(s). {INTRO}" if groups else "No problems.", self)
        intro.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["File / problem", "Kind"])
        self.tree.setColumnWidth(0, 560)
        for path, entries in groups.items():
            top = QTreeWidgetItem([f"{path}  ({len(entries)})", ""])
            top.setData(0, Qt.UserRole, str(path))
            top.setToolTip(0, str(path))
            for kind, text in entries:
                child = QTreeWidgetItem([text, kind])
                child.setData(0, Qt.UserRole, str(path))
                child.setToolTip(0, text)
                top.addChild(child)
            self.tree.addTopLevelItem(top)
        self.tree.expandAll()
        if show_image is not None:
            self.tree.itemDoubleClicked.connect(lambda item, _col: show_image(Path(item.data(0, Qt.UserRole))))
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(820, 420)

    def files(self) -> list[str]:
        return [self.tree.topLevelItem(i).data(0, Qt.UserRole) for i in range(self.tree.topLevelItemCount())]

    def entries(self, file: str) -> list[tuple[str, str]]:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.data(0, Qt.UserRole) == file:
                return [(top.child(j).text(0), top.child(j).text(1)) for j in range(top.childCount())]
        return []


def show_image_of_label_file(window, label_file: Path) -> None:
    """Show the image whose label file (or the image itself) is ``label_file``, if the project has one."""
    project = window.project
    if project is None:
        return
    for row, ann in enumerate(project.annotations):
        if Path(ann.image_path) == label_file or project.label_path(ann) == label_file:
            window.browser.set_current(row)
            return
