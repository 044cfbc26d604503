"""File > Export Model to ONNX…: pick a checkpoint and an output file, export on a worker thread."""
from __future__ import annotations


def install(window):
    from resyolo_gui.export.feature import ExportFeature

    return ExportFeature(window)
