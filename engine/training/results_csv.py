"""The results CSV of a run: one row per epoch (:func:`engine.training.events.result_row`), rewritten atomically,
kept across resumes."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from engine.io.atomic import atomic_write_text
from engine.training.events import RESULT_COLUMNS

def read_results(path: Path | str) -> list[dict[str, float]]:
    """Rows of a results CSV as floats (empty cells: NaN). Used to redraw a past run's charts."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            rows.append({k: float(v) if v not in ("", None) else float("nan") for k, v in row.items() if k})
    return rows

def write_results(path: Path | str, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in RESULT_COLUMNS})
    atomic_write_text(path, buffer.getvalue())

def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
