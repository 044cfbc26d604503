"""Saving from the window: autosave on leaving an image and on the timer, close saves, malformed label
backups, and a folder that cannot be written (edits stay in memory, Save To, the quit question)."""
from __future__ import annotations

from engine.annotations.folder import load_folder
from engine.annotations.records import Box
from engine.annotations.voc import read_voc_xml
from engine.project.project import Project
from resyolo_gui.labelling import dialogs


def edit_current(window, box: Box):
    """What the canvas does on an edit: change the boxes, then emit its seam signal."""
    ann = window.current_annotation()
    ann.boxes.append(box)
    window.canvas.annotation_edited.emit(ann)
    return ann


def test_leaving_an_image_saves_it_and_reopening_gives_the_same_boxes(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    window.step(1), window.step(1), window.step(1)  # img3: unlabelled
    ann = edit_current(window, Box("dog", 2.0, 3.0, 20.0, 30.0))
    assert window.isWindowModified() and not (image_folder / "img3.xml").exists()
    window.step(1)
    assert not window.isWindowModified()
    assert read_voc_xml(image_folder / "img3.xml").boxes == [Box("dog", 2.0, 3.0, 20.0, 30.0)]

    in_app = [list(a.boxes) for a in window.project.annotations]
    window.close()  # lets go of the folder's lock: a second window would be asked read-only / take over
    reopened = open_window(image_folder)
    assert [a.boxes for a in reopened.project.annotations] == in_app
    assert [a.boxes for a in load_folder(image_folder).annotations] == in_app
    assert ann.width == 64 and read_voc_xml(image_folder / "img3.xml").width == 64


def test_timer_autosave_writes_everything(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    edit_current(window, Box("cat", 1, 1, 9, 9))
    window.autosave_timer.setInterval(20)
    qtbot.waitUntil(lambda: not window.project.has_unsaved_changes(), timeout=3000)
    assert len(read_voc_xml(image_folder / "img0.xml").boxes) == 2


def test_close_with_unsaved_edits_saves(image_folder, open_window):
    window = open_window(image_folder)
    edit_current(window, Box("cat", 1, 1, 9, 9))
    assert window.close()
    assert len(read_voc_xml(image_folder / "img0.xml").boxes) == 2


def test_malformed_label_is_reported_left_alone_and_backed_up_on_edit(image_folder, open_window, qtbot):
    (image_folder / "img1.xml").write_text("<annotation><object><name>cat")
    window = open_window(image_folder)
    assert "could not be read" in window.statusBar().currentMessage()
    window.browser.set_filter("problems")
    assert window.browser.visible_rows() == [0, 1]  # the current image stays listed, plus the broken one
    window.step(1)
    assert "img1.xml" in window.statusBar().currentMessage()
    assert window.browser.visible_rows() == [1]  # img0 left the filter once the user moved on
    window.browser.set_filter("all")
    window.step(-1)
    window.save()
    assert (image_folder / "img1.xml").read_text() == "<annotation><object><name>cat"
    assert not (image_folder / "img1.xml.bak").exists()

    window.step(1)
    edit_current(window, Box("dog", 5, 5, 25, 25))
    window.step(-1)
    assert (image_folder / "img1.xml.bak").read_text() == "<annotation><object><name>cat"
    assert read_voc_xml(image_folder / "img1.xml").boxes == [Box("dog", 5, 5, 25, 25)]


def test_unwritable_folder_keeps_edits_offers_save_to_and_asks_on_quit(
        image_folder, open_window, qtbot, monkeypatch, tmp_path, no_blocking_save_question):
    # Running as root makes chmod useless, so the label file's place is taken by a folder instead.
    (image_folder / "img3.xml").mkdir()
    window = open_window(image_folder)
    window.browser.set_current(3)
    edit_current(window, Box("cat", 1, 1, 9, 9))
    window.step(1)  # autosave fails
    assert "Could not save" in window.statusBar().currentMessage()
    assert "Save To" in window.statusBar().currentMessage()
    assert window.project.is_dirty(window.project.annotations[3]) and window.isWindowModified()

    # Quit: the question comes; "cancel" keeps the window open with the edit.
    monkeypatch.setattr(dialogs, "ask_save_failure", lambda parent, failures: dialogs.CANCEL)
    assert not window.close() and window.isVisible()

    # "Save elsewhere": every label goes to the chosen folder, and the window closes.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    answers = iter([dialogs.SAVE_ELSEWHERE])
    monkeypatch.setattr(dialogs, "ask_save_failure", lambda parent, failures: next(answers))
    monkeypatch.setattr("resyolo_gui.main_window.QFileDialog.getExistingDirectory",
                        lambda *args, **kwargs: str(elsewhere))
    assert window.close()
    assert read_voc_xml(elsewhere / "img3.xml").boxes == [Box("cat", 1, 1, 9, 9)]
    assert len(read_voc_xml(elsewhere / "img0.xml").boxes) == 1  # the untouched labels came along
    assert len(load_folder(elsewhere).annotations) == 0  # labels only: the images stay where they are


def test_discard_on_quit_drops_only_what_could_not_be_saved(image_folder, open_window, no_blocking_save_question):
    (image_folder / "img3.xml").mkdir()
    window = open_window(image_folder)
    edit_current(window, Box("dog", 1, 1, 9, 9))  # img0: can be saved
    window.browser.set_current(3)
    edit_current(window, Box("cat", 1, 1, 9, 9))  # img3: cannot
    assert window.close()  # conftest answers "discard"
    assert no_blocking_save_question and "img3.xml" in no_blocking_save_question[0][0]
    assert len(read_voc_xml(image_folder / "img0.xml").boxes) == 2
    assert Project.open(image_folder).annotations[3].boxes == []
