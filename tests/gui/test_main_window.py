"""The labelling window: opening a folder, D / A navigation, verified mark, bad images, the CLI."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from resyolo_gui.app import main
from resyolo_gui.sample import SAMPLE_FOLDER


def record_set_image(window) -> list[tuple]:
    """Spy on the canvas seam: every ``set_image(rgb, ann, project, message)`` call."""
    calls, original = [], window.canvas.set_image

    def spy(rgb, ann, project, message=None):
        calls.append((rgb, ann, message))
        return original(rgb, ann, project, message)

    window.canvas.set_image = spy
    return calls


def test_opens_folder_and_shows_first_image(image_folder, open_window):
    window = open_window(image_folder)
    assert window.current_annotation().image_path.name == "img0.jpg"
    assert window.position_label.text() == "Image 1 of 5"
    assert "img0.jpg" in window.windowTitle() and "photos" in window.windowTitle()
    assert window.current_annotation().width == 64  # measured when shown, not up front
    assert window.project.annotations[4].width == 0


def test_d_and_a_keys_move_next_and_previous(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    calls = record_set_image(window)
    qtbot.keyClick(window.browser.list_view, Qt.Key_D)
    qtbot.keyClick(window.browser.list_view, Qt.Key_D)
    assert window.current_annotation().image_path.name == "img2.jpg"
    qtbot.waitUntil(lambda: any(c[0] is not None and c[1].image_path.name == "img2.jpg" for c in calls))
    assert (calls[-1][0].width(), calls[-1][0].height()) == (64, 48)  # a QImage made in the loader's worker
    qtbot.keyClick(window.browser.list_view, Qt.Key_A)
    assert window.current_annotation().image_path.name == "img1.jpg"
    qtbot.keyClick(window.browser.list_view, Qt.Key_PageDown)
    assert window.position_label.text() == "Image 3 of 5"
    window.step(-1), window.step(-1), window.step(-1)  # stops at the first image
    assert window.browser.current_row() == 0


def test_space_marks_verified_and_title_shows_unsaved(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    assert not window.isWindowModified()
    qtbot.keyClick(window.browser.list_view, Qt.Key_Space)
    ann = window.current_annotation()
    assert ann.verified and window.project.is_dirty(ann) and window.isWindowModified()
    window.save()
    assert not window.isWindowModified()
    assert 'verified="yes"' in (image_folder / "img0.xml").read_text()


def test_space_tapped_on_the_canvas_marks_verified_and_space_drag_only_pans(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    canvas = window.canvas
    canvas.setFocus()
    ann = window.current_annotation()
    qtbot.keyClick(canvas, Qt.Key_Space)
    assert ann.verified and window.project.is_dirty(ann) and window.isWindowModified()

    canvas.set_zoom(8.0)
    qtbot.keyPress(canvas, Qt.Key_Space)
    qtbot.mousePress(canvas.viewport(), Qt.LeftButton, pos=QPoint(200, 200))
    move = QMouseEvent(QEvent.MouseMove, QPointF(150, 200), QPointF(canvas.viewport().mapToGlobal(QPoint(150, 200))),
                       Qt.NoButton, Qt.LeftButton, Qt.NoModifier)  # carries the held button, unlike QTest's
    QApplication.sendEvent(canvas.viewport(), move)
    qtbot.mouseRelease(canvas.viewport(), Qt.LeftButton, pos=QPoint(150, 200))
    qtbot.keyRelease(canvas, Qt.Key_Space)
    assert ann.verified  # a pan, not a second tap


def test_corrupt_image_shows_placeholder_with_reason_and_navigation_goes_on(tmp_path, make_folder, open_window, qtbot):
    folder = make_folder(tmp_path / "p", count=3, labelled=0)
    (folder / "img1.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    window = open_window(folder)
    calls = record_set_image(window)
    window.step(1)
    qtbot.waitUntil(lambda: any(c[2] and "img1.jpg" in c[2] and "Loading" not in c[2] for c in calls))
    rgb, ann, message = calls[-1]
    assert rgb is None and ann.image_path.name == "img1.jpg" and "Cannot show img1.jpg" in message
    window.step(1)
    assert window.current_annotation().image_path.name == "img2.jpg"
    qtbot.waitUntil(lambda: calls[-1][0] is not None)


def test_exif_rotated_photo_is_shown_upright(tmp_path, make_folder, open_window, qtbot):
    folder = tmp_path / "exif"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    Image.new("RGB", (80, 40), "red").save(folder / "turned.jpg", exif=exif)
    window = open_window(folder)
    assert (window.current_annotation().width, window.current_annotation().height) == (40, 80)


def test_open_folder_menu_handles_missing_folder(image_folder, make_folder, open_window, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    window = open_window(image_folder)
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    assert not window.open_folder(tmp_path / "gone")
    assert shown and "Folder not found" in shown[0] and "gone" in shown[0]
    other = make_folder(tmp_path / "other", count=2, labelled=0)
    assert window.open_folder(other)
    assert window.project.folder == other.resolve()
    assert window.settings.recent_folders()[0] == other.resolve()


def test_shortcuts_dialog_lists_the_menu_shortcuts(image_folder, open_window):
    from resyolo_gui.labelling.dialogs import ShortcutsDialog
    from PySide6.QtGui import QAction

    window = open_window(image_folder)
    dialog = ShortcutsDialog(window.findChildren(QAction))
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert rows["Next Image"] == "D, PgDown" and rows["Mark Verified"] == "Space"


def test_cli_missing_folder_exits_with_message(tmp_path, capsys):
    assert main([str(tmp_path / "missing")]) == 2
    assert "Folder not found" in capsys.readouterr().err


def test_cli_screenshot(tmp_path, make_folder):
    folder = make_folder(tmp_path / "shots", count=3, labelled=2)
    out = tmp_path / "window.png"
    result = subprocess.run([sys.executable, "-m", "resyolo_gui.app", str(folder), "--screenshot", str(out)],
                            capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.width > 300 and image.height > 200


def test_sample_project_is_located_beside_the_package():
    assert SAMPLE_FOLDER == Path(__file__).resolve().parents[2] / "assets" / "sample"
