"""The training charts as drawn: plain mAP axis from 0 to 1, legends beside (not over) the curves and inside
the widget."""
from __future__ import annotations

import pytest


def past_run_rows(map50: float) -> list[dict]:
    return [dict(epoch=e, loss=5 - e * 0.5, regression=2 - e * 0.2, containment=1.5 - e * 0.1, no_object=1 - e * 0.1,
                 map50=map50 * e, map=0.0, ema_map50=0.0, ema_map=0.0, lr=0.001 * (1 - e / 10), **{"class": 0.5})
            for e in range(1, 6)]


@pytest.fixture
def charts(qtbot):
    from resyolo_gui.training.charts import TrainingCharts

    widget = TrainingCharts()
    qtbot.addWidget(widget)
    return widget


@pytest.mark.parametrize("map50", [0.0, 0.0004])
def test_map_axis_is_plain_and_runs_from_0_to_1(charts, qtbot, map50):
    """A run that scores 0.0004 (or nothing) read "mAP (x0.001)" from -400 to 400."""
    charts.resize(700, 420)
    charts.show()
    qtbot.waitExposed(charts)
    charts.load_results(past_run_rows(map50), "tiny")
    qtbot.wait(50)
    axis = charts.map_plot.getAxis("left")
    assert "x0.001" not in axis.labelString() and axis.labelString().count("(") == 0
    low, high = charts.map_plot.viewRange()[1]
    assert -0.1 < low <= 0 and 1 <= high < 1.1
    for plot in (charts.batch_plot, charts.epoch_plot, charts.map_plot, charts.lr_plot):
        assert "(x" not in plot.getAxis("left").labelString()  # the lr axis read "lr (x0.001)"


@pytest.mark.parametrize("size", [(700, 420), (520, 360), (1200, 700)])
def test_legends_do_not_cover_curves_and_are_not_cut_off(charts, qtbot, size):
    charts.resize(*size)
    charts.show()
    qtbot.waitExposed(charts)
    charts.load_results(past_run_rows(0.1), "tiny")
    qtbot.wait(50)
    view = charts.view
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    plots = (charts.batch_plot, charts.epoch_plot, charts.map_plot, charts.lr_plot)
    for plot in plots:
        legend = plot.legend
        assert len(legend.items) == len(plot.listDataItems())  # every curve named
        box = legend.mapRectToScene(legend.boundingRect())
        assert box.width() > 30 and box.height() > 10
        assert visible.contains(box), (box, visible)  # not cut off
        for other in plots:  # covers no chart's data area
            data_area = other.vb.mapRectToScene(other.vb.boundingRect())
            assert not box.intersects(data_area), (box, data_area)
        # every entry at the size it asks for: no label squeezed or clipped
        for _, label in legend.items:
            rect = label.mapRectToScene(label.boundingRect())
            assert box.contains(rect.adjusted(1, 1, -1, -1)) and rect.width() >= label.itemRect().width() - 1
