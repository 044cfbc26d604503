"""Training from the app: the Train panel, its worker thread, live charts and the project's Runs panel."""
from __future__ import annotations


def install(window):
    """Add the Train, Training charts and Runs docks and the Train menu to ``window``; returns the feature."""
    from resyolo_gui.training.controller import TrainingFeature

    return TrainingFeature(window)
