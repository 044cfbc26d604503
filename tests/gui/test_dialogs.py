"""Small dialogs of the labelling window, on a real window: Help > Shortcuts (F1)."""
from __future__ import annotations


def test_f1_lists_each_shortcut_once(image_folder, open_window):
    """Help > Shortcuts (F1) is given the window's actions and the canvas's, which are also the window's children:
    each shortcut still makes one row."""
    from resyolo_gui.labelling.dialogs import ShortcutsDialog

    window = open_window(image_folder)
    window.show_shortcuts()
    dialog = window.findChild(ShortcutsDialog)
    rows = [(dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text()) for r in range(dialog.table.rowCount())]
    assert len(rows) == len(set(rows))
    names = [name for name, _ in rows]
    assert names.count("Undo") == 1 and names.count("Zoom in") == 1 and names.count("Next Image") == 1
    assert dict(rows)["Next Image"] == "D, PgDown"
    dialog.close()
