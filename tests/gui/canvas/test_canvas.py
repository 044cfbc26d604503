"""The labelling canvas driven by real mouse, wheel and key events on a real project folder."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QAction, QKeySequence, QMouseEvent, QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QGraphicsTextItem  # noqa: E402

from engine.annotations.records import Box  # noqa: E402
from engine.project.project import Project  # noqa: E402
from resyolo_gui.canvas import AnnotationCanvas  # noqa: E402
from resyolo_gui.canvas.box_item import BoxItem  # noqa: E402

WIDTH, HEIGHT = 200, 150


@pytest.fixture
def project(tmp_path):
    for name in ("a.png", "b.png"):
        Image.fromarray(np.full((HEIGHT, WIDTH, 3), 90, np.uint8)).save(tmp_path / name)
    project = Project.open(tmp_path)
    for name in ("cat", "dog", "bird"):
        project.classes.add(name)
    return project


@pytest.fixture
def canvas(qtbot, project):
    view = AnnotationCanvas()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.setFocus()
    show(view, project, 0)
    view.set_zoom(2.0)
    return view


def show(view, project, index, rgb=None, **kwargs):
    ann = project.annotations[index]
    view.set_image(np.full((HEIGHT, WIDTH, 3), 90, np.uint8) if rgb is None else rgb, ann, project, **kwargs)
    return ann


def at(view, x, y) -> QPoint:
    """Viewport position of image pixel (x, y)."""
    return view.mapFromScene(QPointF(x, y))


def send_mouse(view, kind, pos: QPoint, button=Qt.MouseButton.LeftButton, buttons=None, modifiers=None):
    """A mouse event carrying its buttons (QTest's mouseMove carries none)."""
    buttons = button if buttons is None else buttons
    event = QMouseEvent(kind, QPointF(pos), QPointF(view.viewport().mapToGlobal(pos)), button, buttons,
                        modifiers or Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def drag(qtbot, view, start: QPoint, end: QPoint, button=Qt.MouseButton.LeftButton):
    qtbot.mousePress(view.viewport(), button, pos=start)
    for step in (0.3, 0.7, 1.0):
        point = start + (end - start) * step
        send_mouse(view, QMouseEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, button)
    qtbot.mouseRelease(view.viewport(), button, pos=end)


def records(ann):
    return [(b.label, round(b.x1), round(b.y1), round(b.x2), round(b.y2), b.difficult) for b in ann.boxes]


def add_boxes(view, ann, *boxes):
    """Put boxes in the model directly (the starting state of a test), then mirror them."""
    ann.boxes.extend(boxes)
    view.refresh_boxes()


def click(qtbot, view, x, y, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, at(view, x, y))


def test_drag_in_draw_mode_makes_a_box_in_image_pixels_and_undo_redo(qtbot, canvas, project):
    ann = project.annotations[0]
    canvas.set_current_class("dog")
    qtbot.keyClick(canvas, Qt.Key.Key_W)
    assert canvas.is_draw_mode()
    assert canvas.viewport().cursor().shape() == Qt.CursorShape.CrossCursor
    with qtbot.waitSignal(canvas.annotation_edited) as edited:
        drag(qtbot, canvas, at(canvas, 20, 30), at(canvas, 120, 90))
    assert edited.args == [ann]
    [box] = ann.boxes
    assert box.label == "dog"
    assert box.xyxy() == pytest.approx((20, 30, 120, 90), abs=1)
    assert project.is_dirty(ann)
    assert canvas.selected_boxes() == [box]
    [item] = canvas.box_items()
    assert item.tag_text() == "dog" and item.rect().width() == pytest.approx(box.width)

    canvas.undo_stack().undo()
    assert ann.boxes == [] and canvas.box_items() == []
    canvas.undo_stack().redo()
    assert ann.boxes == [box] and ann.boxes[0] is box


def test_a_click_or_sliver_in_draw_mode_makes_no_box(qtbot, canvas, project):
    canvas.set_draw_mode(True)
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=at(canvas, 50, 50))
    drag(qtbot, canvas, at(canvas, 50, 50), at(canvas, 51, 90))  # 1 image px wide
    assert project.annotations[0].boxes == []
    assert canvas.undo_stack().count() == 0


def test_drawn_box_is_clamped_to_the_image(qtbot, canvas, project):
    canvas.set_zoom(1.0)
    canvas.set_draw_mode(True)
    drag(qtbot, canvas, at(canvas, 150, 100), at(canvas, 260, 200))  # past the bottom-right corner
    assert project.annotations[0].boxes[0].xyxy() == pytest.approx((150, 100, WIDTH, HEIGHT), abs=1)


def test_coordinates_stay_full_resolution_when_the_pixmap_is_downscaled(qtbot, canvas, project):
    small = np.full((HEIGHT // 2, WIDTH // 2, 3), 90, np.uint8)
    ann = show(canvas, project, 1, rgb=small, display_scale=0.5)
    assert canvas.image_rect().width() == WIDTH
    canvas.set_zoom(2.0)
    canvas.set_draw_mode(True)
    drag(qtbot, canvas, at(canvas, 100, 40), at(canvas, 180, 140))
    assert ann.boxes[0].xyxy() == pytest.approx((100, 40, 180, 140), abs=1)


def test_move_a_box_by_dragging_it_then_undo(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50))
    drag(qtbot, canvas, at(canvas, 40, 35), at(canvas, 70, 45))
    assert records(ann) == [("cat", 50, 30, 90, 60, False)]
    canvas.undo_stack().undo()
    assert ann.boxes[0].xyxy() == (20, 20, 60, 50)
    canvas.undo_stack().redo()
    assert records(ann) == [("cat", 50, 30, 90, 60, False)]


def test_a_moved_box_stops_at_the_image_edge(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50))
    drag(qtbot, canvas, at(canvas, 40, 35), at(canvas, 10, 5))
    assert ann.boxes[0].xyxy() == (0, 0, 40, 30)


def test_resize_by_the_corner_handle_then_undo(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50))
    click(qtbot, canvas, 40, 35)  # select: handles appear
    drag(qtbot, canvas, at(canvas, 60, 50), at(canvas, 100, 80))
    assert records(ann) == [("cat", 20, 20, 100, 80, False)]
    drag(qtbot, canvas, at(canvas, 20, 50), at(canvas, 5, 50))  # middle of the left edge
    assert records(ann) == [("cat", 5, 20, 100, 80, False)]
    canvas.undo_stack().undo()
    canvas.undo_stack().undo()
    assert ann.boxes[0].xyxy() == (20, 20, 60, 50)


def test_delete_key_and_undo_puts_the_box_back_in_place(qtbot, canvas, project):
    ann = project.annotations[0]
    first, second = Box("cat", 10, 10, 40, 40), Box("dog", 100, 60, 150, 120)
    add_boxes(canvas, ann, first, second)
    click(qtbot, canvas, 20, 20)
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert ann.boxes == [second]
    assert len(canvas.box_items()) == 1
    canvas.undo_stack().undo()
    assert ann.boxes[0] is first and ann.boxes[1] is second


def test_arrow_keys_nudge_one_pixel_and_shift_ten(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50))
    click(qtbot, canvas, 40, 35)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert ann.boxes[0].xyxy() == (21, 20, 61, 50)
    qtbot.keyClick(canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert ann.boxes[0].xyxy() == (21, 30, 61, 60)
    qtbot.keyClick(canvas, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert ann.boxes[0].xyxy() == (0, 30, 40, 60)  # stopped at the left edge
    for _ in range(5):
        canvas.undo_stack().undo()
    assert ann.boxes[0].xyxy() == (20, 20, 60, 50)


def test_undo_and_redo_shortcuts(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50))
    click(qtbot, canvas, 40, 35)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ann.boxes[0].x1 == 20
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert ann.boxes[0].x1 == 21
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert ann.boxes[0].x1 == 21


def test_wheel_zooms_around_the_cursor(qtbot, canvas):
    canvas.set_zoom(4.0)  # larger than the window, so the view can scroll to keep the point
    anchor = at(canvas, 50, 40)
    event = QWheelEvent(QPointF(anchor), QPointF(canvas.viewport().mapToGlobal(anchor)), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    with qtbot.waitSignal(canvas.zoom_changed):
        QApplication.sendEvent(canvas.viewport(), event)
    assert canvas.zoom() == pytest.approx(5.0)
    under_cursor = canvas.mapToScene(anchor)
    assert (under_cursor.x(), under_cursor.y()) == pytest.approx((50, 40), abs=1)


def test_fit_and_actual_size(qtbot, canvas):
    canvas.canvas_actions.actual_size.trigger()
    assert canvas.zoom() == 1.0
    canvas.canvas_actions.fit.trigger()
    assert canvas.zoom() == pytest.approx(min(canvas.viewport().width() / WIDTH,
                                              canvas.viewport().height() / HEIGHT), rel=0.05)


def test_middle_button_and_space_drag_pan(qtbot, canvas):
    window_space = QAction("Mark verified", canvas)  # the main window binds a Space tap
    window_space.setShortcut(QKeySequence("Space"))
    canvas.addAction(window_space)
    canvas.set_zoom(8.0)
    scroll = canvas.horizontalScrollBar()
    before = scroll.value()
    drag(qtbot, canvas, QPoint(300, 200), QPoint(200, 200), Qt.MouseButton.MiddleButton)
    assert scroll.value() == before + 100
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    drag(qtbot, canvas, QPoint(200, 200), QPoint(250, 200))
    with qtbot.assertNotEmitted(canvas.space_tapped), qtbot.assertNotEmitted(window_space.triggered):
        qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert scroll.value() == before + 50
    assert canvas.annotation().boxes == []
    with qtbot.waitSignal(canvas.space_tapped):
        qtbot.keyClick(canvas, Qt.Key.Key_Space)


def test_key_2_sets_the_class_of_the_selection(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50), Box("cat", 100, 60, 150, 120))
    click(qtbot, canvas, 40, 35)
    click(qtbot, canvas, 120, 80, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_2)
    assert [b.label for b in ann.boxes] == ["dog", "dog"]
    assert canvas.current_class() == "dog"
    assert [i.tag_text() for i in canvas.box_items()] == ["dog", "dog"]
    canvas.undo_stack().undo()
    assert [b.label for b in ann.boxes] == ["cat", "cat"]


def test_ctrl_d_duplicates_with_an_offset(qtbot, canvas, project):
    ann = project.annotations[0]
    original = Box("cat", 20, 20, 60, 50)
    add_boxes(canvas, ann, original)
    click(qtbot, canvas, 40, 35)
    qtbot.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert records(ann) == [("cat", 20, 20, 60, 50, False), ("cat", 30, 30, 70, 60, False)]
    assert canvas.selected_boxes() == [ann.boxes[1]] and ann.boxes[1] is not original
    canvas.undo_stack().undo()
    assert ann.boxes == [original]


def test_paste_boxes_copies_clamps_and_skips_those_already_there(qtbot, canvas, project):
    ann = project.annotations[0]
    previous = [Box("cat", 10, 10, 50, 50), Box("dog", 180, 100, 260, 200), Box("bird", 300, 300, 320, 320)]
    assert canvas.paste_boxes(previous) == 2  # the bird lies outside this image
    assert records(ann) == [("cat", 10, 10, 50, 50, False), ("dog", 180, 100, WIDTH, HEIGHT, False)]
    assert ann.boxes[0] is not previous[0]
    assert canvas.paste_boxes(previous) == 0
    canvas.undo_stack().undo()
    assert ann.boxes == []


def test_shift_d_toggles_difficult(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50))
    click(qtbot, canvas, 40, 35)
    qtbot.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    assert ann.boxes[0].difficult
    assert canvas.canvas_actions.difficult.isChecked()
    assert canvas.box_items()[0].tag_text() == "cat (difficult)"
    qtbot.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    assert not ann.boxes[0].difficult
    canvas.undo_stack().undo()
    assert ann.boxes[0].difficult


def test_hidden_boxes_are_invisible_and_cannot_be_picked(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50))
    canvas.canvas_actions.hide_boxes.setChecked(True)
    assert not canvas.box_items()[0].isVisible()
    drag(qtbot, canvas, at(canvas, 40, 35), at(canvas, 70, 45))
    assert ann.boxes[0].xyxy() == (20, 20, 60, 50)
    canvas.set_boxes_hidden(False)
    assert canvas.box_items()[0].isVisible()


def test_first_box_of_a_project_without_classes_asks_for_a_name(qtbot, tmp_path):
    Image.fromarray(np.zeros((HEIGHT, WIDTH, 3), np.uint8)).save(tmp_path / "only.png")
    project = Project.open(tmp_path)
    view = AnnotationCanvas()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    ann = show(view, project, 0)
    view.set_draw_mode(True)
    view.ask_class_name = lambda: None  # cancelled
    drag(qtbot, view, at(view, 10, 10), at(view, 80, 80))
    assert ann.boxes == [] and project.labels.names == []
    view.ask_class_name = lambda: "  person "
    with qtbot.waitSignal(view.classes_changed):
        drag(qtbot, view, at(view, 10, 10), at(view, 80, 80))
    assert project.labels.names == ["person"] and [b.label for b in ann.boxes] == ["person"]


def test_each_image_keeps_its_own_undo_history(qtbot, canvas, project):
    first, second = project.annotations
    canvas.paste_boxes([Box("cat", 10, 10, 50, 50)])
    show(canvas, project, 1)
    assert canvas.undo_stack().count() == 0
    canvas.paste_boxes([Box("dog", 10, 10, 50, 50)])
    show(canvas, project, 0)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert first.boxes == [] and len(second.boxes) == 1


def test_an_unreadable_image_shows_the_reason_and_allows_no_edits(qtbot, canvas, project):
    ann = project.annotations[0]
    canvas.set_image(None, ann, project, message="a.png: not an image (truncated file)")
    texts = [i.toPlainText() for i in canvas.scene().items() if isinstance(i, QGraphicsTextItem)]
    assert texts == ["a.png: not an image (truncated file)"]
    assert not canvas.canvas_actions.draw.isEnabled()
    assert canvas.paste_boxes([Box("cat", 10, 10, 50, 50)]) == 0
    canvas.set_draw_mode(True)
    drag(qtbot, canvas, QPoint(100, 100), QPoint(200, 200))
    assert ann.boxes == []


def test_rubber_band_selects_boxes_inside(qtbot, canvas, project):
    ann = project.annotations[0]
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50), Box("dog", 100, 60, 150, 120))
    with qtbot.waitSignal(canvas.selection_changed):
        drag(qtbot, canvas, at(canvas, 5, 5), at(canvas, 70, 60))
    assert canvas.selected_boxes() == [ann.boxes[0]]
    assert all(isinstance(i, BoxItem) for i in canvas.box_items())


def test_delete_key_elsewhere_in_the_window_leaves_boxes_alone(qtbot, project):
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    window = QWidget()
    qtbot.addWidget(window)
    canvas, other = AnnotationCanvas(), QLineEdit()
    layout = QVBoxLayout(window)
    layout.addWidget(canvas)
    layout.addWidget(other)
    window.resize(640, 520)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    ann = show(canvas, project, 0)
    add_boxes(canvas, ann, Box("cat", 20, 20, 60, 50))
    canvas.select_boxes(ann.boxes)
    other.setFocus()
    assert other.hasFocus()
    qtbot.keyClick(other, Qt.Key.Key_Delete)
    assert len(ann.boxes) == 1
    canvas.setFocus()
    assert canvas.hasFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert ann.boxes == []


def test_painting_many_boxes_does_not_use_up_none(qtbot, canvas, project):
    """The PySide6 build here loses a reference to None per void call; the guard keeps the app alive."""
    import sys

    ann = project.annotations[0]
    add_boxes(canvas, ann, *(Box("cat", i, i, i + 30, i + 20) for i in range(0, 100, 5)))
    before = sys.getrefcount(None)
    for _ in range(10):
        canvas.viewport().repaint()
    lost_per_repaint = (before - sys.getrefcount(None)) / 10
    assert sys.getrefcount(None) > lost_per_repaint * 10**7, "ten million repaints would free None and abort"
