"""Real X input for the end-to-end scenarios: every click, drag and key goes through the X server (xdotool's
XTEST events), exactly as a person's would, never through Qt's synthetic events.

xdotool always runs in a child process while this process keeps Qt's event loop turning, so a click that opens a
modal dialog does not block the test: the dialog is answered by a chain started *before* the click
(:meth:`RealInput.answer_dialog`), which waits for the dialog's window to appear and types into it.
"""
from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

KEY_DELAY_MS = 40  # between keys, as a quick typist
XDOTOOL_TIMEOUT_S = 30


class RealInput:
    def __init__(self, qtbot):
        self.qtbot = qtbot
        self._background: list[subprocess.Popen] = []

    # ----------------------------------------------------------------- where things are on the screen
    @staticmethod
    def global_point(widget: QWidget, pos: QPoint | QPointF | None = None) -> tuple[int, int]:
        """Screen coordinates of ``pos`` in ``widget`` (its centre by default)."""
        if pos is None:
            pos = widget.rect().center()
        point = widget.mapToGlobal(QPointF(pos).toPoint())
        return point.x(), point.y()

    @staticmethod
    def image_point(canvas, x: float, y: float) -> tuple[int, int]:
        """Screen coordinates of image pixel (x, y) on the labelling canvas."""
        view_point = canvas.mapFromScene(QPointF(x, y))
        return RealInput.global_point(canvas.viewport(), view_point)

    # ----------------------------------------------------------------- input
    def xdotool(self, *args: str, wait: bool = True) -> subprocess.Popen:
        """Run ``xdotool ARGS``; with ``wait``, keep Qt's event loop turning until it has finished."""
        process = subprocess.Popen(["xdotool", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if wait:
            self.qtbot.waitUntil(lambda: process.poll() is not None, timeout=XDOTOOL_TIMEOUT_S * 1000)
            if process.returncode != 0:
                raise AssertionError(f"xdotool {' '.join(map(str, args))} failed: {process.stderr.read().decode()}")
            self.settle()
        else:
            self._background.append(process)
        return process

    def settle(self, ms: int = 150) -> None:
        """Let the X server deliver what was sent and Qt handle it (a real event takes a round trip)."""
        self.qtbot.wait(ms)

    def move(self, x: int, y: int) -> None:
        self.xdotool("mousemove", "--sync", x, y)

    def click_at(self, x: int, y: int, button: int = 1, repeat: int = 1) -> None:
        self.xdotool("mousemove", "--sync", x, y, "click", "--repeat", repeat, "--delay", 80, button)

    def click(self, widget: QWidget, pos: QPoint | QPointF | None = None, button: int = 1, repeat: int = 1) -> None:
        self.scroll_into_view(widget)
        self.click_at(*self.global_point(widget, pos), button=button, repeat=repeat)

    def scroll_into_view(self, widget: QWidget, max_notches: int = 40) -> None:
        """As a person does: turn the mouse wheel over the scroll area holding ``widget`` until it is in view."""
        area = widget.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is None:
            return
        viewport, bar = area.viewport(), area.verticalScrollBar()
        for _ in range(max_notches):
            top = widget.mapTo(viewport, QPoint(0, 0)).y()
            if top >= 0 and top + widget.height() <= viewport.height():
                return
            # Over the scroll bar: the wheel over the form would turn a spin box or combo box under the mouse.
            x, y = self.global_point(bar)
            self.xdotool("mousemove", "--sync", x, y, "click", 5 if top > 0 else 4)
        raise AssertionError(f"{widget} did not scroll into view")

    def drag(self, start: tuple[int, int], end: tuple[int, int], button: int = 1, steps: int = 8) -> None:
        """Press at ``start``, move in ``steps`` to ``end``, release: a person's drag."""
        args = ["mousemove", "--sync", *start, "mousedown", button, "sleep", "0.1"]
        for i in range(1, steps + 1):
            x = round(start[0] + (end[0] - start[0]) * i / steps)
            y = round(start[1] + (end[1] - start[1]) * i / steps)
            args += ["mousemove", "--sync", x, y, "sleep", "0.03"]
        args += ["sleep", "0.1", "mouseup", button]
        self.xdotool(*args)

    def key(self, *keys: str) -> None:
        """Press keys by X keysym name, e.g. ``key("ctrl+z")``, ``key("Return")``."""
        self.xdotool("key", "--delay", KEY_DELAY_MS, *keys)

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", KEY_DELAY_MS, text)

    def answer_dialog(self, title: str, *steps: tuple[str, ...]) -> subprocess.Popen:
        """Start, in the background, a chain that waits for a window titled ``title`` and then runs ``steps``
        (xdotool commands such as ``("type", "dog")``, ``("key", "Return")``) into it, one xdotool call each
        (``type`` takes every word after it, so they cannot share one call). Start it before the action that opens
        the dialog; :meth:`finish_background` checks that it ran."""
        # Qt on X11 shows "TITLE — APPLICATION" unless the title already names the application.
        calls = [["xdotool", "search", "--sync", "--onlyvisible", "--name", f"^{title}( — ResYOLO)?$",
                  "windowactivate", "--sync", "%1", "sleep", "0.3"]]
        for command, *rest in steps:
            delay = ["--delay", str(KEY_DELAY_MS)] if command in ("type", "key") else []
            calls.append(["xdotool", command, *delay, *rest])
        script = " && sleep 0.1 && ".join(shlex.join(call) for call in calls)
        process = subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._background.append(process)
        return process

    def finish_background(self, timeout_s: float = XDOTOOL_TIMEOUT_S) -> None:
        """Wait (turning the event loop) for every background chain; fail if one did not succeed."""
        deadline = time.monotonic() + timeout_s
        for process in self._background:
            self.qtbot.waitUntil(lambda: process.poll() is not None,
                                 timeout=max(1, int((deadline - time.monotonic()) * 1000)))
            if process.returncode != 0:
                raise AssertionError(f"a dialog chain failed: {process.args}: {process.stderr.read().decode()}")
        self._background.clear()
        self.settle()

    def stop_background(self) -> None:
        for process in self._background:
            if process.poll() is None:
                process.kill()
        self._background.clear()

    # ----------------------------------------------------------------- looking
    def screenshot(self, path: Path) -> Path:
        """The whole X screen, window manager decorations included, as a person sees it."""
        QApplication.processEvents()
        screen = QGuiApplication.primaryScreen()
        if not screen.grabWindow(0).save(str(path)):
            raise AssertionError(f"could not save a screenshot to {path}")
        return path
