"""Opening a folder that another window or process holds (its ``.resyolo/lock``), and showing read-only state.

:func:`open_project` opens a folder for the window: a folder held by a live ResYOLO (another process, or another
window of this one) asks who holds it and offers Open Read-Only, Take Over or Cancel; a stale lock (its process
is gone) is taken over quietly by the engine (:mod:`engine.project.lock`). A read-only project saves nothing into
the folder: File > Save is off, the title says "read-only" and the status bar names the holder; File > Save To…
still writes the labels elsewhere.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from engine.project.project import Opening, Project
from engine.project.lock import ProjectLocked

READ_ONLY, TAKE_OVER, CANCEL = "read_only", "take_over", "cancel"
READ_ONLY_BUTTON, TAKE_OVER_BUTTON = "Open Read-Only", "Take Over"


def holder_text(holder: dict | None) -> str:
    if not holder:
        return "another window"
    where = "another window of this ResYOLO" if holder.get("here") else "another ResYOLO"
    return f"{where} (process {holder.get('pid', '?')} on {holder.get('host', '?')}, since {holder.get('since', '?')})"


def ask_locked(parent: QWidget | None, error: ProjectLocked) -> str:
    """The folder is held: open read-only, take over, or cancel. Returns the choice."""
    folder = error.path.parent.parent
    box = QMessageBox(QMessageBox.Warning, "Folder in use",
                      f"{folder}\n\nis open in {holder_text(error.holder)}.\n\n"
                      "Open it read-only (nothing is saved into the folder), or take over (the other window "
                      "should then stop saving: two writers on one folder undo each other's work).", parent=parent)
    buttons = {box.addButton(READ_ONLY_BUTTON, QMessageBox.AcceptRole): READ_ONLY,
               box.addButton(TAKE_OVER_BUTTON, QMessageBox.DestructiveRole): TAKE_OVER,
               box.addButton(QMessageBox.Cancel): CANCEL}
    box.setObjectName("folder_locked_question")
    box.exec()
    return buttons.get(box.clickedButton(), CANCEL)


def open_project(parent: QWidget | None, folder: Path | str, current: Project | None = None,
                 ask=None) -> Project | None:
    """Open ``folder`` for a window whose project is ``current``; None if the user cancelled. Raises what
    :meth:`Project.open` raises besides :class:`ProjectLocked` (a missing folder: ProjectError)."""
    return _with_lock_choice(parent, folder, current, ask, Project.open)


def begin_open(parent: QWidget | None, folder: Path | str, current: Project | None = None,
               ask=None) -> Opening | None:
    """:func:`open_project` in steps: the lock taken (asking as it does) and the settings read, the labels not
    yet (:class:`~engine.project.project.Opening`); None if the user cancelled."""
    return _with_lock_choice(parent, folder, current, ask, Opening)


def _with_lock_choice(parent, folder, current, ask, open_with):
    if current is not None and not current.read_only and _same_folder(current.folder, folder):
        return open_with(folder, take_over=True)  # this window reopening its own folder: its own lock
    try:
        return open_with(folder)
    except ProjectLocked as exc:
        choice = (ask or ask_locked)(parent, exc)
    if choice == READ_ONLY:
        return open_with(folder, read_only=True)
    if choice == TAKE_OVER:
        return open_with(folder, take_over=True)
    return None


def show_lock_state(window, project: Project | None) -> None:
    """Read-only: Save off, a permanent status label naming the holder (the title says so too)."""
    read_only = project is not None and project.read_only and project.output_folder is None
    action = getattr(window, "save_action", None)
    if action is not None:
        action.setEnabled(not read_only)
    label = getattr(window, "read_only_label", None)
    if label is None:
        label = window.read_only_label = QLabel(window)
        label.setObjectName("read_only_label")
        label.setStyleSheet("color: #c06000; font-weight: bold")
        window.statusBar().insertPermanentWidget(0, label)
    label.setVisible(read_only)
    if read_only:
        label.setText("Read-only")
        label.setToolTip(f"Held by {holder_text(project.lock_holder)}: nothing is saved into this folder. "
                         "File > Save To… writes the labels to another folder.")
        window.statusBar().showMessage(f"Opened read-only: the folder is held by {holder_text(project.lock_holder)}. "
                                       "Nothing is saved into it; File > Save To… writes elsewhere.", 15000)


def title_tag(project: Project | None) -> list[str]:
    """The window title's part for a read-only project (empty otherwise)."""
    return ["read-only"] if project is not None and project.read_only and project.output_folder is None else []


def _same_folder(a: Path, b: Path | str) -> bool:
    b = Path(b).expanduser()
    if b.is_file():  # a data.yaml names its dataset's folder
        b = b.parent
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False
