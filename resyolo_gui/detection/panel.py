"""The detection dock's contents: model picker, class mapping, confidence and NMS sliders, progress."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSlider, QVBoxLayout,
                               QWidget)

from resyolo_gui.detection.model_picker import ModelPicker

SLIDER_STEPS = 100  # a slider position is a threshold in hundredths


def _slider(parent: QWidget, low: int, high: int, value: float, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal, parent)
    slider.setRange(low, high)
    slider.setValue(round(value * SLIDER_STEPS))
    slider.setToolTip(tip)
    return slider


class DetectionPanel(QWidget):
    thresholds_changed = Signal(float, float)  # confidence, NMS IoU

    def __init__(self, conf: float, iou: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = ModelPicker(self)
        self.mapping_label = QLabel(self)
        self.mapping_label.setWordWrap(True)
        self.conf_slider = _slider(self, 1, 99, conf, "Proposals scoring below this are hidden")
        self.iou_slider = _slider(self, 5, 95, iou,
                                  "Non-maximum suppression: of two same-class proposals overlapping more than this "
                                  "(IoU), the lower-scoring one is hidden")
        self.conf_value, self.iou_value = QLabel(self), QLabel(self)
        self.propose_button = QPushButton("Propose boxes", self)
        self.auto_label_button = QPushButton("Auto-label folder…", self)
        self.progress = QProgressBar(self)
        self.cancel_button = QPushButton("Cancel", self)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.review_label = QLabel(self)  # how many proposals wait for review, at the thresholds shown
        self.review_label.setWordWrap(True)
        form = QFormLayout()
        for text, slider, value in (("Confidence", self.conf_slider, self.conf_value),
                                    ("NMS IoU", self.iou_slider, self.iou_value)):
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            row.addWidget(value)
            form.addRow(text, row)
        buttons, progress = QHBoxLayout(), QHBoxLayout()
        buttons.addWidget(self.propose_button)
        buttons.addWidget(self.auto_label_button)
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(self.mapping_label)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(progress)
        layout.addWidget(self.review_label)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        self.conf_slider.valueChanged.connect(self._on_slider)
        self.iou_slider.valueChanged.connect(self._on_slider)
        self.set_running(False)
        self._show_values()

    def thresholds(self) -> tuple[float, float]:
        return self.conf_slider.value() / SLIDER_STEPS, self.iou_slider.value() / SLIDER_STEPS

    def set_running(self, running: bool, total: int = 0) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.propose_button.setEnabled(not running)
        self.auto_label_button.setEnabled(not running)
        if running:
            self.progress.setRange(0, total)
            self.progress.setValue(0)

    def _show_values(self) -> None:
        conf, iou = self.thresholds()
        self.conf_value.setText(f"{conf:.2f}")
        self.iou_value.setText(f"{iou:.2f}")

    def _on_slider(self) -> None:
        self._show_values()
        self.thresholds_changed.emit(*self.thresholds())
