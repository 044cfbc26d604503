"""The real-window layer: an Xvfb display with a window manager for the whole session, and a runner that starts
each scenario (tests/e2e/scenarios/real_*.py) in its own child pytest on that display with Qt's xcb platform.

A child per scenario keeps a crash (Qt segfault) a failed test with its output, not the end of the suite, and lets
the rest of the suite stay offscreen (one process cannot use two Qt platforms)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"
SCREEN = os.environ.get("RESYOLO_E2E_SCREEN", "1366x768x24")  # a common laptop screen
# A scenario file may set SCREENS = [...] at its top: each of its tests then runs once on each screen size.
WINDOW_MANAGER = "openbox"
SCENARIO_TIMEOUT_S = 240
NEEDED = {"Xvfb": "xvfb", "xdotool": "xdotool", WINDOW_MANAGER: WINDOW_MANAGER}


def missing_tools() -> list[str]:
    return [package for tool, package in NEEDED.items() if shutil.which(tool) is None]


def _start_display(screen: str, home: Path):
    """Start Xvfb on a free display number with ``screen`` (WxHxDEPTH) and openbox managing it."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp",
                             "-noreset"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        pytest.fail(f"Xvfb did not start: {xvfb.stderr.read().decode(errors='replace')[-2000:]}")
    display = f":{number}"
    env = {**os.environ, "DISPLAY": display, "HOME": str(home)}
    wm = subprocess.Popen([WINDOW_MANAGER], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while subprocess.run(["xdotool", "search", "--class", "openbox"], env=env, capture_output=True).returncode != 0 \
            and time.monotonic() < deadline:  # openbox is managing once its own helper window exists
        time.sleep(0.1)
    return display, (wm, xvfb)


@pytest.fixture(scope="session")
def x_displays(tmp_path_factory):
    """``display(screen)``: ``DISPLAY`` of an Xvfb screen of that size with openbox, started once per size."""
    missing = missing_tools()
    if missing:
        pytest.fail("the real-window tests need " + ", ".join(missing) +
                    f": sudo apt-get install {' '.join(missing)} (./dev system-deps installs them as root)")
    started: dict[str, tuple[str, tuple]] = {}

    def display(screen: str = SCREEN) -> str:
        if screen not in started:
            started[screen] = _start_display(screen, tmp_path_factory.mktemp("wm-home"))
        return started[screen][0]

    yield display
    for _display, processes in started.values():
        for process in processes:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def run_scenario(x_displays, tmp_path):
    """Run one scenario node id (``real_classes.py::test_x``) in a child pytest on an X display of ``screen``."""

    def run(node_id: str, screen: str = SCREEN) -> subprocess.CompletedProcess:
        env = {**os.environ, "DISPLAY": x_displays(screen), "QT_QPA_PLATFORM": "xcb",
               "RESYOLO_CONFIG_DIR": str(tmp_path / "config"), "PYTHONFAULTHANDLER": "1"}
        env.pop("QT_QPA_PLATFORMTHEME", None)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "python_files=real_*.py",
                   "--rootdir", str(SCENARIOS), "-c", os.devnull, f"--basetemp={tmp_path / 'run'}",
                   "-o", "qt_api=pyside6", str(SCENARIOS / node_id)]
        try:
            result = subprocess.run(command, env=env, cwd=SCENARIOS, capture_output=True, text=True,
                                    timeout=SCENARIO_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{node_id} did not finish in {SCENARIO_TIMEOUT_S} s:\n{(exc.stdout or '')[-4000:]}")
        if result.returncode < 0:
            pytest.fail(f"the app crashed ({signal.Signals(-result.returncode).name}) in {node_id}:\n"
                        f"{(result.stdout + result.stderr)[-6000:]}")
        if result.returncode != 0:
            pytest.fail(f"{node_id} failed:\n{(result.stdout + result.stderr)[-6000:]}")
        return result

    return run
