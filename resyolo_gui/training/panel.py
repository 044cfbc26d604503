"""The Train panel: the settings form (data, model, training), Start / Pause / Stop, progress and messages.

A plain form: it knows nothing of threads. :mod:`resyolo_gui.training.controller` reads it, runs the
pre-flight checks and the worker, and writes progress and messages back; it also keeps the form's values in
the project (:meth:`TrainPanel.values` / :meth:`TrainPanel.apply_values`), so each project reopens with its own.

The form never moves under the mouse: a choice greys out the fields it makes irrelevant rather than hiding
them, and the random-weights warning keeps its room when hidden.

The panel is built with the window, but labelling needs no torch: the device list (which asks torch for CUDA) is
completed when the panel is first shown or a run's settings are read (:meth:`TrainPanel.list_devices`); until
then a remembered device the list does not hold yet is kept as it was. Whether ImageNet weights are on this
computer is answered without torch (:mod:`engine.model.imagenet_files`).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QScrollArea, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.model.config import BACKBONES, STRIDE, ModelConfig
from engine.model.imagenet_files import imagenet_cache_path
from engine.training.config import DEFAULT_PRESET, PRESET_HEADS, TrainConfig
from engine.training.preflight import VAL_FOLDER, VAL_NONE, VAL_SPLIT, DataChoice

PRESET_LABELS = {"modern": "Modern: anchor-free head, AdamW, mosaic", "recipe": "Recipe: the study's YOLO v1 head"}
HEAD_LABELS = {"anchor_free": "Anchor-free (FPN/PAN, decoupled)", "recipe": "Recipe (YOLO v1, one scale)"}
AUGMENT_LABELS = {"modern": "Mosaic, scale/shift, HSV, flip", "recipe": "Recipe: flip, scale, shift, crop",
                  "none": "None"}
RANDOM_WEIGHTS_WARNING = ("Random starting weights: the model must learn everything from your images. Expect many "
                          "more epochs and worse results than starting from ImageNet weights.")


class TrainPanel(QWidget):
    start_clicked = Signal()
    pause_clicked = Signal()
    stop_clicked = Signal()
    save_charts_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        recipe, model = TrainConfig.preset(DEFAULT_PRESET), ModelConfig(head=PRESET_HEADS[DEFAULT_PRESET])
        self._last_checkpoint: tuple[Path, str] | None = None  # (path, backbone) of the project's newest run
        self._devices_listed = False  # torch asked which devices there are (list_devices)
        self._device_wanted: str | None = None  # a remembered device not listed yet (e.g. "cuda" before listing)
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
        self._update_augment_fields()
        self._update_data_fields()
        self._fill_weights()
        self._defaults = self.values()  # what a project without remembered values starts from

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
        browse = self._browse_val = QPushButton("…", group, clicked=self._browse_val_folder)
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
        self.head = QComboBox(group)
        for name, text in HEAD_LABELS.items():
            self.head.addItem(text, name)
        self.head.setCurrentIndex(self.head.findData(model.head))
        self.head.setToolTip("Anchor-free: three scales (strides 8/16/32), task-aligned assignment, CIoU + DFL "
                             "box loss; learns much faster from few images. Recipe: the reference study's head.")
        self.image_size = QSpinBox(group, minimum=STRIDE, maximum=2048, singleStep=STRIDE, value=model.image_size,
                                   suffix=" px")
        self.image_size.setToolTip(f"Side of the square model input: a multiple of {STRIDE}")
        self.weights = QComboBox(group)
        # as wide whatever it lists (ImageNet, the last run, random): changing the backbone resizes nothing
        self.weights.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.weights.setMinimumContentsLength(24)
        self.weights.currentIndexChanged.connect(self._update_weights_warning)
        form.addRow("Backbone", self.backbone)
        form.addRow("Head", self.head)
        form.addRow("Input size", self.image_size)
        form.addRow("Starting weights", self.weights)
        self.weights_warning = self._wrapping_label("color: #b06000;")
        self.weights_warning.setText(RANDOM_WEIGHTS_WARNING)
        policy = self.weights_warning.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # shown and hidden as the weights change: the rows below stay put
        self.weights_warning.setSizePolicy(policy)
        holder = QWidget(group)  # a form row with a hidden widget collapses; a box layout keeps its room
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(self.weights_warning)
        form.addRow(holder)
        return group

    def _training_group(self, recipe: TrainConfig) -> QGroupBox:
        group = QGroupBox("Training", self)
        form = self._training_form = QFormLayout(group)
        self.preset = QComboBox(group)
        for name, text in PRESET_LABELS.items():
            self.preset.addItem(text, name)
        self.preset.setCurrentIndex(self.preset.findData(DEFAULT_PRESET))
        self.preset.setToolTip("Fills in the head and every training setting below; change any of them after")
        self.preset.activated.connect(self._apply_preset)
        self.epochs = QSpinBox(group, minimum=1, maximum=10000, value=recipe.epochs)
        self.batch_size = QSpinBox(group, minimum=1, maximum=1024, value=recipe.batch_size)
        self.lr = QDoubleSpinBox(group, minimum=1e-6, maximum=1.0, decimals=6, singleStep=1e-4, value=recipe.lr)
        self.optimizer = QComboBox(group)
        self.optimizer.addItem("AdamW", "adamw")
        self.optimizer.addItem("SGD (momentum 0.9)", "sgd")
        self.schedule = QComboBox(group)
        self.schedule.addItem("Cosine decay", "cosine")
        self.schedule.addItem("Steps (x0.1 at 50% and 75%)", "multistep")
        self.schedule.addItem("Constant", "constant")
        self.warmup = QDoubleSpinBox(group, minimum=0.0, maximum=100.0, decimals=1, singleStep=1.0, suffix=" epoch(s)")
        self.augment = QComboBox(group)
        for name, text in AUGMENT_LABELS.items():
            self.augment.addItem(text, name)
        self.augment.currentIndexChanged.connect(self._update_augment_fields)
        self.mosaic = QDoubleSpinBox(group, minimum=0.0, maximum=100.0, decimals=0, singleStep=10.0, suffix=" %")
        self.mosaic.setToolTip("Share of training images made of four images (more objects, at the borders too)")
        self.close_mosaic = QSpinBox(group, minimum=0, maximum=10000, suffix=" epoch(s)")
        self.close_mosaic.setToolTip("The last epochs see whole images (at most a quarter of the run)")
        self.ema = QCheckBox("Keep an EMA of the weights", group, checked=recipe.ema)
        self.device = QComboBox(group)
        self.device.addItem("Auto", "auto")  # completed by list_devices (it asks torch)
        self.device.addItem("CPU", "cpu")
        self.device.currentIndexChanged.connect(self._forget_wanted_device)
        self.eval_every = QSpinBox(group, minimum=1, maximum=1000, value=recipe.eval_every, suffix=" epoch(s)")
        self.eval_every.setToolTip("Validation mAP is measured this often, and always after the last epoch")
        self.workers = QSpinBox(group, minimum=0, maximum=16, value=0)
        self.workers.setToolTip("Data-loading processes; 0 loads images in the training thread")
        form.addRow("Preset", self.preset)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Optimiser", self.optimizer)
        form.addRow("Learning rate", self.lr)
        form.addRow("Schedule", self.schedule)
        form.addRow("Warm-up", self.warmup)
        form.addRow("Augmentation", self.augment)
        form.addRow("Mosaic", self.mosaic)
        form.addRow("No mosaic in the last", self.close_mosaic)
        form.addRow(self.ema)
        form.addRow("Validate every", self.eval_every)
        form.addRow("Device", self.device)
        form.addRow("Loader processes", self.workers)
        self._show_settings(recipe)
        return group

    # ---- devices (torch is asked only once the panel is used) ---------------------------------------------
    def showEvent(self, event) -> None:
        self.list_devices()
        super().showEvent(event)

    def list_devices(self) -> None:
        """Name the Auto device and add the GPU torch sees (imports torch; once). A remembered device that was
        waiting for the list is chosen now if it is there (else the choice stays as it is)."""
        if self._devices_listed:
            return
        self._devices_listed = True
        import torch

        from engine.model.device import device_description, resolve_device

        wanted = self._device_wanted
        self.device.setItemText(self.device.findData("auto"), f"Auto ({device_description(resolve_device('auto'))})")
        if torch.cuda.is_available():
            self.device.addItem(f"GPU ({device_description(torch.device('cuda'))})", "cuda")
        index = self.device.findData(wanted) if wanted is not None else -1
        if index >= 0:
            self.device.setCurrentIndex(index)
        self._device_wanted = None

    def _forget_wanted_device(self, _index: int = -1) -> None:
        self._device_wanted = None  # a device was chosen

    def _device_value(self) -> str:
        return self._device_wanted if self._device_wanted is not None else self.device.currentData()

    def _show_settings(self, config: TrainConfig) -> None:
        self.epochs.setValue(config.epochs)
        self.batch_size.setValue(config.batch_size)
        self.lr.setValue(config.lr)
        self.optimizer.setCurrentIndex(self.optimizer.findData(config.optimizer))
        self.schedule.setCurrentIndex(self.schedule.findData(config.schedule))
        self.warmup.setValue(config.warmup_epochs)
        self.augment.setCurrentIndex(self.augment.findData(config.augment))
        self.mosaic.setValue(config.mosaic * 100)
        self.close_mosaic.setValue(config.close_mosaic)
        self.ema.setChecked(config.ema)

    def _apply_preset(self) -> None:
        """One click to a preset: its head and all its training settings (device, workers and data stay)."""
        name = self.preset.currentData()
        self.head.setCurrentIndex(self.head.findData(PRESET_HEADS[name]))
        self._show_settings(TrainConfig.preset(name))

    def _update_augment_fields(self) -> None:
        # Greyed, not hidden: a row that comes and goes moves the fields below it under the mouse.
        modern = self.augment.currentData() == "modern" and self.augment.isEnabled()
        for widget in (self.mosaic, self.close_mosaic):
            widget.setEnabled(modern)

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
        """Grey out what the validation choice does not use (hiding it moved every field below)."""
        mode = self.val_mode.currentData()
        enabled = self.start_button.isEnabled()  # not while a run trains
        for widget, used in ((self.val_fraction, mode == VAL_SPLIT), (self.split_seed, mode == VAL_SPLIT),
                             (self.val_folder, mode == VAL_FOLDER), (self._browse_val, mode == VAL_FOLDER)):
            widget.setEnabled(used and enabled)

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
        self.weights_warning.setVisible(self.weights.currentData() == "none")

    # ---- reading and state -------------------------------------------------------------------------------
    def data_choice(self) -> DataChoice:
        folder = self.val_folder.text().strip()
        return DataChoice(self.verified_only.isChecked(), self.val_mode.currentData(),
                          self.val_fraction.value() / 100.0, self.split_seed.value(), Path(folder) if folder else None)

    def train_settings(self) -> dict:
        """TrainConfig overrides (a run is being set up: the devices are listed first)."""
        self.list_devices()
        return {"preset": self.preset.currentData(), "epochs": self.epochs.value(),
                "batch_size": self.batch_size.value(), "lr": self.lr.value(), "optimizer": self.optimizer.currentData(),
                "schedule": self.schedule.currentData(), "warmup_epochs": self.warmup.value(),
                "augment": self.augment.currentData(), "mosaic": self.mosaic.value() / 100.0,
                "close_mosaic": self.close_mosaic.value(), "ema": self.ema.isChecked(),
                "device": self.device.currentData(), "workers": self.workers.value(),
                "eval_every": self.eval_every.value()}

    def values(self) -> dict:
        """The form as plain values by name (what the project remembers)."""
        return {"verified_only": self.verified_only.isChecked(), "val_mode": self.val_mode.currentData(),
                "val_fraction": self.val_fraction.value(), "split_seed": self.split_seed.value(),
                "val_folder": self.val_folder.text(), "backbone": self.backbone.currentText(),
                "image_size": self.image_size.value(), "weights": self.weights.currentData(),
                "epochs": self.epochs.value(), "batch_size": self.batch_size.value(), "lr": self.lr.value(),
                "ema": self.ema.isChecked(), "eval_every": self.eval_every.value(),
                "device": self._device_value(), "workers": self.workers.value(),
                "head": self.head.currentData(), "preset": self.preset.currentData(),
                "optimizer": self.optimizer.currentData(), "schedule": self.schedule.currentData(),
                "warmup": self.warmup.value(), "augment": self.augment.currentData(), "mosaic": self.mosaic.value(),
                "close_mosaic": self.close_mosaic.value()}

    def apply_values(self, values: dict) -> None:
        """The defaults, then ``values`` (as :meth:`values` gives them): a name or value this form does not
        know (another version's, a device or backbone not here, a checkpoint gone) keeps the default."""
        for source in (self._defaults, values or {}):
            self._apply(source)

    def _apply(self, values: dict) -> None:
        def number(name, kind):
            value = values.get(name)
            return value if isinstance(value, kind) and not isinstance(value, bool) else None

        for name, box in (("verified_only", self.verified_only), ("ema", self.ema)):
            if isinstance(values.get(name), bool):
                box.setChecked(values[name])
        if isinstance(values.get("backbone"), str) and self.backbone.findText(values["backbone"]) >= 0:
            self.backbone.setCurrentText(values["backbone"])  # first: it decides which weights are offered
        for name, combo in (("val_mode", self.val_mode), ("weights", self.weights), ("device", self.device),
                            ("head", self.head), ("preset", self.preset), ("optimizer", self.optimizer),
                            ("schedule", self.schedule), ("augment", self.augment)):
            index = combo.findData(values.get(name)) if isinstance(values.get(name), str) else -1
            if index >= 0:
                combo.setCurrentIndex(index)
                if combo is self.device:
                    self._device_wanted = None
            elif combo is self.device and isinstance(values.get(name), str) and not self._devices_listed:
                self._device_wanted = values[name]  # perhaps a GPU: known once the devices are listed
        for name, box in (("split_seed", self.split_seed), ("image_size", self.image_size), ("epochs", self.epochs),
                          ("batch_size", self.batch_size), ("eval_every", self.eval_every), ("workers", self.workers),
                          ("close_mosaic", self.close_mosaic)):
            if number(name, int) is not None:
                box.setValue(values[name])
        for name, box in (("val_fraction", self.val_fraction), ("lr", self.lr), ("warmup", self.warmup),
                          ("mosaic", self.mosaic)):
            if number(name, (int, float)) is not None:
                box.setValue(float(values[name]))
        if isinstance(values.get("val_folder"), str):
            self.val_folder.setText(values["val_folder"])

    def head_choice(self) -> str:
        return self.head.currentData()

    def set_running(self, running: bool, paused: bool = False) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.stop_button.setEnabled(running)
        for widget in (self.verified_only, self.val_mode, self.backbone, self.head, self.image_size, self.weights,
                       self.preset, self.epochs, self.batch_size, self.optimizer, self.lr, self.schedule, self.warmup,
                       self.augment, self.mosaic, self.close_mosaic, self.ema, self.eval_every, self.device,
                       self.workers):
            widget.setEnabled(not running)
        self._update_data_fields()
        self._update_augment_fields()

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c0392b;" if error else "")
        self.message.setText(text)
