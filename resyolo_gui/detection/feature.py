"""The Detect feature: choose a model, propose boxes on the current image, auto-label a folder.

Proposals live in a :class:`~engine.inference.autolabel.ProposalStore` (memory only) shown by the canvas's proposals
layer; nothing is written to a label file until a proposal is accepted (an ordinary undoable edit) and saved.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence

from engine.inference.autolabel import ClassMapping, ImageProposals, ProposalStore, RawResult, images_to_label, map_classes
from resyolo_gui.detection import dialogs
from resyolo_gui.menu_bar import feature_menu
from resyolo_gui.detection.panel import DetectionPanel
from resyolo_gui.detection.worker import DetectionWorker
from resyolo_gui.workspaces import add_dock

DEFAULT_CONF, DEFAULT_IOU = 0.25, 0.5
COUNT_DELAY_MS = 120  # the review count waits for a dragged slider to pause (each count decodes every image)


class DetectionFeature(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.store = ProposalStore(DEFAULT_CONF, DEFAULT_IOU)
        self.mapping: ClassMapping | None = None
        self._detector = None  # built by the first worker from the chosen checkpoint, reused after
        self._worker: DetectionWorker | None = None
        self._replace_existing = False
        self._targets: dict[Path, object] = {}
        self._failures: list[str] = []
        # The questions asked; tests replace them (a modal dialog would block an offscreen test).
        self.ask_missing_classes = lambda missing: dialogs.ask_missing_classes(window, missing)
        self.ask_auto_label_options = lambda unlabelled, total: dialogs.ask_auto_label_options(window, unlabelled, total)

        self.panel = DetectionPanel(DEFAULT_CONF, DEFAULT_IOU, window)
        self.picker = self.panel.picker
        self.dock = add_dock(window, "Detection", self.panel, hidden=True)  # shown by the Detect workspace
        self.layer = window.canvas.proposal_layer
        self.layer.store = self.store
        self.layer.changed.connect(self._proposals_changed)
        self.layer.share_keys_with(self.panel)  # Enter / Esc still act after a slider took the focus
        self._count_timer = QTimer(self, singleShot=True, interval=COUNT_DELAY_MS)
        self._count_timer.timeout.connect(self.update_review_count)
        # A label drawn over a proposal hides it, an undone accept brings it back: the count follows every edit.
        window.canvas.annotation_edited.connect(lambda _ann: self.store.paths() and self._count_timer.start())
        window.browser.set_proposal_check(self.store.has_proposals)
        self.picker.model_chosen.connect(self._on_model_chosen)
        self.panel.thresholds_changed.connect(self._on_thresholds)
        self.panel.propose_button.clicked.connect(self.propose_current)
        self.panel.auto_label_button.clicked.connect(self.auto_label_folder)
        self.panel.cancel_button.clicked.connect(self.cancel)
        self._build_menu()

    def _build_menu(self) -> None:
        menu = feature_menu(self.window, "&Detect")
        self.choose_action = self._action(menu, "&Choose model…", self.choose_model)
        self.propose_action = self._action(menu, "&Propose boxes on this image", self.propose_current, "Ctrl+R")
        self.auto_label_action = self._action(menu, "&Auto-label folder…", self.auto_label_folder)
        menu.addSeparator()
        menu.addActions([self.layer.accept_one_action, self.layer.accept_all_action, self.layer.reject_all_action])
        menu.addSeparator()
        menu.addAction(self.dock.toggleViewAction())

    def _action(self, menu, text: str, slot, key: str | None = None) -> QAction:
        action = QAction(text, self.window)
        if key:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    # ----------------------------------------------------------------- feature seam
    def project_changed(self, project) -> None:
        self.cancel(wait=True)
        self._targets = {}  # results still queued from the old project's run are ignored
        self.store.clear()
        self.update_review_count()
        self.picker.set_project_folder(project.folder if project is not None else None)
        if self.picker.current_checkpoint() is not None:
            self._on_model_chosen(str(self.picker.current_checkpoint()))

    def runs_changed(self) -> None:
        """A training run finished (connected in :mod:`resyolo_gui.features`): list its checkpoints."""
        self.picker.refresh()

    def can_close(self) -> bool:
        self.cancel(wait=True)  # unaccepted proposals are suggestions, not work: they go with the window
        return True

    # ----------------------------------------------------------------- model
    def choose_model(self) -> None:
        self.window.show_workspace("Detect")
        self.dock.show()
        self.dock.raise_()
        self.picker.browse()

    def _on_model_chosen(self, path: str) -> None:
        self._detector = None
        info, project = self.picker.current_info(), self.window.project
        if info is None or project is None:
            return
        missing = map_classes(info.class_names, project.labels.names).missing
        policy = "drop"
        if missing:
            policy = self.ask_missing_classes(missing) or "drop"
        self.mapping = map_classes(info.class_names, project.labels.names, policy)
        if policy == "add":
            for name in self.mapping.missing:
                project.classes.add(name)
            self.window.class_panel.refresh()
            self.window.browser.refresh_classes()
        self.panel.mapping_label.setText(self.mapping.describe())

    # ----------------------------------------------------------------- running the detector
    def propose_current(self) -> bool:
        ann = self.window.current_annotation()
        if ann is None:
            return False
        return self._start([ann], replace_existing=False)

    def auto_label_folder(self) -> bool:
        project = self.window.project
        if project is None:
            return False
        unlabelled = sum(1 for a in project.annotations if not a.boxes)
        options = self.ask_auto_label_options(unlabelled, len(project.annotations))
        if options is None:
            return False
        images = images_to_label(project.annotations, options.only_unlabelled)
        if not images:
            self._status("No image to auto-label.")
            return False
        return self._start(images, replace_existing=options.replace_existing)

    def _start(self, annotations: list, replace_existing: bool) -> bool:
        if self._worker is not None and self._worker.isRunning():
            self._status("The detector is still running: wait for it or cancel it.")
            return False
        checkpoint = self.picker.current_checkpoint()
        if checkpoint is None or self.mapping is None:
            self.dock.show()
            self._status("Choose a model first (Detect > Choose model…).")
            return False
        self._replace_existing = replace_existing
        self._failures = []
        self._targets = {Path(a.image_path): a for a in annotations}
        worker = self._worker = DetectionWorker(checkpoint, self._detector, [a.image_path for a in annotations], self)
        worker.detector_loaded.connect(self._keep_detector)
        worker.result.connect(self._on_result)
        worker.progress.connect(lambda done, total: self.panel.progress.setValue(done))
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self.panel.set_running(True, len(annotations))
        self._status(f"Detecting on {len(annotations):,} image(s)…")
        worker.start()
        return True

    def cancel(self, wait: bool = False) -> None:
        worker = self._worker
        if worker is not None and worker.isRunning():
            worker.cancel()
            if wait:
                worker.wait()

    def is_running(self) -> bool:
        return self._worker is not None and self._worker.isRunning()

    def _keep_detector(self, detector) -> None:
        if self._worker is not None and self._worker.checkpoint == self.picker.current_checkpoint():
            self._detector = detector

    def _on_result(self, raw: RawResult) -> None:
        ann = self._targets.get(raw.path)
        if ann is None:
            return  # the project changed under the worker (project_changed forgets the targets)
        if raw.output is None:
            self._failures.append(raw.error or f"{raw.path}: unreadable")
            return
        replaced = list(ann.boxes) if self._replace_existing else None
        self.store.put(ann.image_path, ImageProposals(raw.output, raw.size, self._decoder(), self.mapping,
                                                      replaced_boxes=replaced))
        self._proposals_changed(ann)

    def _decoder(self):
        return self._worker.detector.decode  # decoding only: moving a slider never runs the network

    def _on_failed(self, message: str) -> None:
        self._failures.append(message)

    def _on_finished(self) -> None:
        self.panel.set_running(False)
        worker = self._worker
        done = self.panel.progress.value()
        total = len(worker.paths) if worker is not None else 0
        stopped = " (cancelled)" if worker is not None and worker.isInterruptionRequested() else ""
        images, _proposals = self.update_review_count()
        # The panel keeps what stays true; the count changes with the sliders and is kept current beside it.
        text = f"Detected on {done:,} of {total:,} image(s){stopped}."
        if self._failures:
            text += "\nProblems:\n" + "\n".join(self._failures[:10])
        self.panel.status_label.setText(text)
        self.window.statusBar().showMessage(
            f"Detected on {done:,} of {total:,} image(s){stopped}; {images:,} image(s) have proposals to review.", 5000)
        self.window.browser.refilter()

    # ----------------------------------------------------------------- showing
    def _on_thresholds(self, conf: float, iou: float) -> None:
        self.store.set_thresholds(conf, iou)
        self.layer.sync()
        if self.window.browser.proxy.mode == "proposals":
            self.window.browser.refilter()
        self._count_timer.start()

    def _proposals_changed(self, ann) -> None:
        if ann is self.window.canvas.annotation():
            self.layer.sync()
        project = self.window.project
        if project is not None:
            self.window.browser.refresh_row(project.annotations.index(ann))
        if not self.is_running():  # while detecting, the count comes once at the end
            self._count_timer.start()

    def review_counts(self) -> tuple[int, int]:
        """(images with proposals to review, proposals in all) at the current thresholds, after rejections and
        without those that duplicate a label: what the canvas and the "Has proposals" filter show."""
        project = self.window.project
        if project is None:
            return 0, 0
        by_path = {Path(a.image_path): a for a in project.annotations}
        shown = [len(self.store.visible(by_path[path])) for path in self.store.paths() if path in by_path]
        return sum(1 for n in shown if n), sum(shown)

    def update_review_count(self) -> tuple[int, int]:
        self._count_timer.stop()
        images, proposals = self.review_counts()
        self.panel.review_label.setText(
            f"{proposals:,} proposal(s) on {images:,} image(s) to review." if proposals else
            ("No proposals to review at these thresholds." if self.store.paths() else ""))
        return images, proposals

    def _status(self, text: str) -> None:
        self.panel.status_label.setText(text)
        self.window.statusBar().showMessage(text.splitlines()[0], 5000)
