"""Optional feature packages of the window (training, evaluation, detection, live view).

Each package has ``install(window)``, which adds its own docks, menus and actions to the main window and
returns an object with ``project_changed(project)`` and ``can_close() -> bool`` (asked before the window
closes, e.g. to stop a training run). The window knows nothing else about them, so each feature stays in
its own package.
"""
from __future__ import annotations

import importlib

FEATURE_PACKAGES = ["resyolo_gui.training", "resyolo_gui.evaluation", "resyolo_gui.detection", "resyolo_gui.live",
                    "resyolo_gui.export"]


def install_features(window) -> list:
    return [importlib.import_module(name).install(window) for name in FEATURE_PACKAGES]
