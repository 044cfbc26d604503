"""Detect menu end to end: a tiny real checkpoint whose network output is fixed (so detections are known),
proposals as a separate canvas layer, accept / reject / undo, live thresholds, folder auto-labelling."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.model.checkpoint import save_checkpoint
from engine.model.config import ModelConfig
from engine.model.weights import build_model
from engine.inference.detector import Detector
from resyolo_gui.canvas.box_item import BoxItem
from resyolo_gui.detection.dialogs import AutoLabelOptions
from resyolo_gui.detection.feature import DetectionFeature

COUNT_DELAY_MS = 120  # resyolo_gui.detection.feature.COUNT_DELAY_MS: the count waits for a dragged slider to pause

# (cx, cy, w, h, confidence, class) as fractions of the image, one per grid cell of the 64-pixel model (2 x 2).
# The third duplicates img0's cat label (4, 5, 30, 40) in a 64 x 48 image: IoU ~0.97, hidden.
DETECTIONS = [(0.75, 0.25, 0.25, 0.25, 0.9, 0), (0.75, 0.75, 0.25, 0.25, 0.4, 1),
              (17 / 64, 22.5 / 48, 26 / 64, 35 / 48, 0.8, 0)]


def fixed_output(batch_size: int) -> torch.Tensor:
    out = torch.zeros(batch_size, 2, 2, 12)
    for cx, cy, w, h, conf, label in DETECTIONS:
        col, row = int(cx * 2), int(cy * 2)
        out[:, row, col, :5] = torch.tensor([cx * 2 - col, cy * 2 - row, w, h, conf])
        out[:, row, col, 10 + label] = 1.0
    return out


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64), "none")
    return save_checkpoint(tmp_path_factory.mktemp("model") / "tiny.pt", model, ["cat", "dog"], epoch=3,
                           metrics={"map50": 0.625})


@pytest.fixture
def forward_calls(monkeypatch) -> list[int]:
    """The network's forward replaced by a fixed output; the list records each call's batch size."""
    calls = []

    def forward(self, batch):
        calls.append(len(batch))
        return fixed_output(len(batch))

    monkeypatch.setattr(Detector, "forward", forward)
    return calls


def detection(window) -> DetectionFeature:
    """The window's Detect feature, in its workspace (where its panel, sliders and all, is shown)."""
    window.show_workspace("Detect")
    return next(f for f in window.features if isinstance(f, DetectionFeature))


def run_and_wait(qtbot, feature: DetectionFeature, start) -> None:
    assert start()
    qtbot.waitUntil(lambda: not feature.is_running() and feature.panel.propose_button.isEnabled(), timeout=30000)


def snapshot(folder: Path, settings: bool = True) -> dict[str, bytes]:
    """Every file's bytes; ``settings=False`` leaves out FOLDER/.resyolo (a save always writes project.json). The
    project lock (.resyolo/lock, written by opening) is never counted."""
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and p.relative_to(folder).as_posix() != ".resyolo/lock"}
    return {k: v for k, v in files.items() if settings or not k.startswith(".resyolo")}


def test_model_picker_shows_classes_input_size_and_figures(qtbot, open_window, image_folder, checkpoint, tmp_path):
    run = image_folder / ".resyolo" / "runs" / "run1"
    run.mkdir(parents=True)
    shutil.copy(checkpoint, run / "best.pt")
    window = open_window(image_folder)
    picker = detection(window).picker
    picker.set_project_folder(image_folder)
    assert picker.combo.itemText(1) == "run1 / best.pt"
    with qtbot.waitSignal(picker.model_chosen) as chosen:
        picker.combo.activated.emit(1)
    assert chosen.args == [str(run / "best.pt")] and picker.current_checkpoint() == run / "best.pt"
    text = picker.info_label.text()
    assert "2 classes: cat, dog" in text and "input 64 x 64" in text and "mAP50 0.625" in text
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    picker.ask_checkpoint_file = lambda: str(broken)
    assert not picker.browse()
    assert "broken.pt" in picker.info_label.text() and picker.current_checkpoint() == run / "best.pt"


def test_proposals_form_a_separate_layer_and_sliders_do_not_run_the_network(
        qtbot, open_window, image_folder, checkpoint, forward_calls):
    window = open_window(image_folder)
    feature, canvas = detection(window), window.canvas
    ann = window.current_annotation()
    labels_before = list(ann.boxes)
    assert feature.picker.choose(checkpoint)
    assert feature.mapping.identical
    run_and_wait(qtbot, feature, feature.propose_current)
    assert forward_calls == [1]
    layer = canvas.proposal_layer
    assert [item.tag_text() for item in layer.items()] == ["cat 0.90", "dog 0.40"]  # the duplicate is hidden
    assert layer.items()[0].rect().getCoords() == pytest.approx((40, 6, 56, 18))
    assert ann.boxes == labels_before and len([i for i in canvas.scene().items() if isinstance(i, BoxItem)]) == 1
    assert not window.project.is_dirty(ann)  # proposals are not edits

    feature.panel.conf_slider.setValue(50)
    assert [item.tag_text() for item in layer.items()] == ["cat 0.90"]
    feature.panel.conf_slider.setValue(10)
    assert len(layer.items()) == 2
    assert forward_calls == [1]  # decoded again from the kept output


def fixed_anchor_free_output(batch_size: int) -> torch.Tensor:
    """DETECTIONS as the anchor-free head's eval output: N x 84 points x (x1, y1, x2, y2 fractions, 2 classes)."""
    out = torch.zeros(batch_size, 84, 4 + 2)
    for point, (cx, cy, w, h, conf, label) in enumerate(DETECTIONS):
        out[:, point * 7, :4] = torch.tensor([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        out[:, point * 7, 4 + label] = conf
    return out


def test_proposals_of_an_anchor_free_model_decode_the_same(qtbot, open_window, image_folder, tmp_path, monkeypatch):
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64, head="anchor_free"), "none")
    path = save_checkpoint(tmp_path / "anchor_free.pt", model, ["cat", "dog"])
    calls = []
    monkeypatch.setattr(Detector, "forward", lambda self, batch: calls.append(len(batch)) or
                        fixed_anchor_free_output(len(batch)))
    window = open_window(image_folder)
    feature = detection(window)
    assert feature.picker.choose(path)
    run_and_wait(qtbot, feature, feature.propose_current)
    layer = window.canvas.proposal_layer
    assert calls == [1] and [item.tag_text() for item in layer.items()] == ["cat 0.90", "dog 0.40"]
    assert layer.items()[0].rect().getCoords() == pytest.approx((40, 6, 56, 18))
    feature.panel.conf_slider.setValue(50)
    assert [item.tag_text() for item in layer.items()] == ["cat 0.90"] and calls == [1]


def test_accept_reject_and_undo(qtbot, open_window, image_folder, checkpoint, forward_calls):
    window = open_window(image_folder)
    feature, canvas = detection(window), window.canvas
    ann, layer = window.current_annotation(), canvas.proposal_layer
    feature.picker.choose(checkpoint)
    run_and_wait(qtbot, feature, feature.propose_current)
    canvas.setFocus()
    cat = layer.proposals()[0]
    layer.select(cat)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert len(ann.boxes) == 2 and ann.boxes[-1].xyxy() == pytest.approx(cat.box.xyxy())
    assert window.project.is_dirty(ann)
    assert [p.box.label for p in layer.proposals()] == ["dog"]  # the accepted one is a label now
    assert any(isinstance(i, BoxItem) and i.box is ann.boxes[-1] for i in canvas.scene().items())

    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(ann.boxes) == 1  # undo takes the box back ...
    assert [p.box.label for p in layer.proposals()] == ["cat", "dog"]  # ... and the proposal returns

    layer.select(layer.proposals()[1])
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert [p.box.label for p in layer.proposals()] == ["cat"] and len(ann.boxes) == 1
    feature.panel.conf_slider.setValue(5)
    assert [p.box.label for p in layer.proposals()] == ["cat"]  # rejected stays rejected

    qtbot.keyClick(canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [b.label for b in ann.boxes] == ["cat", "cat"] and layer.proposals() == []
    canvas.undo_stack().undo()
    assert layer.proposals() and len(ann.boxes) == 1
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert layer.proposals() == [] and len(ann.boxes) == 1


def test_missing_model_classes_are_dropped_or_added(qtbot, open_window, image_folder, tmp_path, forward_calls):
    model, _ = build_model(ModelConfig(num_classes=2, backbone="resnet18", image_size=64), "none")
    path = save_checkpoint(tmp_path / "birds.pt", model, ["CAT", "bird"])
    window = open_window(image_folder)
    feature, layer = detection(window), window.canvas.proposal_layer
    asked = []
    feature.ask_missing_classes = lambda missing: asked.append(missing) or "drop"
    feature.picker.choose(path)
    assert asked == [["bird"]] and "bird" in feature.panel.mapping_label.text()
    run_and_wait(qtbot, feature, feature.propose_current)
    assert [p.box.label for p in layer.proposals()] == ["cat"]  # CAT -> cat by name; bird dropped
    feature.ask_missing_classes = lambda missing: "add"
    feature.picker.choose(path)
    assert "bird" in window.project.labels.names
    run_and_wait(qtbot, feature, feature.propose_current)
    assert [p.box.label for p in layer.proposals()] == ["cat", "bird"]


def test_auto_label_folder_proposes_on_the_chosen_images_and_writes_nothing(
        qtbot, open_window, image_folder, checkpoint, forward_calls):
    before = snapshot(image_folder)
    window = open_window(image_folder)
    feature = detection(window)
    feature.picker.choose(checkpoint)
    feature.ask_auto_label_options = lambda unlabelled, total: AutoLabelOptions(only_unlabelled=True)
    run_and_wait(qtbot, feature, feature.auto_label_folder)
    assert sorted(p.name for p in feature.store.paths()) == ["img3.jpg", "img4.jpg"]
    assert sum(forward_calls) == 2
    window.browser.set_current(3)
    window.browser.set_filter("proposals")
    assert window.browser.visible_rows() == [3, 4]
    assert snapshot(image_folder) == before  # no label file written or touched

    feature.ask_auto_label_options = lambda unlabelled, total: AutoLabelOptions(only_unlabelled=False)
    run_and_wait(qtbot, feature, feature.auto_label_folder)
    assert len(feature.store.paths()) == 5
    assert window.browser.visible_rows() == [0, 1, 2, 3, 4]
    window.saving.save()
    assert snapshot(image_folder, settings=False) == before  # nothing accepted: no label file written

    window.browser.set_current(4)
    qtbot.waitUntil(lambda: window.canvas.annotation() is window.project.annotations[4]
                    and window.canvas.has_image(), timeout=5000)
    assert window.canvas.proposal_layer.accept_all()
    window.saving.save()
    after = snapshot(image_folder, settings=False)
    assert "img4.xml" in after and "cat" in after["img4.xml"].decode()
    assert {k: v for k, v in after.items() if k != "img4.xml"} == before  # the others byte-identical


def test_replacing_existing_labels_is_an_explicit_undoable_choice(
        qtbot, open_window, image_folder, checkpoint, forward_calls):
    window = open_window(image_folder)
    feature, layer = detection(window), window.canvas.proposal_layer
    ann = window.current_annotation()
    old = ann.boxes[0]
    feature.picker.choose(checkpoint)
    feature.ask_auto_label_options = lambda unlabelled, total: AutoLabelOptions(False, replace_existing=True)
    run_and_wait(qtbot, feature, feature.auto_label_folder)
    assert len(layer.proposals()) == 3  # the label to be replaced hides nothing
    layer.accept_all()
    assert old not in ann.boxes and len(ann.boxes) == 3 and layer.proposals() == []
    window.canvas.undo_stack().undo()
    assert ann.boxes == [old] and ann.boxes[0] is old


def test_enter_ctrl_enter_and_esc_act_on_proposals_after_a_slider_took_the_focus(
        qtbot, open_window, image_folder, checkpoint, forward_calls):
    window = open_window(image_folder)
    feature, canvas = detection(window), window.canvas
    ann, layer = window.current_annotation(), canvas.proposal_layer
    feature.picker.choose(checkpoint)
    run_and_wait(qtbot, feature, feature.propose_current)
    layer.select(layer.proposals()[0])  # the cat, clicked on the canvas
    slider = feature.panel.conf_slider
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton)  # a slider takes the focus when touched
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Left)
    assert slider.hasFocus() and slider.value() != 25

    qtbot.keyClick(slider, Qt.Key.Key_Return)  # was: nothing (the accept key only worked inside the canvas)
    assert [b.label for b in ann.boxes] == ["cat", "cat"]
    canvas.undo_stack().undo()
    layer.select(layer.proposals()[0])
    qtbot.keyClick(slider, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)  # the keypad's Enter too
    assert [b.label for b in ann.boxes] == ["cat", "cat"]
    canvas.undo_stack().undo()
    assert len(ann.boxes) == 1
    qtbot.keyClick(slider, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [b.label for b in ann.boxes] == ["cat", "cat", "dog"]
    canvas.undo_stack().undo()
    assert len(layer.proposals()) == 2 and slider.hasFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Escape)
    assert layer.proposals() == [] and len(ann.boxes) == 1  # rejected, as Esc does on the canvas


def output_of(detections, batch_size: int) -> torch.Tensor:
    """Raw output of the 2 x 2 grid, 2 boxes per cell: ``detections`` = (cell row, col, slot, cx, cy, w, h, conf,
    class) with fractions of the image."""
    out = torch.zeros(batch_size, 2, 2, 12)
    for row, col, slot, cx, cy, w, h, conf, label in detections:
        out[:, row, col, slot * 5:slot * 5 + 5] = torch.tensor([cx * 2 - col, cy * 2 - row, w, h, conf])
        out[:, row, col, 10 + label] = 1.0
    return out


def test_hover_picks_the_proposal_whose_tag_is_pointed_at(qtbot, open_window, make_folder, tmp_path, checkpoint,
                                                          monkeypatch):
    # A large "cat" over most of the image and a small "dog" inside it, so small on screen that its tag sticks out.
    folder = make_folder(tmp_path / "big", count=1, labelled=0, size=(640, 480))
    big, small = (0, 0, 0, 0.45, 0.45, 0.9, 0.9, 0.9, 0), (0, 1, 1, 0.6, 0.3, 0.02, 0.02, 0.8, 1)
    monkeypatch.setattr(Detector, "forward", lambda self, batch: output_of([big, small], len(batch)))
    window = open_window(folder)
    feature, canvas = detection(window), window.canvas
    layer = canvas.proposal_layer
    feature.ask_missing_classes = lambda missing: "add"  # a folder without labels has no classes yet
    feature.picker.choose(checkpoint)
    run_and_wait(qtbot, feature, feature.propose_current)
    canvas.actual_size()
    items = {item.proposal.box.label: item for item in layer.items()}
    assert set(items) == {"cat", "dog"}
    tag = items["dog"].childItems()[0]  # the "dog 0.80" tag, drawn at its screen size whatever the zoom
    dog_tag = QRectF(tag.boundingRect()).translated(QPointF(canvas.mapFromScene(items["dog"].mapToScene(tag.pos()))))
    dog_box = QRectF(canvas.mapFromScene(items["dog"].rect().topLeft()),
                     canvas.mapFromScene(items["dog"].rect().bottomRight()))
    on_tag = QPoint(round(dog_tag.right() - 3), round(dog_tag.center().y()))
    assert not dog_box.contains(QPointF(on_tag)) and items["cat"].rect().contains(canvas.mapToScene(on_tag))

    def move_to(pos: QPoint) -> None:
        event = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(pos), QPointF(canvas.viewport().mapToGlobal(pos)),
                            Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(canvas.viewport(), event)

    move_to(on_tag)
    assert layer.active() is items["dog"].proposal  # was: the large cat, the box under the cursor
    inside_dog = canvas.mapFromScene(items["dog"].rect().center())
    move_to(inside_dog)
    assert layer.active() is items["dog"].proposal  # off any tag: the smallest proposal containing the point
    inside_cat = canvas.mapFromScene(items["cat"].rect().center())
    move_to(inside_cat)
    assert layer.active() is items["cat"].proposal

    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=on_tag)  # a click on the tag picks it too
    move_to(inside_cat)
    assert layer.active() is items["dog"].proposal
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert [b.label for b in window.current_annotation().boxes] == ["dog"]


def test_review_count_follows_the_sliders_and_the_decisions(qtbot, open_window, image_folder, checkpoint,
                                                            forward_calls):
    from PySide6.QtWidgets import QLabel

    window = open_window(image_folder)
    feature = detection(window)
    panel = feature.panel
    feature.picker.choose(checkpoint)
    feature.ask_auto_label_options = lambda unlabelled, total: AutoLabelOptions(only_unlabelled=False)
    run_and_wait(qtbot, feature, feature.auto_label_folder)

    def panel_text() -> str:
        return " ".join(label.text() for label in panel.findChildren(QLabel))

    panel.conf_slider.setValue(95)  # no proposal scores this high: nothing left on screen
    assert window.canvas.proposal_layer.proposals() == []
    qtbot.wait(COUNT_DELAY_MS + 100)
    assert "have proposals" not in panel_text()  # was: "5 image(s) have proposals to review", whatever was shown
    assert "No proposals to review at these thresholds" in panel_text()
    panel.conf_slider.setValue(50)  # the cat (0.9) and the second cat (0.8) on each image, less the duplicates
    qtbot.waitUntil(lambda: "on 5 image(s) to review" in panel_text(), timeout=3000)
    assert feature.review_counts() == (5, sum(len(feature.store.visible(a)) for a in window.project.annotations))
    window.canvas.setFocus()
    images, proposals = feature.review_counts()
    assert window.canvas.proposal_layer.accept_all()  # the first image's proposals become labels
    qtbot.waitUntil(lambda: "on 4 image(s) to review" in panel_text(), timeout=3000)
    window.canvas.undo_stack().undo()  # ... and are proposals again
    qtbot.waitUntil(lambda: f"{proposals:,} proposal(s) on 5 image(s)" in panel_text(), timeout=3000)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)  # reject the first image's proposals
    qtbot.waitUntil(lambda: "on 4 image(s) to review" in panel_text(), timeout=3000)


def test_every_detection_panel_control_leaves_the_labelling_keys_to_the_canvas(
        qtbot, open_window, image_folder, checkpoint, forward_calls):
    """Whatever control of the Detection panel was touched last (model list, sliders, buttons), Enter accepts and
    Esc rejects proposals, and the window-wide labelling keys (next image, draw, class, verify) still act."""
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QComboBox, QWidget

    window = open_window(image_folder)
    feature, canvas = detection(window), window.canvas
    layer = canvas.proposal_layer
    feature.picker.choose(checkpoint)
    controls = [w for w in feature.panel.findChildren(QWidget)
                if isinstance(w, (QComboBox, QAbstractSlider, QAbstractButton)) and w.isVisibleTo(feature.panel)
                and w.focusPolicy() != Qt.FocusPolicy.NoFocus]
    assert len(controls) >= 6  # model list, Browse, two sliders, Propose, Auto-label
    for control in controls:
        ann = window.current_annotation()
        run_and_wait(qtbot, feature, feature.propose_current)
        before = len(ann.boxes)
        layer.select(layer.proposals()[0])
        control.setFocus()
        assert control.hasFocus(), control
        qtbot.keyClick(control, Qt.Key.Key_Return)
        assert len(ann.boxes) == before + 1, f"Enter on {type(control).__name__} {control.toolTip()!r}"
        qtbot.keyClick(control, Qt.Key.Key_Escape)
        assert layer.proposals() == [], f"Esc on {type(control).__name__}"
        canvas.undo_stack().undo()

    slider = feature.panel.iou_slider
    slider.setFocus()
    row = window.browser.current_row()
    qtbot.keyClick(slider, Qt.Key.Key_D)
    assert window.browser.current_row() == row + 1  # next image
    qtbot.keyClick(slider, Qt.Key.Key_W)
    assert canvas.is_draw_mode()
    qtbot.keyClick(slider, Qt.Key.Key_2)
    assert canvas.current_class() == "dog"
    verified = window.current_annotation().verified
    qtbot.keyClick(slider, Qt.Key.Key_Space)
    assert window.current_annotation().verified is not verified
