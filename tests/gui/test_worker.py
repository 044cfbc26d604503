"""The common worker base: exactly one of succeeded / failed, with a message the user can act on."""
from __future__ import annotations

import pytest

from resyolo_gui.worker import Stopped, Worker


class Job(Worker):
    what = "The test job"
    expected_errors = (ValueError,)

    def __init__(self, outcome):
        super().__init__()
        self.outcome = outcome

    def work(self):
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        self.progress.emit(1, 1)
        return self.outcome


@pytest.mark.parametrize("outcome, succeeded, failed", [
    (42, [42], []),
    (ValueError("a.pt: not a checkpoint"), [], ["a.pt: not a checkpoint"]),
    (Stopped("Stopped."), [], ["Stopped."]),
    (ZeroDivisionError("division by zero"), [], ["The test job failed: ZeroDivisionError: division by zero"]),
])
def test_a_worker_reports_exactly_one_outcome(qtbot, outcome, succeeded, failed):
    job = Job(outcome)
    got_ok, got_failed = [], []
    job.succeeded.connect(got_ok.append)
    job.failed.connect(got_failed.append)
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.start()
    qtbot.waitUntil(lambda: bool(got_ok or got_failed))  # queued across threads
    assert (got_ok, got_failed) == (succeeded, failed)


def test_stop_is_seen_by_the_job(qtbot):
    class Polling(Worker):
        def work(self):
            while not self.should_stop():
                self.msleep(5)
            raise Stopped("Stopped.")

    job = Polling()
    failed = []
    job.failed.connect(failed.append)
    job.start()
    job.stop()
    assert job.wait(5000)
    qtbot.waitUntil(lambda: failed == ["Stopped."])
