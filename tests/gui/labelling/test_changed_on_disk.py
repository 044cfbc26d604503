"""Label files another program changes while the app has them open (issue 12): watched and reloaded when clean;
a save that meets one asks Reload Theirs / Keep Mine / Show Both."""
from __future__ import annotations

import os

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.annotations.records import Box
from engine.annotations.voc import read_voc_xml
from resyolo_gui.labelling import conflicts


def labelimg_xml(path, boxes, width=64, height=48):
    """What labelImg's pascal_voc_io writes (in place, open(..., 'w')): 0-based corners, its header fields."""
    objects = "".join(
        f"\n\t<object>\n\t\t<name>{name}</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n"
        f"\t\t<difficult>0</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>{x1}</xmin>\n\t\t\t<ymin>{y1}</ymin>\n"
        f"\t\t\t<xmax>{x2}</xmax>\n\t\t\t<ymax>{y2}</ymax>\n\t\t</bndbox>\n\t</object>"
        for name, x1, y1, x2, y2 in boxes)
    text = (f"<annotation>\n\t<folder>{path.parent.name}</folder>\n\t<filename>{path.stem}.jpg</filename>\n"
            f"\t<path>{path.with_suffix('.jpg')}</path>\n\t<source>\n\t\t<database>Unknown</database>\n\t</source>\n"
            f"\t<size>\n\t\t<width>{width}</width>\n\t\t<height>{height}</height>\n\t\t<depth>3</depth>\n\t</size>\n"
            f"\t<segmented>0</segmented>{objects}\n</annotation>\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def atomic_xml(path, boxes):
    """A writer that replaces the file by a rename (as ResYOLO's own and many careful tools do)."""
    tmp = path.with_name(path.name + ".other-tool-tmp")
    labelimg_xml(tmp, boxes)
    os.replace(tmp, path)


def answer_conflict(button_text: str, seen: list) -> None:
    """Click ``button_text`` in the real "changed on disk" question once it is up."""
    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "changed_on_disk_question":
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button_text).click()
    QTimer.singleShot(0, click)


def labels_on_canvas(window) -> list[str]:
    return sorted(item.box.label for item in window.canvas.box_items())


def edit_current(window, box: Box):
    ann = window.current_annotation()
    ann.boxes.append(box)
    window.canvas.annotation_edited.emit(ann)
    return ann


def test_clean_label_files_changed_by_other_programs_are_reloaded(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    assert labels_on_canvas(window) == ["cat"]
    with qtbot.waitSignal(window.folder_watch.reloaded, timeout=5000) as reloaded:
        labelimg_xml(image_folder / "img0.xml", [("cat", 4, 5, 30, 40), ("bird", 40, 2, 60, 20)])  # in place
    assert [a.image_path.name for a in reloaded.args[0]] == ["img0.jpg"]
    assert labels_on_canvas(window) == ["bird", "cat"]  # the current image is redrawn
    assert "bird" in window.project.labels and not window.project.is_dirty(window.current_annotation())
    with qtbot.waitSignal(window.folder_watch.reloaded, timeout=5000) as reloaded:
        atomic_xml(image_folder / "img4.xml", [("dog", 1, 1, 20, 20)])  # a new file for an unlabelled image
    assert [a.image_path.name for a in reloaded.args[0]] == ["img4.jpg"]
    assert [b.label for b in window.project.annotations[4].boxes] == ["dog"]
    assert "1 box" in window.browser.model.data(window.browser.model.index(4))
    window.save()  # our own writes are not "changes by another program"
    qtbot.wait(600)
    assert window.project.changed_on_disk() == []


def test_a_changed_file_with_unsaved_edits_is_not_reloaded(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    window.saving.conflicts.ask = lambda failure: conflicts.CANCEL  # closing the window must not wait on it
    ann = edit_current(window, Box("dog", 40, 1, 60, 20))
    labelimg_xml(image_folder / "img0.xml", [("bird", 1, 1, 9, 9)])
    qtbot.waitUntil(lambda: "unsaved edits" in window.statusBar().currentMessage(), timeout=5000)
    assert sorted(b.label for b in ann.boxes) == ["cat", "dog"] and window.project.is_dirty(ann)


def test_keep_mine_saves_mine_and_keeps_theirs_as_conflict(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    edit_current(window, Box("dog", 40, 1, 60, 20))
    labelimg_xml(image_folder / "img0.xml", [("bird", 1, 1, 9, 9)])
    seen = []
    answer_conflict(conflicts.KEEP_MINE_BUTTON, seen)
    window.step(1)  # leaving the image saves it: changed on disk, asked a moment later
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert "img0.xml was changed by another program" in seen[0]
    assert sorted(b.label for b in read_voc_xml(image_folder / "img0.xml").boxes) == ["cat", "dog"]
    assert [b.label for b in read_voc_xml(image_folder / "img0.xml.conflict").boxes] == ["bird"]
    assert not window.project.is_dirty(window.project.annotations[0])


def test_reload_theirs_replaces_my_unsaved_edits_of_that_image(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    edit_current(window, Box("dog", 40, 1, 60, 20))
    labelimg_xml(image_folder / "img0.xml", [("bird", 1, 1, 9, 9)])
    seen = []
    answer_conflict(conflicts.RELOAD_BUTTON, seen)
    window.save()  # File > Save
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    qtbot.waitUntil(lambda: labels_on_canvas(window) == ["bird"], timeout=5000)
    assert not window.project.is_dirty(window.current_annotation()) and not window.isWindowModified()
    assert not (image_folder / "img0.xml.conflict").exists()


def test_show_both_draws_theirs_over_mine_and_their_boxes_can_be_added(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    edit_current(window, Box("dog", 40, 1, 60, 20))
    labelimg_xml(image_folder / "img0.xml", [("bird", 1, 1, 9, 9)])
    seen = []
    answer_conflict(conflicts.SHOW_BOTH_BUTTON, seen)
    window.step(1)
    resolver = window.saving.conflicts
    qtbot.waitUntil(lambda: window.current_annotation().image_path.name == "img0.jpg"
                    and resolver.overlay.labels() == ["bird"], timeout=5000)  # back on img0, theirs drawn
    assert all(item.scene() is window.canvas.scene() for item in resolver.overlay.items)
    assert labels_on_canvas(window) == ["cat", "dog"]  # mine are still the labels
    assert [b.label for b in read_voc_xml(image_folder / "img0.xml.conflict").boxes] == ["bird"]
    assert resolver.add_theirs_action.isEnabled()
    resolver.add_theirs_action.trigger()
    assert labels_on_canvas(window) == ["bird", "cat", "dog"]
    window.save()  # no second question: theirs was seen and kept aside
    assert sorted(b.label for b in read_voc_xml(image_folder / "img0.xml").boxes) == ["bird", "cat", "dog"]
    assert len(seen) == 1


def test_quitting_with_a_conflict_asks_before_closing(image_folder, open_window, qtbot):
    window = open_window(image_folder)
    edit_current(window, Box("dog", 40, 1, 60, 20))
    labelimg_xml(image_folder / "img0.xml", [("bird", 1, 1, 9, 9)])
    window.folder_watch.set_project(None)  # no reload race: the question is what is tested here
    seen = []
    answer_conflict(conflicts.KEEP_MINE_BUTTON, seen)
    assert window.close()
    assert seen and sorted(b.label for b in read_voc_xml(image_folder / "img0.xml").boxes) == ["cat", "dog"]
