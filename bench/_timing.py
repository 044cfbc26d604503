"""Small timing helpers shared by the benchmark scripts."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 2, sync: Callable[[], None] = lambda: None) -> float:
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n{title}")
    print(f"| {'what':<42} | {'batch 1 latency':>16} | {'batch 8 throughput':>19} |")
    print(f"|{'-' * 44}|{'-' * 18}|{'-' * 21}|")
    for what, latency, throughput in rows:
        print(f"| {what:<42} | {latency:>16} | {throughput:>19} |")


def run_until(condition: Callable[[], bool], max_s: float) -> None:
    """Turn Qt's event loop until ``condition()`` holds or ``max_s`` pass. A 1 ms timer, not a processEvents()
    busy loop: PySide6 6.12 on Python 3.11 drops a reference to None on every processEvents() call, and a hundred
    thousand calls abort the interpreter."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, deadline = QEventLoop(), time.perf_counter() + max_s
    timer = QTimer(interval=1)
    timer.timeout.connect(lambda: (condition() or time.perf_counter() > deadline) and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()
