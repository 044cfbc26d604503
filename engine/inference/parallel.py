"""Several frames in flight: one model run on two frames at once, each run on its own share of the CPU cores.

At batch 1 a network cannot keep every core busy: between and inside layers the other cores wait for the slowest
(on this project's 2-core machine, two threads make a ResNet forward only about 1.6x faster than one). Two runs
side by side, one core each, finish more frames per second than one run with both cores, at the cost of each
frame taking longer (OpenVINO calls these "streams" and makes the same trade in its throughput mode). The live
view uses two streams on the CPU unless the user asks for low latency; on a GPU one stream already keeps it busy.

PyTorch's OpenMP thread count is per thread: :func:`cpu_thread_limit` changes it for the calling thread only
(through threadpoolctl), so the GUI thread and other workers keep theirs. Each thread that runs a multi-threaded
operator keeps a team of OpenMP threads for the rest of its life, and once there are more of those threads than
cores, GNU OpenMP stops spin-waiting between operators in every team (a model then runs markedly slower). So the
GUI thread, which lives as long as the app, runs no model operators: the live view's worker loads its model too.
Qt-free.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class StreamPlan:
    streams: int  # frames processed at once, each by its own thread
    threads: int | None  # torch (OpenMP) threads for each of them; None: leave torch's setting

    def describe(self) -> str:
        if self.streams == 1:
            return "1 frame at a time"
        return f"{self.streams} frames at a time, {self.threads} CPU thread(s) each"


def plan_streams(device: torch.device, low_latency: bool = False, torch_model: bool = True) -> StreamPlan:
    """Two streams sharing torch's CPU threads, or one (a GPU, low latency asked, a single CPU thread, or a model
    torch does not run, such as an ONNX model in onnxruntime, whose threads a limit here would not reach)."""
    threads = torch.get_num_threads()
    if low_latency or device.type != "cpu" or threads < 2 or not torch_model:
        return StreamPlan(1, None)
    return StreamPlan(2, threads // 2)


@contextmanager
def cpu_thread_limit(threads: int | None) -> Iterator[None]:
    """Run torch's CPU operators of *this* thread on at most ``threads`` OpenMP threads (None: unchanged)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch.get_num_threads()  # torch sets each thread's OpenMP count on first use: let it, then override it
    with threadpool_limits(limits=threads, user_api="openmp"):
        yield
