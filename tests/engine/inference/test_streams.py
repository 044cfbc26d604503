"""engine.inference.parallel: how many frames the live view runs at once, and per-thread CPU thread limits."""
from __future__ import annotations

import threading

import pytest
import torch

from engine.inference.parallel import StreamPlan, cpu_thread_limit, plan_streams


def test_two_streams_share_the_cpu_threads_unless_low_latency_or_a_gpu(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    assert plan_streams(torch.device("cpu")) == StreamPlan(2, 4)
    assert plan_streams(torch.device("cpu"), low_latency=True) == StreamPlan(1, None)
    assert plan_streams(torch.device("cuda")) == StreamPlan(1, None)
    assert plan_streams(torch.device("cpu"), torch_model=False) == StreamPlan(1, None)  # e.g. onnxruntime
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert plan_streams(torch.device("cpu")) == StreamPlan(1, None)
    assert StreamPlan(2, 4).describe() == "2 frames at a time, 4 CPU thread(s) each"


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="needs torch to use 2 or more CPU threads")
def test_thread_limit_applies_to_the_calling_thread_only_and_is_undone():
    before = torch.get_num_threads()
    seen = {}

    def stream():
        with cpu_thread_limit(1):
            conv = torch.nn.Conv2d(3, 8, 3)
            conv(torch.randn(2, 3, 32, 32))  # a real operator does not undo the limit
            seen["inside"] = torch.get_num_threads()
        seen["after"] = torch.get_num_threads()

    thread = threading.Thread(target=stream)
    thread.start()
    thread.join()
    assert seen["inside"] == 1 and seen["after"] == before
    assert torch.get_num_threads() == before  # the calling thread's setting was never touched
    with cpu_thread_limit(None):
        assert torch.get_num_threads() == before
