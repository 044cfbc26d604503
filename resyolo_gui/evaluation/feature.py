"""The Evaluate feature: its menu, the Evaluate workspace's panel (built when first shown) and
``open_evaluation(window, checkpoint)``, the entry point for other parts of the app (e.g. the Train panel's
"Evaluate" button after a run)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from resyolo_gui.menu_bar import feature_menu
from resyolo_gui.workspaces import add_dock


class EvaluationFeature:
    def __init__(self, window):
        self.window = window
        self.evaluation_window = None  # made when its panel is first shown: most sessions never evaluate
        # The panel of the Evaluate workspace; its contents are built the first time it is shown.
        self.dock = add_dock(window, "Evaluation", QWidget(), hidden=True)
        self.dock.visibilityChanged.connect(lambda visible: visible and self._ensure_window())
        menu = feature_menu(window, "Ev&aluate")  # Alt+E is Edit
        self.action = QAction("Evaluate a &checkpoint…", window)
        self.action.setStatusTip("Per-class AP, confusion matrix and the images behind each mistake")
        self.action.triggered.connect(lambda _checked=False: self.open())
        menu.addAction(self.action)

    def _ensure_window(self):
        from resyolo_gui.evaluation.window import EvaluationWindow

        if self.evaluation_window is None:
            self.evaluation_window = EvaluationWindow(self.window)
            self.dock.setWidget(self.evaluation_window)
            self.evaluation_window.refresh_checkpoints()
        return self.evaluation_window

    def open(self, checkpoint: Path | str | None = None, start: bool = False):
        """Show the evaluation panel (with ``checkpoint`` chosen, evaluating at once when ``start``)."""
        self.window.show_workspace("Evaluate")
        view = self._ensure_window()
        if checkpoint is not None:
            view.refresh_checkpoints(Path(checkpoint))
        self.dock.show()
        self.dock.raise_()
        if start:
            view.start()
        return view

    def project_changed(self, project) -> None:
        # Results belong to the images of the project they were computed on.
        if self.evaluation_window is not None:
            self.evaluation_window.wait_for_done()
            self.evaluation_window._show_results(None)
            self.evaluation_window.refresh_checkpoints()

    def runs_changed(self) -> None:
        """A training run finished (connected in :mod:`resyolo_gui.features`): list its checkpoints."""
        if self.evaluation_window is not None and not self.evaluation_window.is_running():
            self.evaluation_window.refresh_checkpoints()

    def can_close(self) -> bool:
        # Detection is only reading: stopping it loses nothing, so closing never needs to ask.
        if self.evaluation_window is not None:
            self.evaluation_window.wait_for_done()
            self.evaluation_window.close()
        return True



def open_evaluation(window, checkpoint_path: Path | str | None = None, start: bool = True):
    """Open the evaluation window of ``window`` on ``checkpoint_path`` and (by default) evaluate it now."""
    feature = next((f for f in getattr(window, "features", []) if isinstance(f, EvaluationFeature)), None)
    if feature is None:  # the window was built without its features (e.g. some tests)
        feature = EvaluationFeature(window)
        window.features.append(feature)
    return feature.open(checkpoint_path, start=start and checkpoint_path is not None)
