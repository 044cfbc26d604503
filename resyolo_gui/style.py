"""Light and dark palettes that follow the system colour scheme (Qt 6.5+ ``styleHints().colorScheme``)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# (window, base, alternate base, text, button, highlight, placeholder text)
_SCHEMES = {
    "light": ("#f3f4f6", "#ffffff", "#eef0f3", "#1d232b", "#e8eaee", "#2f6fd0", "#8a939e"),
    "dark": ("#23272e", "#1b1e23", "#262a31", "#e3e6ea", "#2d323a", "#3d7fe0", "#7d8590"),
}


def palette_for(scheme: str) -> QPalette:
    window, base, alternate, text, button, highlight, placeholder = (QColor(c) for c in _SCHEMES[scheme])
    palette = QPalette()
    for role, color in (
        (QPalette.Window, window), (QPalette.Base, base), (QPalette.AlternateBase, alternate),
        (QPalette.WindowText, text), (QPalette.Text, text), (QPalette.ButtonText, text),
        (QPalette.Button, button), (QPalette.Highlight, highlight), (QPalette.HighlightedText, QColor("#ffffff")),
        (QPalette.ToolTipBase, base), (QPalette.ToolTipText, text), (QPalette.PlaceholderText, placeholder),
        (QPalette.Link, highlight),
    ):
        palette.setColor(role, color)
    disabled = QColor(placeholder)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, disabled)
    return palette


def system_scheme() -> str:
    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def apply_style(app: QApplication) -> None:
    """Fusion style with our palette; re-applied whenever the system switches light/dark."""
    app.setStyle("Fusion")
    app.setPalette(palette_for(system_scheme()))
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: app.setPalette(palette_for(system_scheme())))
