"""Entry point for evaluation; the code lives in :mod:`engine.evaluation` (voc, coco, report)."""
from engine.evaluation import (  # noqa: F401
    METRICS,
    EvalResult,
    ImageDetections,
    PRCurve,
    evaluate,
    evaluate_coco,
    evaluate_voc,
    voc_ap,
)
from engine.evaluation.report import format_report  # noqa: F401
