"""The app watches its project's label files: one another program changed is reloaded if it has no unsaved edits.

A ``QFileSystemWatcher`` watches the folders that hold label files (files written by rename, as atomic writers
do, and files created or deleted) and the label files themselves (rewritten in place, as labelImg and labelme
write: a folder's watch does not see that): all of them up to :data:`MAX_WATCHED_FILES`, else the current
image's. Events are gathered for :data:`DEBOUNCE_MS` (a tool writing 500 files is one reload), then each touched
folder is compared with what the project read (:meth:`engine.project.project.Project.changed_in_folder`: size, mtime,
and a hash only where those do not settle it). An image is checked again when it is shown, for writes the
watcher cannot see (network drives). A changed image with unsaved edits is left alone: its save asks
(:mod:`resyolo_gui.labelling.conflicts`). Our own saves are what the project last wrote: no reload.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

DEBOUNCE_MS = 300
MAX_WATCHED_FOLDERS = 2048  # older kernels allow 8192 inotify watches per user: leave room for other programs
MAX_WATCHED_FILES = 2000


class FolderWatch(QObject):
    reloaded = Signal(list)  # the ImageAnnotations reloaded from disk (for tests and the status bar)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.project = None
        self.watcher: QFileSystemWatcher | None = None
        self._pending: set[str] = set()
        self._current_file: str | None = None
        self.timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS, timeout=self.check_pending)
        window.browser.current_changed.connect(self._on_current_changed)
        # Watching starts once the first image is on screen: indexing 100,000 label paths must not delay it
        window.first_image_shown.connect(lambda: QTimer.singleShot(0, self._start))

    def set_project(self, project) -> None:
        self.timer.stop()
        self._pending.clear()
        self._current_file = None
        if self.watcher is not None:
            self.watcher.deleteLater()  # a fresh watcher: removing thousands of paths one by one is slower
        self.watcher = None
        self.project = project
        if project is not None and not project.annotations:
            self._start()  # no first image to wait for

    def _start(self) -> None:
        project = self.project
        if project is None or self.watcher is not None:
            return
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._on_folder_changed)
        self.watcher.fileChanged.connect(self._on_file_changed)
        folders = [str(f) for f in project.label_folders() if f.is_dir()][:MAX_WATCHED_FOLDERS]
        if folders:
            self.watcher.addPaths(folders)
        self._watch_files(folders)
        self._on_current_changed(-1)

    def _watch_files(self, folders) -> None:
        """Watch the existing label files of ``folders`` one by one while the project is small enough."""
        files = [os.path.join(folder, name) for folder in folders
                 for name in sorted(self.project.label_file_names(folder) & set(_names(folder)))]
        watched = set(self.watcher.files())
        new = [f for f in files if f not in watched]
        if new and len(watched) + len(new) <= MAX_WATCHED_FILES:
            self.watcher.addPaths(new)

    def check_pending(self) -> list:
        """Reload the clean images whose label files changed in the folders events named; returns them."""
        project, folders = self.project, sorted(self._pending)
        self._pending.clear()
        if project is None or self.watcher is None:
            return []
        self._rewatch_folders()
        self._watch_files(folders)  # files created (or replaced by a rename) since
        changed = []
        for folder in folders:
            changed += project.changed_in_folder(folder)
        return self._reload(changed)

    def _reload(self, changed) -> list:
        from resyolo_gui.labelling.conflicts import refresh_after_reload

        project = self.project
        changed = list({id(ann): ann for ann in changed}.values())  # records are not hashable: by identity
        clean = [ann for ann in changed if not project.is_dirty(ann)]
        edited = [ann for ann in changed if project.is_dirty(ann)]
        if clean:
            project.reload(clean)
            refresh_after_reload(self.window, clean)
            self.reloaded.emit(clean)
        if edited:
            self.window.statusBar().showMessage(
                f"{Path(edited[0].image_path).name}: its label file was changed by another program and you have "
                "unsaved edits; saving it will ask what to keep", 10000)
        elif clean:
            names = ", ".join(Path(a.image_path).name for a in clean[:3]) + (" …" if len(clean) > 3 else "")
            self.window.statusBar().showMessage(f"Reloaded {len(clean)} label file(s) changed on disk: {names}", 6000)
        return clean

    # ----------------------------------------------------------------- events
    def _on_folder_changed(self, folder: str) -> None:
        self._pending.add(folder)
        self.timer.start()

    def _on_file_changed(self, path: str) -> None:
        self._pending.add(os.path.dirname(path))
        if self.watcher is not None and os.path.exists(path) and path not in self.watcher.files():
            self.watcher.addPath(path)  # replaced by a rename: the watch went with the old file
        self.timer.start()

    def _on_current_changed(self, _row: int) -> None:
        ann = self.window.current_annotation()
        if self.project is None or self.watcher is None or ann is None:
            return
        path = str(self.project.label_path(ann))
        if self._current_file and self._current_file != path and self._current_file in self.watcher.files():
            self.watcher.removePath(self._current_file)
        self._current_file = path
        if path and os.path.exists(path) and path not in self.watcher.files():
            self.watcher.addPath(path)
        if self.project.changed_on_disk([ann]):  # clean: reloaded; edited: the status bar says so
            QTimer.singleShot(0, lambda: self._reload([ann]))  # not inside the image switch

    def _rewatch_folders(self) -> None:
        """A label folder made after opening (the first YOLO save makes labels/) joins the watch."""
        watched = set(self.watcher.directories())
        missing = [str(f) for f in self.project.label_folders() if str(f) not in watched and f.is_dir()]
        room = MAX_WATCHED_FOLDERS - len(watched)
        if missing and room > 0:
            self.watcher.addPaths(missing[:room])


def _names(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
