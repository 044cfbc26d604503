"""Garbage cycles (Qt wrappers among them) are collected on the GUI thread, never in a worker thread."""
import gc
import threading

from resyolo_gui.gc_guard import collect_garbage_on_gui_thread


class Cycle:
    died_on: list = []

    def __init__(self):
        self.me = self

    def __del__(self):
        Cycle.died_on.append(threading.current_thread().name)


def test_worker_allocations_never_run_the_collector_and_the_gui_thread_does(qapp, qtbot):
    guard = collect_garbage_on_gui_thread(qapp)
    assert not gc.isenabled()
    gc.collect()  # start from a clean slate: the counts below are ours
    Cycle.died_on.clear()
    for _ in range(1000):  # more than Python's generation-0 threshold (700): a collection is due
        Cycle()

    def allocate_a_lot():  # with automatic collection this would collect the cycles here
        junk = [[] for _ in range(200_000)]
        del junk

    worker = threading.Thread(target=allocate_a_lot, name="worker")
    worker.start()
    worker.join()
    assert "worker" not in Cycle.died_on
    guard.check()  # what the GUI thread's timer does every 500 ms
    assert len(Cycle.died_on) == 1000
    assert set(Cycle.died_on) == {threading.main_thread().name}
