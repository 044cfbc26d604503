"""A sorted evaluation table keeps the layout-change contract: the selection follows its row."""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QTableView

from resyolo_gui.evaluation.tables import _SortedTable


class Table(_SortedTable):
    headers = ["Class", "AP"]


def test_selected_row_stays_selected_after_sorting(qtbot):
    model = Table()
    model.rows = [("cat", 0.2, 0), ("dog", 0.9, 1), ("emu", 0.5, 2)]
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.selectionModel().setCurrentIndex(model.index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert [r[0] for r in model.rows] == ["dog", "emu", "cat"]
    current = view.selectionModel().currentIndex()
    assert (current.row(), model.rows[current.row()][0]) == (2, "cat")
    assert view.selectionModel().isSelected(model.index(2, 0))
