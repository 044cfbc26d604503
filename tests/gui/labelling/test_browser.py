"""The image browser: filters, search, counts, navigation within a filter, lazy thumbnails."""
from __future__ import annotations

import time

from engine.annotations.records import Box
from engine.project.project import Project
from resyolo_gui.labelling.browser import ImageBrowser


def make_browser(qtbot, folder) -> ImageBrowser:
    browser = ImageBrowser()
    qtbot.addWidget(browser)
    browser.set_project(Project.open(folder))
    browser.resize(300, 400)
    browser.show()
    qtbot.waitExposed(browser)
    return browser


def names(browser) -> list[str]:
    return [browser.project.annotations[r].image_path.name for r in browser.visible_rows()]


def test_filters_search_and_counts(tmp_path, make_folder, qtbot):
    browser = make_browser(qtbot, make_folder(tmp_path / "p", count=6, labelled=3))
    browser.project.annotations[1].verified = True
    assert len(names(browser)) == 6
    assert browser.count_label.text() == "6 of 6 shown · 3 labelled · 0 verified"
    browser.set_filter("unlabelled")
    assert names(browser) == ["img3.jpg", "img4.jpg", "img5.jpg"]
    browser.set_filter("labelled")
    assert names(browser) == ["img0.jpg", "img1.jpg", "img2.jpg"]
    assert browser.count_label.text().startswith("3 of 6 shown")
    browser.set_filter("unverified")
    assert "img1.jpg" not in names(browser) and len(names(browser)) == 5
    browser.set_filter("class", "dog")
    assert names(browser) == ["img1.jpg"]
    browser.set_filter("all")
    browser.search_edit.setText("IMG4")
    assert names(browser) == ["img4.jpg"]


def test_next_previous_follow_the_filter_and_current_image_stays_listed(tmp_path, make_folder, qtbot):
    browser = make_browser(qtbot, make_folder(tmp_path / "p", count=6, labelled=3))
    browser.set_filter("unlabelled")
    chosen = []
    browser.current_changed.connect(chosen.append)
    assert browser.step(1)  # from nothing selected: the first unlabelled image
    assert chosen == [3]
    browser.step(1)
    assert browser.current_row() == 4 and browser.neighbours(1) == [5, 3]

    # Labelling the current image does not drop it from the "unlabelled" list under the user...
    browser.project.annotations[4].boxes.append(Box("cat", 1, 1, 5, 5))
    browser.refresh_row(4)
    assert 4 in browser.visible_rows()
    # ...but once the user moves on, it goes.
    browser.step(1)
    assert browser.current_row() == 5 and names(browser) == ["img3.jpg", "img5.jpg"]
    assert not browser.step(1)  # the end
    browser.step(-1)
    assert browser.current_row() == 3


def test_thumbnails_are_made_off_thread_for_visible_rows_only(tmp_path, make_folder, qtbot, monkeypatch):
    import resyolo_gui.labelling.thumbnails as thumbnails

    made = []
    original = thumbnails.make_thumbnail
    monkeypatch.setattr(thumbnails, "make_thumbnail", lambda path, size: (made.append(path), original(path, size))[1])
    browser = make_browser(qtbot, make_folder(tmp_path / "p", count=300, labelled=0))
    browser.set_current(0)
    qtbot.waitUntil(lambda: len(made) > 0)
    browser.thumbnails.wait_for_done()
    qtbot.wait(50)
    assert 0 < len(made) < 40  # a 400 px tall list shows a handful of the 300 rows
    first = browser.project.annotations[0].image_path
    pixmap = browser.thumbnails.get(first)
    assert pixmap is not None and not pixmap.isNull() and max(pixmap.width(), pixmap.height()) <= 64


def test_large_folder_opens_without_reading_every_image(tmp_path, make_folder, qtbot):
    folder = make_folder(tmp_path / "big", count=1500, labelled=0, size=(8, 8))
    started = time.perf_counter()
    browser = make_browser(qtbot, folder)
    browser.set_current(0)
    elapsed = time.perf_counter() - started
    assert all(a.width == 0 for a in browser.project.annotations)  # sizes come lazily
    assert elapsed < 2.0
    browser.step(1)
    assert browser.current_row() == 1
