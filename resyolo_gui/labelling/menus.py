"""The labelling window's menu bar: every window-wide action and its shortcut, in one place.

The canvas's own actions (draw, delete, zoom...) are listed here too, but belong to the canvas: their
shortcuts work only while it has focus, so typing in the search box never deletes a box.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QIcon, QKeySequence

from resyolo_gui.icons import icon

if TYPE_CHECKING:
    from resyolo_gui.main_window import MainWindow

def _label_format_choices() -> tuple[tuple[str, str], ...]:
    """(name, menu text) of each format a project saves in, from the engine's format table."""
    from engine.annotations.formats import format_names, get_format
    from engine.project.project import DEFAULT_FORMAT

    return tuple((name, get_format(name).title + (" (default)" if name == DEFAULT_FORMAT else ""))
                 for name in format_names(project_writable=True, layouts=False))


LABEL_FORMAT_CHOICES = _label_format_choices()


def build_menus(window: "MainWindow") -> None:
    """Fill ``window``'s menu bar; sets ``window.recent_menu``, ``window.format_actions`` and ``window.view_menu``."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    _action(window, file_menu, "&Open Folder…", window.open_folder, [QKeySequence.Open], "open")
    window.recent_menu = file_menu.addMenu("Open &Recent")
    fill_recent_menu(window)
    file_menu.addSeparator()
    window.save_action = _action(window, file_menu, "&Save", window.saving.save, [QKeySequence.Save], "save")
    _action(window, file_menu, "Save &To…", window.saving.save_to, ["Ctrl+Shift+S"], "save-to")
    _action(window, file_menu, "&Export COCO JSON…", window.saving.export_coco, ["Ctrl+E"], "export")
    format_menu = file_menu.addMenu("Label &Format")
    window.format_actions = {}
    for fmt, text in LABEL_FORMAT_CHOICES:
        action = _action(window, format_menu, text, lambda f=fmt: window.set_label_format(f))
        action.setCheckable(True)
        window.format_actions[fmt] = action
    format_menu.aboutToShow.connect(lambda: [a.setChecked(window.project is not None and window.project.format == f)
                                             for f, a in window.format_actions.items()])
    file_menu.addSeparator()
    _action(window, file_menu, "&Problems…", window.show_problems, [], "problems")
    _action(window, file_menu, "&Quit", window.close, [QKeySequence.Quit], "quit")
    image_menu = bar.addMenu("&Image")
    _action(window, image_menu, "&Next Image", lambda: window.step(1), ["D", "PgDown"], "next")
    _action(window, image_menu, "&Previous Image", lambda: window.step(-1), ["A", "PgUp"], "previous")
    _action(window, image_menu, "Mark &Verified", window.toggle_verified, ["Space"], "verified")
    _action(window, image_menu, "Paste Boxes of &Previous Image", window.paste_previous_boxes, ["Ctrl+V"])
    acts = window.canvas.canvas_actions
    edit_menu = bar.addMenu("&Edit")
    for group in ([acts.undo, acts.redo], [acts.draw, acts.delete, acts.duplicate, acts.difficult]):
        edit_menu.addActions(group)
        edit_menu.addSeparator()
    edit_menu.addMenu("Set &Class").addActions(acts.set_class)
    window.view_menu = bar.addMenu("&View")  # the workspaces and panels join it once every feature is installed
    window.view_menu.addActions([acts.zoom_in, acts.zoom_out, acts.fit, acts.actual_size, acts.hide_boxes])
    help_menu = bar.addMenu("&Help")
    _action(window, help_menu, "&Keyboard Shortcuts", window.show_shortcuts, ["F1"], "keyboard")


def fill_recent_menu(window: "MainWindow") -> None:
    window.recent_menu.clear()
    for folder in window.settings.recent_folders():
        window.recent_menu.addAction(str(folder), lambda f=folder: window.open_folder(f))
    window.recent_menu.setEnabled(not window.recent_menu.isEmpty())


def _action(window, menu, text: str, slot, keys=(), icon_name: str | None = None) -> QAction:
    action = QAction(icon(icon_name) if icon_name else QIcon(), text, window)
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action
