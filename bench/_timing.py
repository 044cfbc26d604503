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
