"""Entry point of ``resyolo-gui [FOLDER] [--screenshot OUT.png]``: the labelling window."""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from pathlib import Path

from resyolo_gui import sample, system_libs

SCREENSHOT_TIMEOUT_MS = 10_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="resyolo-gui", description="Label images for the ResYOLO detector.")
    parser.add_argument("folder", nargs="?", type=Path,
                        help="folder of images (labels beside them); default: the sample project (the bundled "
                             "one, copied to your data folder on first use)")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png",
                        help="open the folder, save a capture of the window once the first image is shown, exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # a frozen app: a spawned DataLoader worker re-runs this executable
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if _uses_x11() and (missing := system_libs.missing_libraries()):
        print(f"resyolo-gui: Qt's X11 plugin needs system libraries that are missing: {', '.join(missing)}\n"
              f"Install them with:\n{system_libs.install_hint(missing)}", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    from engine.project.project import ProjectError
    from resyolo_gui.labelling import lock_dialog
    from resyolo_gui.main_window import MainWindow
    from resyolo_gui.screen_fit import fit_to_screen
    from resyolo_gui.settings import AppSettings
    from resyolo_gui.style import apply_style

    app = QApplication.instance() or QApplication(["resyolo-gui"])  # before opening: a held folder asks
    project = opening = None
    try:
        # A folder another ResYOLO holds asks: read-only, take over or cancel (a screenshot opens it read-only).
        ask = (lambda _parent, _error: lock_dialog.READ_ONLY) if args.screenshot is not None else None
        if args.folder is not None and not sample.is_bundled_sample(args.folder):
            opening = lock_dialog.begin_open(None, args.folder, ask=ask)  # its labels: read once the window is up
        else:
            project = _open_sample(ask)
    except ProjectError as exc:
        print(f"resyolo-gui: {exc}", file=sys.stderr)
        return 2
    if project is None and opening is None:
        print(f"resyolo-gui: {args.folder or 'the sample project'} is open in another ResYOLO; cancelled",
              file=sys.stderr)
        return 1
    from resyolo_gui.gc_guard import collect_garbage_on_gui_thread

    app.setApplicationName("ResYOLO")
    collect_garbage_on_gui_thread(app)  # never let a worker thread destroy Qt objects
    apply_style(app)
    window = MainWindow(project, AppSettings())
    if args.screenshot is not None:
        fit_to_screen(window, 1280, 800)  # a predictable capture, whatever size the window had last time
    window.show()
    if opening is not None:  # as File > Open Folder: a large folder shows its first image first, view only
        try:
            window.open_opening(opening)
        except ProjectError as exc:
            print(f"resyolo-gui: {exc}", file=sys.stderr)
            window.close()
            return 2
    if args.screenshot is not None:
        return _screenshot(app, window, args.screenshot)
    return app.exec()


def _open_sample(ask=None):
    """The user's copy of the bundled sample, so the app never writes into its own files. Where no copy can be
    made, the bundled sample opens read-only. A copy another ResYOLO holds asks (``ask``, default the lock
    dialog); None when the user cancels."""
    from engine.project.project import Project
    from resyolo_gui.labelling import lock_dialog

    try:
        copy = sample.user_sample()
    except OSError as exc:
        print(f"resyolo-gui: could not copy the sample project to {sample.sample_copy_folder()} ({exc}); "
              "opening the bundled one read-only", file=sys.stderr)
        return Project.open(sample.SAMPLE_FOLDER, read_only=True)
    return lock_dialog.open_project(None, copy, ask=ask)


def _uses_x11() -> bool:
    """Whether Qt will pick its xcb plugin: on Linux, unless told otherwise or in a Wayland session."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform not in ("", "xcb"):
        return False
    return platform == "xcb" or not os.environ.get("WAYLAND_DISPLAY")


def _screenshot(app, window, out: Path) -> int:
    """Let the first image load (or give up after a timeout), render, save ``out``, exit."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    window.first_image_shown.connect(lambda: QTimer.singleShot(300, loop.quit))  # a beat for layout and thumbnails
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, loop.quit)
    if window._first_shown:
        QTimer.singleShot(300, loop.quit)
    loop.exec()
    app.processEvents()
    ok = window.grab().save(str(out))
    window.close()
    if not ok:
        print(f"resyolo-gui: could not write screenshot {out}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
