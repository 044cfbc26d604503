"""The Train panel: the settings form (data, model, training), Start / Pause / Stop, progress and messages.

A plain form: it knows nothing of threads. :mod:`resyolo_gui.training.controller` reads it, runs the
pre-flight checks and the worker, and writes progress and messages back.
"""
from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QScrollArea, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.config import BACKBONES, STRIDE, ModelConfig
from engine.device import device_description, resolve_device
from engine.train_config import TrainConfig
from engine.weights import imagenet_cache_path
from resyolo_gui.training.preflight import VAL_FOLDER, VAL_NONE, VAL_SPLIT, DataChoice

RANDOM_WEIGHTS_WARNING = ("Random starting weights: the model must learn everything from your images. Expect many "
                          "more epochs and worse results than starting from ImageNet weights.")


class TrainPanel(QWidget):
    start_clicked = Signal()
    pause_clicked = Signal()
    stop_clicked = Signal()
    save_charts_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        recipe, model = TrainConfig.recipe(), ModelConfig()
        self._last_checkpoint: tuple[Path, str] | None = None  # (path, backbone) of the project's newest run
        form = QWidget()
        column = QVBoxLayout(form)
        column.addWidget(self._data_group())
        column.addWidget(self._model_group(model))
        column.addWidget(self._training_group(recipe))
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(form)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setMinimumHeight(200)  # the settings stay usable when other docks share the column
        self.message = self._wrapping_label()
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        self.progress.setValue(0)
        self.start_button = QPushButton("Start training", self)
        self.pause_button = QPushButton("Pause", self)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop after the current batch; the checkpoint is kept")
        self.save_charts_button = QPushButton("Save charts as PNG…", self)
        for button, signal in ((self.start_button, self.start_clicked), (self.pause_button, self.pause_clicked),
                               (self.stop_button, self.stop_clicked), (self.save_charts_button, self.save_charts_clicked)):
            button.clicked.connect(signal)  # signal to signal: the button's `checked` argument is dropped
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.save_charts_button)
        self.set_running(False)
        self._update_data_fields()
        self._fill_weights()

    # ---- the form ----------------------------------------------------------------------------------------
    def _data_group(self) -> QGroupBox:
        group = QGroupBox("Data: the project's labelled images", self)
        form = QFormLayout(group)
        self.verified_only = QCheckBox("Only verified images", group)
        self.val_mode = QComboBox(group)
        for text, mode in (("Split off a share", VAL_SPLIT), ("Separate folder", VAL_FOLDER),
                           ("None (all images train)", VAL_NONE)):
            self.val_mode.addItem(text, mode)
        self.val_mode.currentIndexChanged.connect(self._update_data_fields)
        self.val_fraction = QDoubleSpinBox(group, minimum=0.0, maximum=90.0, singleStep=5.0, decimals=0, value=20.0,
                                           suffix=" %")
        self.split_seed = QSpinBox(group, minimum=0, maximum=2**31 - 1, value=0)
        self.split_seed.setToolTip("The same seed always picks the same validation images")
        self.val_folder = QLineEdit(group, placeholderText="folder of labelled validation images")
        browse = QPushButton("…", group, clicked=self._browse_val_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.val_folder, 1)
        folder_row.addWidget(browse)
        form.addRow(self.verified_only)
        form.addRow("Validation", self.val_mode)
        form.addRow("Validation share", self.val_fraction)
        form.addRow("Split seed", self.split_seed)
        form.addRow("Validation folder", folder_row)
        self._data_form, self._folder_row = form, folder_row
        return group

    def _model_group(self, model: ModelConfig) -> QGroupBox:
        group = QGroupBox("Model", self)
        form = self._model_form = QFormLayout(group)
        self.backbone = QComboBox(group)
        self.backbone.addItems(list(BACKBONES))
        self.backbone.setCurrentText(model.backbone)
        self.backbone.currentIndexChanged.connect(self._fill_weights)
        self.image_size = QSpinBox(group, minimum=STRIDE, maximum=2048, singleStep=STRIDE, value=model.image_size,
                                   suffix=" px")
        self.image_size.setToolTip(f"Side of the square model input: a multiple of {STRIDE}")
        self.weights = QComboBox(group)
        self.weights.currentIndexChanged.connect(self._update_weights_warning)
        form.addRow("Backbone", self.backbone)
        form.addRow("Input size", self.image_size)
        form.addRow("Starting weights", self.weights)
        self.weights_warning = self._wrapping_label("color: #b06000;")
        self.weights_warning.setText(RANDOM_WEIGHTS_WARNING)
        form.addRow(self.weights_warning)
        return group

    def _training_group(self, recipe: TrainConfig) -> QGroupBox:
        group = QGroupBox("Training", self)
        form = QFormLayout(group)
        self.epochs = QSpinBox(group, minimum=1, maximum=10000, value=recipe.epochs)
        self.batch_size = QSpinBox(group, minimum=1, maximum=1024, value=recipe.batch_size)
        self.lr = QDoubleSpinBox(group, minimum=1e-6, maximum=1.0, decimals=6, singleStep=1e-4, value=recipe.lr)
        self.ema = QCheckBox("Keep an EMA of the weights", group, checked=recipe.ema)
        self.device = QComboBox(group)
        self.device.addItem(f"Auto ({device_description(resolve_device('auto'))})", "auto")
        self.device.addItem("CPU", "cpu")
        if torch.cuda.is_available():
            self.device.addItem(f"GPU ({device_description(torch.device('cuda'))})", "cuda")
        self.eval_every = QSpinBox(group, minimum=1, maximum=1000, value=recipe.eval_every, suffix=" epoch(s)")
        self.eval_every.setToolTip("Validation mAP is measured this often, and always after the last epoch")
        self.workers = QSpinBox(group, minimum=0, maximum=16, value=0)
        self.workers.setToolTip("Data-loading processes; 0 loads images in the training thread")
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.lr)
        form.addRow(self.ema)
        form.addRow("Validate every", self.eval_every)
        form.addRow("Device", self.device)
        form.addRow("Loader processes", self.workers)
        return group

    def _wrapping_label(self, style: str = "") -> QLabel:
        label = QLabel(self)
        label.setWordWrap(True)
        label.setStyleSheet(style)
        return label

    def _browse_val_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of labelled validation images")
        if folder:
            self.val_folder.setText(folder)

    def _update_data_fields(self) -> None:
        mode = self.val_mode.currentData()
        for widget, visible in ((self.val_fraction, mode == VAL_SPLIT), (self.split_seed, mode == VAL_SPLIT),
                                (self._folder_row, mode == VAL_FOLDER)):
            self._data_form.setRowVisible(widget, visible)

    # ---- starting weights --------------------------------------------------------------------------------
    def set_last_checkpoint(self, checkpoint: tuple[Path, str] | None) -> None:
        """The project's newest run checkpoint and its backbone, offered as starting weights when it fits."""
        self._last_checkpoint = checkpoint
        self._fill_weights()

    def _fill_weights(self) -> None:
        backbone = self.backbone.currentText()
        previous = self.weights.currentData()
        self.weights.blockSignals(True)
        self.weights.clear()
        if imagenet_cache_path(backbone).is_file():
            self.weights.addItem(f"ImageNet ({backbone})", "imagenet")
        if self._last_checkpoint is not None and self._last_checkpoint[1] == backbone:
            path = self._last_checkpoint[0]
            self.weights.addItem(f"Last run: {path.parent.name}/{path.name}", str(path))
        self.weights.addItem("Random (not recommended)", "none")
        index = self.weights.findData(previous)
        self.weights.setCurrentIndex(index if index >= 0 and previous != "none" else 0)
        self.weights.setToolTip("" if imagenet_cache_path(backbone).is_file() else
                                f"ImageNet weights are not on this computer; to use them, place the file at "
                                f"{imagenet_cache_path(backbone)}")
        self.weights.blockSignals(False)
        self._update_weights_warning()

    def _update_weights_warning(self) -> None:
        self._model_form.setRowVisible(self.weights_warning, self.weights.currentData() == "none")

    # ---- reading and state -------------------------------------------------------------------------------
    def data_choice(self) -> DataChoice:
        folder = self.val_folder.text().strip()
        return DataChoice(self.verified_only.isChecked(), self.val_mode.currentData(),
                          self.val_fraction.value() / 100.0, self.split_seed.value(), Path(folder) if folder else None)

    def train_settings(self) -> dict:
        """TrainConfig overrides."""
        return {"epochs": self.epochs.value(), "batch_size": self.batch_size.value(), "lr": self.lr.value(),
                "ema": self.ema.isChecked(), "device": self.device.currentData(), "workers": self.workers.value(),
                "eval_every": self.eval_every.value()}

    def set_running(self, running: bool, paused: bool = False) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.stop_button.setEnabled(running)
        for widget in (self.verified_only, self.val_mode, self.val_fraction, self.split_seed, self.val_folder,
                       self.backbone, self.image_size, self.weights, self.epochs, self.batch_size, self.lr,
                       self.ema, self.eval_every, self.device, self.workers):
            widget.setEnabled(not running)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c0392b;" if error else "")
        self.message.setText(text)
