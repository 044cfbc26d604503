"""The project lock in the app (issue 12): a held folder names its holder and opens read-only or is taken over."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.annotations.records import Box
from engine.annotations.voc import read_voc_xml
from engine.project.lock import lock_path, read_lock
from resyolo_gui.labelling import lock_dialog


def answer_lock_question(button_text: str, seen: list) -> None:
    """Click ``button_text`` in the real "Folder in use" question once it is up (it is modal: exec())."""
    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button_text).click()
    QTimer.singleShot(0, click)


@pytest.fixture
def other_process():
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield holder
    holder.kill()
    holder.wait()


def _hold(folder, pid, host=None):
    path = lock_path(folder)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "since": "09:00"}))


def test_a_folder_another_process_holds_asks_and_opens_read_only(image_folder, make_folder, tmp_path, open_window,
                                                                  other_process, qtbot):
    window = open_window(make_folder(tmp_path / "first"))
    _hold(image_folder, other_process.pid)
    before = (image_folder / "img0.xml").read_bytes()
    seen = []
    answer_lock_question(lock_dialog.READ_ONLY_BUTTON, seen)
    assert window.open_folder(image_folder)
    assert f"process {other_process.pid} on {socket.gethostname()}" in seen[0]
    assert window.project.read_only and window.project.folder == image_folder.resolve()
    assert "read-only" in window.windowTitle()
    assert not window.save_action.isEnabled()
    assert window.read_only_label.isVisible() and str(other_process.pid) in window.read_only_label.toolTip()
    ann = window.current_annotation()
    ann.boxes.append(Box("dog", 1, 1, 20, 20))
    window._annotation_edited(ann)
    window.saving.autosave()
    window.saving.autosave(leaving=0)
    assert (image_folder / "img0.xml").read_bytes() == before  # nothing written into their folder
    assert read_lock(image_folder)["pid"] == other_process.pid  # and their lock left alone
    assert not (tmp_path / "first" / ".resyolo" / "lock").exists()  # the first folder was let go of
    out = tmp_path / "elsewhere"
    out.mkdir()
    window.project.output_folder = out
    window.project.mark_dirty(ann)
    assert window.project.save_all() == []
    assert len(read_voc_xml(out / "img0.xml").boxes) == 2


def test_a_second_window_of_one_process_is_told_and_may_take_over(image_folder, open_window, qtbot):
    from resyolo_gui.main_window import MainWindow
    from resyolo_gui.settings import AppSettings

    first = open_window(image_folder)
    second = MainWindow(None, AppSettings())
    qtbot.addWidget(second)
    seen = []
    answer_lock_question("Cancel", seen)
    assert not second.open_folder(image_folder)
    assert "another window of this ResYOLO" in seen[0] and f"process {os.getpid()}" in seen[0]
    assert second.project is None
    answer_lock_question(lock_dialog.TAKE_OVER_BUTTON, seen)
    assert second.open_folder(image_folder)
    assert not second.project.read_only and second.save_action.isEnabled()
    assert "read-only" not in second.windowTitle()
    first.close()  # the first window's close leaves the second's lock in place
    assert read_lock(image_folder)["pid"] == os.getpid()
    second.close()
    assert not lock_path(image_folder).exists()


def test_a_stale_lock_is_taken_quietly_and_reopening_ones_own_folder_asks_nothing(image_folder, open_window,
                                                                                monkeypatch):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _hold(image_folder, dead.pid)
    monkeypatch.setattr(lock_dialog, "ask_locked", lambda *a: pytest.fail("asked about a stale lock"))
    window = open_window(image_folder)  # the fixture opens through Project.open, as the app does
    assert read_lock(image_folder)["pid"] == os.getpid()
    _hold(image_folder, dead.pid)
    assert window.open_folder(image_folder) and not window.project.read_only  # stale: quietly ours
    assert window.open_folder(image_folder) and not window.project.read_only  # our own folder, again
    assert read_lock(image_folder)["pid"] == os.getpid()
