"""Detect on a folder: any folder of images (not only the project's), a results browser, and exports."""
from __future__ import annotations


def install(window):
    from resyolo_gui.folder_detection.feature import FolderDetectionFeature

    return FolderDetectionFeature(window)
