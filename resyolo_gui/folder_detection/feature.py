"""Live > Detect on a Folder…: the feature that opens the folder detection window and keeps it on the project."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from resyolo_gui.menu_bar import feature_menu

if TYPE_CHECKING:
    from resyolo_gui.folder_detection.window import DetectFolderWindow


class FolderDetectionFeature:
    def __init__(self, window):
        self.window = window
        self.project = None
        self.detect_folder_window: DetectFolderWindow | None = None
        self.menu = feature_menu(window, "&Live")  # beside the live view: both detect on what is not the project
        self.detect_action = QAction("Detect on a Folder…", window)
        self.detect_action.triggered.connect(self.show_detect_folder)
        self.menu.addAction(self.detect_action)

    def show_detect_folder(self) -> DetectFolderWindow:
        if self.detect_folder_window is None:
            from resyolo_gui.folder_detection.window import DetectFolderWindow  # its worker loads models (torch)

            self.detect_folder_window = DetectFolderWindow(self.window)
            self.detect_folder_window.set_project(self.project)
        self.detect_folder_window.show()
        self.detect_folder_window.raise_()
        return self.detect_folder_window

    # ----------------------------------------------------------------- the feature seam
    def project_changed(self, project) -> None:
        self.project = project
        if self.detect_folder_window is not None:
            self.detect_folder_window.set_project(project)

    def runs_changed(self) -> None:
        """A training run finished (connected in :mod:`resyolo_gui.features`): offer its checkpoints."""
        if self.detect_folder_window is not None:
            self.detect_folder_window.checkpoint.refresh()

    def can_close(self) -> bool:
        if self.detect_folder_window is not None:
            self.detect_folder_window.close()  # stops its thread
        return True
