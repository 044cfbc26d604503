"""The Live menu's live view: a camera, video file or stream with detections, snapshots into the project."""
from __future__ import annotations


def install(window):
    from resyolo_gui.live.feature import LiveFeature

    return LiveFeature(window)
