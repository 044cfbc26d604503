"""Detection in the labelling window: model picker, proposals on the current image, auto-labelling a folder."""
from __future__ import annotations


def install(window):
    from resyolo_gui.detection.feature import DetectionFeature

    return DetectionFeature(window)
