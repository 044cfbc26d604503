"""Evaluation feature: Evaluate > Evaluate a checkpoint… opens the Evaluate workspace, whose panel is ``window.py``."""
from __future__ import annotations


def install(window):
    from resyolo_gui.evaluation.feature import EvaluationFeature

    return EvaluationFeature(window)
