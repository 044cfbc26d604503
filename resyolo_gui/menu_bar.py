"""Where a feature puts its menu: a menu of the bar found by its title, or made just before Help (Help stays last,
where people look for it)."""
from __future__ import annotations

from PySide6.QtWidgets import QMenu


def _plain(text: str) -> str:
    return text.replace("&", "")


def feature_menu(window, title: str) -> QMenu:
    """The window's menu called ``title`` (mnemonics ignored), else a new one inserted before Help."""
    bar = window.menuBar()
    help_action = None
    for action in bar.actions():
        if action.menu() is not None and _plain(action.text()) == _plain(title):
            return action.menu()
        if _plain(action.text()) == "Help":
            help_action = action
    menu = QMenu(title, bar)
    if help_action is None:
        bar.addMenu(menu)
    else:
        bar.insertMenu(help_action, menu)
    return menu
