"""File > Label Format > VOC pixel origin: the project's one documented choice, shown and changeable.

VOC XML counts pixels from 0 in labelImg and from 1 in the PASCAL VOC devkit (and so do Ultralytics' VOC converter
and supervision). The engine keeps the choice in ``.resyolo/project.json`` (``voc_pixel_origin``); a devkit layout
opens 1-based, VOC beside the images 0-based, never guessed from the numbers. Changing it asks which is meant:
**Read Files As …** (the files were written that way: they are read again, boxes move one pixel, files unchanged)
or **Rewrite Files As …** (boxes stay where they are on screen; every label file is rewritten on the next save).
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMessageBox

CHOICES = ((0, "VOC pixels from &0 (labelImg)"), (1, "VOC pixels from &1 (VOC devkit, Ultralytics, supervision)"))
REREAD, REWRITE, CANCEL = "reread", "rewrite", "cancel"
REREAD_BUTTON, REWRITE_BUTTON = "Read Files As {}-Based", "Rewrite Files As {}-Based"


def ask_meaning(parent, origin: int) -> str:
    box = QMessageBox(QMessageBox.Question, "VOC pixel origin",
                      f"Count VOC pixels from {origin} in this project.\n\n"
                      f"Read Files As {origin}-Based: the files were written so (their tool counts from {origin}); "
                      "they are read again and the boxes move by one pixel. The files are not changed.\n\n"
                      f"Rewrite Files As {origin}-Based: the boxes stay where they are; every label file is "
                      f"rewritten counting from {origin} on the next save.", parent=parent)
    box.setObjectName("pixel_origin_question")
    buttons = {box.addButton(REREAD_BUTTON.format(origin), QMessageBox.AcceptRole): REREAD,
               box.addButton(REWRITE_BUTTON.format(origin), QMessageBox.ActionRole): REWRITE,
               box.addButton(QMessageBox.Cancel): CANCEL}
    box.exec()
    return buttons.get(box.clickedButton(), CANCEL)


class PixelOriginMenu(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.ask = lambda origin: ask_meaning(window, origin)  # tests may answer it
        file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
        menu = next(a.menu() for a in file_menu.actions() if a.menu() and a.text().replace("&", "") == "Label Format")
        menu.addSeparator()
        self.group = QActionGroup(self)
        self.actions: dict[int, QAction] = {}
        for origin, text in CHOICES:
            action = QAction(text, window, checkable=True)
            action.setStatusTip("How VOC XML counts pixels: the project's choice, kept in .resyolo/project.json")
            action.triggered.connect(lambda _checked=False, o=origin: self.choose(o))
            self.group.addAction(action)
            menu.addAction(action)
            self.actions[origin] = action
        menu.aboutToShow.connect(self.refresh)

    def refresh(self) -> None:
        project = self.window.project
        origin = project.pixel_origin_choice if project is not None else None
        for value, action in self.actions.items():
            action.setEnabled(origin is not None)
            action.setChecked(origin == value)

    def choose(self, origin: int) -> bool:
        """Make ``origin`` the project's VOC pixel origin, asking which meaning; False if nothing changed."""
        project = self.window.project
        if project is None or project.pixel_origin_choice in (None, origin):
            self.refresh()
            return False
        meaning = self.ask(origin)
        if meaning == REREAD and any(project.is_dirty(a) for a in project.annotations):
            # Unsaved boxes were drawn on screen, not read from a file: reading "the other way" would move them
            QMessageBox.information(self.window, "VOC pixel origin", "Save your edits first (File > Save): only "
                                    "boxes read from the files are read again.")
            meaning = CANCEL
        if meaning == REREAD:
            reread = project.reread_with_pixel_origin(origin)
            project.save_settings()
            from resyolo_gui.labelling.conflicts import refresh_after_reload

            refresh_after_reload(self.window, reread)
            message = f"Read {len(reread):,} label file(s) again counting VOC pixels from {origin}"
        elif meaning == REWRITE:
            project.set_pixel_origin(origin)
            self.window.saving.save()
            message = f"Label files rewritten counting VOC pixels from {origin}; the boxes stayed where they were"
        else:
            self.refresh()
            return False
        self.refresh()
        self.window.statusBar().showMessage(message, 10000)
        self.window._update_title()
        return True
