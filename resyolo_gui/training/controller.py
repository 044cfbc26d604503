"""The training feature of the window: its docks and menu, and the life of a run.

Start (the Train panel): save unsaved labels, plan the run with the engine's
run planner (:func:`engine.training.plan.plan_run`: the checks, the resume rules, the run folder in the project,
its config.json; the same planner as ``resyolo train``), hand a :class:`TrainingJob` (the plan, with copies of the
labels) to a :class:`TrainingWorker` thread. The worker's signals feed the progress bar, the live charts and the
Runs panel. Closing the window while a run trains asks first, then stops
the run (it keeps its checkpoint) and waits for the thread to end.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog, QMessageBox, QWidget

from engine.training.events import EpochEnd, RunPrepared, TrainStart, ValidationEnd
from engine.training.plan import ProjectSource, RunRequest, plan_run
from engine.training.runs import list_runs, read_run
from engine.training.setup import SetupError
from resyolo_gui.menu_bar import feature_menu
from resyolo_gui.training.charts import TrainingCharts
from resyolo_gui.training.panel import TrainPanel
from resyolo_gui.training.runs_panel import RunsPanel
from resyolo_gui.training.worker import RunOutcome, TrainingJob, TrainingWorker
from resyolo_gui.workspaces import add_dock


def ask_stop_training(parent: QWidget) -> bool:
    """Closing while a run trains: True to stop it (its checkpoint is kept) and close."""
    answer = QMessageBox.question(
        parent, "Training in progress",
        "A model is training. Stop it and close? The run keeps its last checkpoint and can be looked at later.",
        QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes


def ask_resume_epochs(parent: QWidget, run: str, done: int, planned: int) -> int | None:
    """Resuming a run: the epoch to train until (more than ``done``), or None when cancelled."""
    until, ok = QInputDialog.getInt(
        parent, "Resume run", f"Run {run} has trained {done} of {planned} epochs.\nTrain until epoch:",
        max(planned, done + 1), done + 1, 100_000)
    return until if ok else None


class TrainingFeature(QObject):
    run_finished = Signal(object)  # the worker's RunOutcome, after the panel has been updated

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.worker: TrainingWorker | None = None
        self.panel = TrainPanel(window)
        self.charts = TrainingCharts(window)
        self.runs_panel = RunsPanel(window)
        # Shown by the Train workspace (Train menu, or its tab), which also lays them out.
        self.train_dock = add_dock(window, "Train", self.panel, hidden=True)
        self.charts_dock = add_dock(window, "Training charts", self.charts, hidden=True)
        self.runs_dock = add_dock(window, "Runs", self.runs_panel, hidden=True)
        self._build_menu()
        self.panel.start_clicked.connect(self.start)
        self.panel.pause_clicked.connect(self.toggle_pause)
        self.panel.stop_clicked.connect(self.stop)
        self.panel.save_charts_clicked.connect(self.save_charts)
        self.runs_panel.run_deleted.connect(self._on_run_deleted)
        self.runs_panel.resume_requested.connect(self.resume_run)
        self._batches_per_epoch = 1
        self._epochs = 1
        self._project = None  # the project whose Train settings the form shows

    # ---- the feature seam ----------------------------------------------------------------------------------
    def project_changed(self, project) -> None:
        self.remember_settings()  # the previous project's, as the form left them
        self._project = project
        folder = project.folder if project is not None else None
        self.runs_panel.set_project_folder(folder)
        self.panel.set_last_checkpoint(_newest_checkpoint(folder))
        self.panel.apply_values(project.train_settings if project is not None else {})

    def can_close(self) -> bool:
        if self.running:
            if not ask_stop_training(self.window):
                return False
            self.stop_and_wait()
        self.remember_settings()
        return True

    def remember_settings(self) -> None:
        """Keep the Train form's values in the project (``project.json``), for its next session."""
        if self._project is None:
            return
        from engine.project.project import SaveError

        try:
            self._project.remember_train_settings(self.panel.values())
        except SaveError as error:
            self.window.statusBar().showMessage(f"Train settings not remembered: {error}", 8000)

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    # ---- window parts --------------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = feature_menu(self.window, "&Train")
        self.show_action = QAction("&Train a Model…", self.window, shortcut="Ctrl+Shift+T", triggered=self.show_panel)
        runs_action = QAction("Training &Runs", self.window, triggered=lambda: self._raise(self.runs_dock))
        save_action = QAction("Save Training &Charts as PNG…", self.window, triggered=self.save_charts)
        menu.addActions([self.show_action, runs_action, save_action])
        self.menu = menu

    def show_panel(self) -> None:
        self._raise(self.train_dock)

    def _raise(self, dock: QDockWidget) -> None:
        """Show ``dock`` in the Train workspace (where the user keeps it, or where that workspace puts it)."""
        self.window.show_workspace("Train")
        dock.show()
        dock.raise_()

    # ---- starting and controlling a run ----------------------------------------------------------------------
    def start(self) -> bool:
        """Start a new run from the Train panel's settings; False (and the reason shown) when refused."""
        if self.running or not self._save_labels():
            return False
        panel = self.panel
        request = RunRequest(ProjectSource(self.window.project, panel.data_choice()), panel.train_settings(),
                             backbone=panel.backbone.currentText(), image_size=panel.image_size.value(),
                             head=panel.head_choice(), weights=panel.weights.currentData())
        try:
            plan = plan_run(request)
        except SetupError as error:
            return self._refuse(str(error))
        self.remember_settings()
        self.start_job(TrainingJob(plan))
        return True

    def resume_run(self, run) -> bool:
        """Continue ``run`` (a RunInfo of the Runs panel) from its last.pt, with its own model, settings and
        images, until the epoch the user asks for; False (and the reason shown) when refused."""
        if self.running or run.last_checkpoint is None or not self._save_labels():
            return False
        planned = int(run.config.get("train", {}).get("epochs") or len(run.results))
        until = ask_resume_epochs(self.window, run.name, len(run.results), planned)
        if until is None:
            return False
        request = RunRequest(ProjectSource(self.window.project), {"epochs": until}, resume=run.last_checkpoint)
        try:
            plan = plan_run(request)
        except SetupError as error:
            return self._refuse(str(error))
        self.start_job(TrainingJob(plan))
        return True

    def _save_labels(self) -> bool:
        """Save unsaved labels first: the run must train on the labels as they are on screen."""
        project = self.window.project
        if project is not None and project.has_unsaved_changes():
            self.window.saving.save()
            if self.window.saving.failures:
                first = self.window.saving.failures[0]
                return self._refuse(f"Unsaved labels could not be saved ({first}). Save them (File > Save To…) "
                                    "before training, so the run uses what you see.")
        return True

    def start_job(self, job: TrainingJob) -> None:
        plan = job.plan
        self.worker = TrainingWorker(job, self)
        self.worker.event.connect(self._on_event)
        self.worker.batches.connect(self._on_batches)
        self.worker.succeeded.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        if plan.resume is not None:  # the epochs done so far, then the new ones live
            self.charts.load_results(read_run(plan.out).results[:plan.epochs_done], plan.out.name)
            doing = f"Resuming {plan.out.name} after epoch {plan.epochs_done} of {plan.train_config.epochs}"
        else:
            self.charts.reset(plan.out.name)
            doing = f"Preparing {plan.out.name}"
        notes = "".join(f" Note: {note}." for note in plan.notes)
        self.panel.set_running(True)
        self.panel.show_message(f"{doing}: {len(plan.data.train)} training and {len(plan.data.val)} validation "
                                f"images…{notes}")
        self.panel.progress.setRange(0, 0)  # busy until the trainer says how many batches
        self.runs_panel.refresh(active_run=plan.out)  # from now on: not resumed nor deleted from the panel
        self.show_panel()
        self.worker.start()

    def toggle_pause(self) -> None:
        if not self.running:
            return
        if self.worker.paused:
            self.worker.resume()
            self.panel.progress.setFormat(self.panel.progress.format().removeprefix("Paused — "))
        else:
            self.worker.pause()
            self.panel.progress.setFormat("Paused — " + self.panel.progress.format())
        self.panel.set_running(True, paused=self.worker.paused)

    def stop(self) -> None:
        if self.running:
            self.worker.request_stop()
            self.panel.stop_button.setEnabled(False)
            self.panel.show_message("Stopping after the current batch; the checkpoint is kept…")

    def stop_and_wait(self) -> None:
        """Stop the run and wait for its thread: no training thread outlives the window."""
        if self.worker is not None:
            self.worker.request_stop()
            self.worker.wait()

    def save_charts(self) -> None:
        suggested = self.window.project.folder / "training-charts.png" if self.window.project else Path("charts.png")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save charts as PNG", str(suggested), "PNG image (*.png)")
        if path and not self.charts.save_png(path):
            QMessageBox.warning(self.window, "Charts not saved", f"Could not write {path}.")

    def _refuse(self, message: str) -> bool:
        self.show_panel()
        self.panel.show_message(message, error=True)
        return False

    def _on_run_deleted(self, _path: str) -> None:
        # the starting weights may have offered the deleted run's checkpoint
        if self.window.project is not None:
            self.panel.set_last_checkpoint(_newest_checkpoint(self.window.project.folder))

    # ---- the worker's signals (GUI thread) -----------------------------------------------------------------
    def _on_event(self, event) -> None:
        if isinstance(event, RunPrepared):
            if event.resumed_from:
                self.panel.show_message(f"Resuming after epoch {event.epochs_done}: training on "
                                        f"{event.train_images} images, validating on {event.val_images}. "
                                        f"Weights: those of {event.resumed_from}.")
                return
            self.panel.show_message(f"Training on {event.train_images} images, validating on "
                                    f"{event.val_images}. Starting weights: {event.weights_message}.",
                                    error=event.weights_source == "random"
                                    and self.worker.job.plan.weights != "none")
        elif isinstance(event, TrainStart):
            self._epochs, self._batches_per_epoch = event.epochs, event.batches
            self.panel.progress.setRange(0, self._epochs * self._batches_per_epoch)
            self.panel.progress.setValue(event.start_epoch * self._batches_per_epoch)
            self.panel.progress.setFormat(f"Epoch {event.start_epoch + 1}/{self._epochs} on {event.device}")
            self.runs_panel.refresh(active_run=self.worker.job.out_dir)
        elif isinstance(event, EpochEnd):
            self.charts.add_epoch(event)
        elif isinstance(event, ValidationEnd):
            self.charts.add_eval(event)
            ema = f", EMA {event.ema_map50:.3f}" if event.ema_map50 is not None else ""
            self.window.statusBar().showMessage(f"Epoch {event.epoch}: mAP@0.5 {event.map50:.3f}{ema}", 8000)
            self.runs_panel.refresh()

    def _on_batches(self, batches: list) -> None:
        self.charts.add_batches(batches)
        last = batches[-1]
        self.panel.progress.setValue((last.epoch - 1) * last.batches + last.batch)
        paused = "Paused — " if self.worker is not None and self.worker.paused else ""
        self.panel.progress.setFormat(
            f"{paused}Epoch {last.epoch}/{self._epochs} · batch {last.batch}/{last.batches} · "
            f"{last.images_per_s:.1f} img/s · ETA {_duration(last.eta_s)}")

    def _on_failed(self, message: str) -> None:
        worker = self.worker
        outcome = worker.outcome if worker is not None else None
        self._on_done(outcome or RunOutcome("failed", message, worker.job.out_dir if worker else Path()))

    def _on_done(self, outcome: RunOutcome) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.wait()  # run() has returned: this is immediate
            worker.deleteLater()
        self.panel.set_running(False)
        self.panel.progress.setRange(0, 1)
        self.panel.progress.setValue(1 if outcome.status == "finished" else 0)
        self.panel.progress.setFormat(outcome.status.capitalize())
        kept = outcome.kept_checkpoint
        note = f" Checkpoint: {kept}" if kept else ""
        failed = outcome.status == "failed"
        self.panel.show_message(f"{outcome.message[:1].upper()}{outcome.message[1:]}.{note}"
                                if not failed else outcome.message, error=failed)
        self.window.statusBar().showMessage(f"Training {outcome.status}: {Path(outcome.out_dir).name}", 15000)
        self.runs_panel.refresh(active_run=None)
        if self.window.project is not None:
            self.panel.set_last_checkpoint(_newest_checkpoint(self.window.project.folder))
        self.run_finished.emit(outcome)


def _newest_checkpoint(folder: Path | None) -> tuple[Path, str] | None:
    """(checkpoint, backbone) of the project's newest run that has one."""
    if folder is None:
        return None
    for run in list_runs(folder):
        checkpoint = run.best_checkpoint or run.last_checkpoint
        backbone = run.config.get("model", {}).get("backbone")
        if checkpoint is not None and backbone:
            return checkpoint, backbone
    return None


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
