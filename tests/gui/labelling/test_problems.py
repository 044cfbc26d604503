"""File > Problems (issue 12): every problem, each bad box named, grouped by file."""
from __future__ import annotations

import json

from PIL import Image

from engine.annotations.records import Box


def _image(path, size=(64, 48)):
    Image.new("RGB", size, (90, 20, 140)).save(path)


def _voc(path, objects):
    body = "".join(f"<object><name>{n}</name><bndbox><xmin>{a}</xmin><ymin>{b}</ymin><xmax>{c}</xmax>"
                   f"<ymax>{d}</ymax></bndbox></object>" for n, a, b, c, d in objects)
    path.write_text(f"<annotation><filename>{path.stem}.jpg</filename><size><width>64</width><height>48</height>"
                    f"</size>{body}</annotation>")


def test_problems_lists_every_bad_box_grouped_by_file(tmp_path, open_window):
    for name in ("a", "b", "c"):
        _image(tmp_path / f"{name}.jpg")
    _voc(tmp_path / "a.xml", [("dog", 1, 1, 20, 20), ("cat", 5, 5, 5, 9), ("bird", "nan", 1, 9, 9),
                              ("", 1, 1, 9, 9)])
    (tmp_path / "b.xml").write_text("<annotation><object>")  # not XML at all
    _voc(tmp_path / "c.xml", [("dog", 2, 2, 30, 30)])
    window = open_window(tmp_path)
    window.show_problems()
    dialog = window.problems_dialog
    a, b = str(tmp_path / "a.xml"), str(tmp_path / "b.xml")
    assert dialog.files() == [a, b]
    problems_of_a = dialog.entries(a)
    assert len(problems_of_a) == 3  # each bad box its own line (was: only the first)
    assert any("#2 'cat'" in text and "xmax" in text for text, _ in problems_of_a)
    assert any("#3 'bird'" in text and "finite" in text for text, _ in problems_of_a)
    assert any("#4" in text and "<name>" in text for text, _ in problems_of_a)
    assert [kind for _, kind in dialog.entries(b)] == ["problem"] and "not valid XML" in dialog.entries(b)[0][0]
    assert [b.label for b in window.project.annotations[0].boxes] == ["dog"]  # the good box kept
    dialog.tree.itemDoubleClicked.emit(dialog.tree.topLevelItem(1), 0)
    assert window.current_annotation().image_path.name == "b.jpg"


def test_problems_also_lists_shapes_that_are_not_boxes_and_boxes_clipped_on_saving(tmp_path, open_window):
    _image(tmp_path / "a.jpg")
    (tmp_path / "a.json").write_text(json.dumps({
        "version": "5.5.0", "flags": {}, "imagePath": "a.jpg", "imageData": None, "imageHeight": 48, "imageWidth": 64,
        "shapes": [{"label": "dog", "points": [[1, 1], [30, 30]], "shape_type": "rectangle", "flags": {}},
                   {"label": "lane", "points": [[0, 0], [9, 9]], "shape_type": "line", "flags": {}},
                   {"label": "road", "points": [[0, 0], [9, 9], [3, 7]], "shape_type": "polygon", "flags": {}}]}))
    window = open_window(tmp_path)
    ann = window.current_annotation()
    ann.boxes.append(Box("cat", 50, 40, 90, 70))  # past the image's right and bottom edges
    window.canvas.annotation_edited.emit(ann)
    window.save()
    window.show_problems()
    entries = window.problems_dialog.entries(str(tmp_path / "a.json"))
    assert [kind for _, kind in entries] == ["note", "note", "saved with a change"]
    assert "lane" in entries[0][0] and "road" in entries[1][0]
