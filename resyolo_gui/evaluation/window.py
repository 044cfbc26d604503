"""The evaluation window: pick a checkpoint, detect on the validation images, then click through the results.

Per-class AP (VOC07 and COCO) with the precision-recall curve of the chosen class; the confusion matrix, whose
cells list the images behind them; those images, worst disagreement first; and the chosen image with labels and
predictions together, one button away from the labelling view where its labels can be corrected.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QHBoxLayout, QHeaderView,
                               QLabel, QProgressBar, QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget)

from engine.evaluation.analysis import DEFAULT_SCORE_THRESHOLD
from engine.inference import scoring
from resyolo_gui.evaluation.comparison import ComparisonView
from resyolo_gui.evaluation.pr_plot import PRPlot
from resyolo_gui.evaluation.tables import APTableModel, ConfusionMatrixModel, ImageListModel
from resyolo_gui.evaluation.worker import EvaluationThread
from resyolo_gui.model_dialog import ask_model_file

NAME_COLUMN_MIN, NAME_COLUMN_MAX = 90, 320  # px; a name cut to fit keeps its end (the tooltip has it whole)


class EvaluationWindow(QWidget):
    finished = Signal(bool)  # an evaluation ended: True with results, False stopped or failed

    def __init__(self, main_window):
        super().__init__(main_window)  # the panel of the Evaluate workspace
        self.main_window = main_window
        self.evaluation: scoring.Evaluation | None = None
        self.thread: EvaluationThread | None = None
        self._build()

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        self.checkpoints = QComboBox(self)
        self.checkpoints.setMinimumContentsLength(28)
        self.browse_button = QPushButton("Checkpoint file…", self)
        self.browse_button.clicked.connect(self.browse_checkpoint)
        self.threshold = QDoubleSpinBox(self, minimum=0.01, maximum=0.99, singleStep=0.05, decimals=2)
        self.threshold.setValue(DEFAULT_SCORE_THRESHOLD)
        self.threshold.setToolTip("Predictions scored at least this count in the matrix and the image list")
        self.threshold.valueChanged.connect(lambda _value: self.rescore())
        self.evaluate_button = QPushButton("Evaluate", self)
        self.evaluate_button.clicked.connect(lambda: self.start())
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.rescore_button = QPushButton("Re-score with current labels", self)
        self.rescore_button.setToolTip("After correcting labels: the same detections against the labels as they are now")
        self.rescore_button.setEnabled(False)
        self.rescore_button.clicked.connect(lambda: self.rescore())
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        bar = QHBoxLayout()
        for widget in (QLabel("Checkpoint:", self), self.checkpoints, self.browse_button, self.evaluate_button,
                       self.stop_button, QLabel("Score ≥", self), self.threshold, self.rescore_button):
            bar.addWidget(widget)
        bar.addWidget(self.progress, 1)
        bar.addStretch(1)
        self.status = QLabel("Choose a checkpoint and press Evaluate.", self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.ap_model = APTableModel(self)
        self.ap_table = self._table(self.ap_model, sortable=True)
        self.ap_table.clicked.connect(lambda index: self.show_class(self.ap_model.class_id(index.row())))
        self.map_label = QLabel(self)
        self.pr_plot = PRPlot(self)
        left = self._column([self.map_label, self.ap_table, self.pr_plot], [0, 1, 3])

        self.matrix_model = ConfusionMatrixModel(self)
        self.matrix = self._table(self.matrix_model, sortable=False)
        self.matrix.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.matrix.clicked.connect(lambda index: self.show_cell(index.row(), index.column()))
        self.image_model = ImageListModel(self)
        self.image_table = self._table(self.image_model, sortable=True)
        # the name column is sized to the names (_fit_name_column); a long name is cut in the middle, keeping
        # its number and extension, and its tooltip has it whole
        self.image_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.image_table.viewport().installEventFilter(self)
        self.image_table.selectionModel().currentRowChanged.connect(lambda current, _old: self._image_chosen(current.row()))
        self.image_table.doubleClicked.connect(lambda _index: self.open_in_labelling_view())
        self.images_caption = QLabel(self)
        self.images_caption.setWordWrap(True)
        self.all_images_button = QPushButton("All images", self)
        self.all_images_button.clicked.connect(self.show_all_images)
        caption_row = QWidget(self)
        caption_layout = QHBoxLayout(caption_row)
        caption_layout.setContentsMargins(0, 0, 0, 0)
        caption_layout.addWidget(self.images_caption, 1)
        caption_layout.addWidget(self.all_images_button)
        matrix_caption = QLabel("<b>Confusion matrix</b> — rows: what the labels say, columns: what the model "
                                "predicted. Click a cell for its images.", self)
        matrix_caption.setWordWrap(True)
        middle = self._column([matrix_caption, self.matrix, caption_row, self.image_table], [0, 2, 0, 3])

        self.comparison = ComparisonView(self)
        self.comparison.open_button.clicked.connect(self.open_in_labelling_view)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for widget in (left, middle, self.comparison):
            splitter.addWidget(widget)
        for index, stretch in enumerate((0, 0, 1)):  # a wider window widens the image, not the tables
            splitter.setStretchFactor(index, stretch)
        splitter.setSizes([540, 430, 530])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        self._show_results(None)

    def _table(self, model, sortable: bool) -> QTableView:
        table = QTableView(self)
        table.setModel(model)
        table.setSortingEnabled(sortable)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setDefaultSectionSize(22)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "synth_0012.jpg" -> "synt…12.jpg", not "synt…"
        table.setWordWrap(False)
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        return table

    def _column(self, widgets, stretches) -> QWidget:
        column = QWidget(self)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in zip(widgets, stretches):
            layout.addWidget(widget, stretch)
        return column

    # ----------------------------------------------------------------- checkpoints
    def refresh_checkpoints(self, select: Path | None = None) -> None:
        """The project's run checkpoints, plus ``select`` (or the file chosen before) when it is elsewhere."""
        keep = Path(select) if select is not None else self.current_checkpoint()
        self.checkpoints.clear()
        project = self.main_window.project
        choices = scoring.checkpoint_choices(project.folder) if project is not None else []
        for choice in choices:
            self.checkpoints.addItem(choice.label, str(choice.path))
        if keep is not None:
            index = self.checkpoints.findData(str(keep))
            if index < 0:
                self.checkpoints.addItem(f"{keep.name} — {keep.parent}", str(keep))
                index = self.checkpoints.count() - 1
            self.checkpoints.setCurrentIndex(index)
        self.evaluate_button.setEnabled(self.checkpoints.count() > 0 and project is not None)

    def current_checkpoint(self) -> Path | None:
        data = self.checkpoints.currentData()
        return Path(data) if data else None

    def browse_checkpoint(self) -> None:
        project = self.main_window.project
        path = ask_model_file(self, "Choose a checkpoint", project.folder if project is not None else None)
        if path:
            self.refresh_checkpoints(Path(path))

    # ----------------------------------------------------------------- running
    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, checkpoint: Path | None = None) -> bool:
        """Detect on the checkpoint's evaluation images in a worker thread; False when it cannot start."""
        if checkpoint is not None:
            self.refresh_checkpoints(Path(checkpoint))
        checkpoint = self.current_checkpoint()
        project = self.main_window.project
        if checkpoint is None or project is None or self.is_running():
            return False
        images, note = scoring.evaluation_images(project, checkpoint)
        if not images:
            self.status.setText(f"Nothing to evaluate on: {note}. Label some images first.")
            return False
        self._show_results(None)
        self.status.setText(f"Detecting with {checkpoint.name} on {note}…")
        self.thread = EvaluationThread(checkpoint, images, note, self.threshold.value(), self)
        self.thread.progress.connect(self._on_progress)
        self.thread.succeeded.connect(self._on_succeeded)
        self.thread.failed.connect(self._on_failed)
        self.progress.setRange(0, len(images))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._set_running(True)
        self.thread.start()
        return True

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    def wait_for_done(self, timeout_ms: int = 30000) -> None:
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait(timeout_ms)

    def _set_running(self, running: bool) -> None:
        self.evaluate_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.checkpoints.setEnabled(not running)
        self.browse_button.setEnabled(not running)
        self.progress.setVisible(running)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.progress.setFormat(f"detecting %v / {total}")

    def _on_succeeded(self, evaluation: scoring.Evaluation) -> None:
        self._set_running(False)
        self._show_results(evaluation)
        self.finished.emit(True)

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.status.setText(message)
        self.finished.emit(False)

    def rescore(self) -> None:
        """Score the same detections again: at the new threshold, against the labels as they are now."""
        if self.evaluation is not None and not self.is_running():
            try:
                self._show_results(scoring.score(self.evaluation, self.threshold.value()))
            except ValueError as exc:  # e.g. a label edited into something the evaluators refuse
                self.status.setText(f"Cannot score: {exc}")

    # ----------------------------------------------------------------- results
    def _show_results(self, evaluation: scoring.Evaluation | None) -> None:
        self.evaluation = evaluation
        self.rescore_button.setEnabled(evaluation is not None)
        self.ap_model.set_evaluation(evaluation)
        self.matrix_model.set_evaluation(evaluation)
        self.comparison.clear()
        if evaluation is None:
            self.map_label.setText("")
            self.pr_plot.show_class(None, None)
            self.image_model.set_images(None, [])
            self.images_caption.setText("")
            return
        self.status.setText(f"{evaluation.checkpoint.name}: " + " ".join(evaluation.notes))
        voc, coco = evaluation.voc07.mAP, evaluation.coco.mAP
        coco_figures = " · ".join(f"{name.replace('_', ' ')} {_number(value)}"
                                  for name, value in evaluation.coco.extra.items())
        self.map_label.setText(f"<b>mAP</b> VOC07 {_number(voc)} · COCO {_number(coco)} · "
                               f"{len(evaluation.images)} images<br><small>COCO: {coco_figures}</small>")
        self.map_label.setWordWrap(True)
        if evaluation.labels.names:
            self.show_class(0 if self.pr_plot.class_name not in evaluation.labels.names
                            else evaluation.labels.names.index(self.pr_plot.class_name), list_images=False)
        self.show_all_images()

    def show_class(self, class_id: int, list_images: bool = True) -> None:
        name = self.evaluation.labels.names[class_id]
        self.pr_plot.show_class(self.evaluation, name)
        if list_images:
            self._list_images(self.evaluation.analysis.images_for_class(class_id),
                              f"Images with {name} in the labels or the predictions")

    def show_cell(self, row: int, column: int) -> None:
        if self.evaluation is None:
            return
        self._list_images(self.evaluation.analysis.images_for_cell(row, column),
                          self.matrix_model.describe(row, column).capitalize())

    def show_all_images(self) -> None:
        if self.evaluation is not None:
            self._list_images(list(range(len(self.evaluation.images))), "All images")

    def _list_images(self, indices: list[int], caption: str) -> None:
        ranked = self.evaluation.analysis.ranked(indices)
        self.image_model.set_images(self.evaluation, ranked)
        self.image_table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        self._fit_name_column()
        self.images_caption.setText(f"{caption}: {len(ranked)} image(s), worst disagreement first")
        if ranked:
            self.image_table.selectRow(0)

    def _fit_name_column(self) -> None:
        """The image names as wide as they are, within the room the count columns leave (then cut in the
        middle, so the number that tells two names apart stays in sight)."""
        table = self.image_table
        table.resizeColumnToContents(0)
        others = sum(table.columnWidth(c) for c in range(1, self.image_model.columnCount()))
        room = table.viewport().width() - others
        table.setColumnWidth(0, max(NAME_COLUMN_MIN, min(table.columnWidth(0), room, NAME_COLUMN_MAX)))

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.image_table.viewport():
            self._fit_name_column()
        return super().eventFilter(watched, event)

    def _image_chosen(self, row: int) -> None:
        if self.evaluation is not None and 0 <= row < self.image_model.rowCount():
            self.comparison.show_image(self.evaluation, self.image_model.image_index(row))

    def shown_image(self):
        """The project annotation of the image in the comparison view, or None."""
        row = self.image_table.currentIndex().row()
        if self.evaluation is None or row < 0 or row >= self.image_model.rowCount():
            return None
        return self.evaluation.images[self.image_model.image_index(row)]

    def open_in_labelling_view(self) -> None:
        ann, project = self.shown_image(), self.main_window.project
        if ann is None or project is None:
            return
        row = next((i for i, a in enumerate(project.annotations) if a is ann), -1)
        if row < 0:
            self.status.setText(f"{Path(ann.image_path).name} is no longer in the open project.")
            return
        self.main_window.browser.set_current(row)
        self.main_window.show_workspace("Label")


def _number(value: float) -> str:
    return "—" if value != value else f"{value:.3f}"
