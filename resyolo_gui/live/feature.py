"""The Live menu's live view feature: a camera / video / stream with detections, snapshots into the project."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from resyolo_gui.menu_bar import feature_menu

if TYPE_CHECKING:
    from resyolo_gui.live.live_view import LiveView


class LiveFeature:
    def __init__(self, window):
        self.window = window
        self.project = None
        self.live_view: LiveView | None = None
        # Detections of snapshot frames, by image path (kept here too when no Detect feature takes them as proposals).
        self.snapshot_detections: dict[Path, object] = {}
        self.menu = feature_menu(window, "&Live")
        self.live_action = QAction("Live View (Camera/Video/URL)…", window)
        self.live_action.triggered.connect(self.show_live_view)
        self.menu.addAction(self.live_action)

    def show_live_view(self) -> LiveView:
        if self.live_view is None:
            from resyolo_gui.live.live_view import LiveView  # the detector's code (torch): only once it is opened

            self.live_view = LiveView(self.window, getattr(self.window, "settings", None))
            self.live_view.set_project(self.project)
            self.live_view.snapshot_taken.connect(self._on_snapshot)
        self.live_view.show()
        self.live_view.raise_()
        return self.live_view

    def _on_snapshot(self, ann, detections, output, detector) -> None:
        self.snapshot_detections[Path(ann.image_path)] = detections
        live_conf = self.live_view.confidence() if self.live_view is not None else None
        offered = offer_as_proposals(self.window, ann, output, detector, min_conf=live_conf)
        browser = self.window.browser
        row = browser.current_row()
        browser.set_project(self.project)  # the browser lists project.annotations, which gained the snapshot
        if row >= 0:
            browser.set_current(row)
        note = " with its detections as proposals to review" if offered else ""
        self.window.statusBar().showMessage(f"Snapshot {Path(ann.image_path).name} added to the project{note}", 5000)

    # ----------------------------------------------------------------- the feature seam
    def project_changed(self, project) -> None:
        self.project = project
        self.snapshot_detections.clear()
        if self.live_view is not None:
            self.live_view.set_project(project)

    def runs_changed(self) -> None:
        """A training run finished (connected in :mod:`resyolo_gui.features`): offer its checkpoints."""
        if self.live_view is not None:
            self.live_view.checkpoint.refresh()

    def can_close(self) -> bool:
        if self.live_view is not None:
            self.live_view.close()  # stops the threads (recording files are closed properly)
        return True


def offer_as_proposals(window, ann, output, detector, min_conf: float | None = None) -> bool:
    """Put a snapshot's raw output in the Detect feature's proposal store (reviewed and accepted like any other
    proposals). Classes map by name as the Detect feature's model does when it is the same model, else
    classes the project lacks are dropped (the live view never changes the class list by itself). With
    ``min_conf`` (the live view's threshold), the snapshot never proposes what the live view did not show."""
    from engine.inference.autolabel import ImageProposals, map_classes

    detect = next((f for f in getattr(window, "features", []) if hasattr(f, "store") and hasattr(f, "mapping")), None)
    if detect is None or window.project is None:
        return False
    mapping = detect.mapping
    if mapping is None or mapping.model_names != detector.class_names:
        mapping = map_classes(detector.class_names, window.project.labels.names, "drop")
    decode = detector.decode
    if min_conf is not None:
        def decode(out, sizes, conf=None, iou=None):
            return detector.decode(out, sizes, max(min_conf, detector.conf_threshold if conf is None else conf), iou)
    detect.store.put(ann.image_path, ImageProposals(output, (ann.width, ann.height), decode, mapping))
    if callable(getattr(detect, "update_review_count", None)):
        detect.update_review_count()  # the Detect panel's "to review" count includes the snapshot
    return True

