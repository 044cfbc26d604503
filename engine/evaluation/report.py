"""Plain-text report of an :class:`EvalResult`: one row per class and the summary lines."""
from __future__ import annotations

import math

from engine.evaluation.result import METRIC_NAMES, EvalResult


def format_report(result: EvalResult) -> str:
    names = list(result.per_class)
    width = max([len("class"), *(len(n) for n in names)])
    lines = [f"{'class':<{width}}  {'#GT':>6}  {'#det':>7}  {'AP':>6}"]
    for name in names:
        ap = result.per_class[name]
        ap_text = f"{ap:6.4f}" if not math.isnan(ap) else f"{'-':>6}  (no ground truth: not in mAP)"
        lines.append(f"{name:<{width}}  {result.num_gt[name]:>6}  {result.num_det[name]:>7}  {ap_text}")
    counted = sum(not math.isnan(ap) for ap in result.per_class.values())
    lines.append(f"mAP ({METRIC_NAMES[result.metric]}): {_number(result.mAP)} over {counted} "
                 f"class{'es' if counted != 1 else ''}")
    for key, value in result.extra.items():
        lines.append(f"{key}: {_number(value)}")
    return "\n".join(lines)


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4f}"
