"""Optional feature packages of the window (training, evaluation, detection, live view, detection on a folder, export).

Each package has ``install(window)``, which adds its own docks, menus and actions to the main window and
returns an object with ``project_changed(project)`` and ``can_close() -> bool`` (asked before the window
closes, e.g. to stop a training run). The window knows nothing else about them, so each feature stays in
its own package.

Features also meet here without importing each other: a feature with a ``run_finished`` signal (training)
reaches every feature with a ``runs_changed()`` method (those that list the project's runs and checkpoints).
"""
from __future__ import annotations

import importlib

FEATURE_PACKAGES = ["resyolo_gui.training", "resyolo_gui.evaluation", "resyolo_gui.detection", "resyolo_gui.live",
                    "resyolo_gui.folder_detection", "resyolo_gui.export"]


def install_features(window) -> list:
    installed = [importlib.import_module(name).install(window) for name in FEATURE_PACKAGES]
    connect_features(installed)
    return installed


def connect_features(features: list) -> None:
    """A finished training run is news to every feature that lists runs: its checkpoints are new."""
    listeners = [f for f in features if callable(getattr(f, "runs_changed", None))]
    for source in features:
        finished = getattr(source, "run_finished", None)
        if finished is None or not hasattr(finished, "connect"):
            continue
        for listener in listeners:
            if listener is not source:
                finished.connect(lambda _outcome=None, listener=listener: listener.runs_changed())
