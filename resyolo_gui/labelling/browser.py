"""The image list: thumbnails, filters (all / unlabelled / labelled / unverified / problems / has proposals / class X /
split X, the last only for datasets with splits: an Ultralytics data.yaml, a VOC devkit's ImageSets/Main), search by
name, counts, and next / previous within what the filters show."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QItemSelectionModel, QModelIndex, QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

from engine.project.project import Project
from resyolo_gui.icons import icon
from resyolo_gui.labelling.thumbnails import ThumbnailCache

FILTERS = (("all", "All images"), ("unlabelled", "Unlabelled"), ("labelled", "Labelled"),
           ("unverified", "Unverified"), ("problems", "Label problems"), ("proposals", "Has proposals"))


class AnnotationListModel(QAbstractListModel):
    """One row per ``project.annotations`` entry, in project order."""

    def __init__(self, project: Project, thumbnails: ThumbnailCache, parent=None):
        super().__init__(parent)
        self.project = project
        self.thumbnails = thumbnails
        self._row_of = {str(a.image_path): i for i, a in enumerate(project.annotations)}
        thumbnails.ready.connect(self._thumbnail_ready)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.project.annotations)

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        ann = self.project.annotations[index.row()]
        path = Path(ann.image_path)
        if role == Qt.DisplayRole:
            return f"{path.name}\n{self._summary(ann)}"
        if role == Qt.DecorationRole:
            pixmap = self.thumbnails.get(path)
            if pixmap is None:
                return icon("image")
            return pixmap if not pixmap.isNull() else icon("image-broken")
        if role == Qt.ToolTipRole:
            error = self.project.errors.get(path)
            return f"{path}\n{error}" if error else str(path)
        if role == Qt.ForegroundRole and path in self.project.errors:
            return QColor("#d04040")
        return None

    def _summary(self, ann) -> str:
        parts = []
        if Path(ann.image_path) in self.project.errors:
            parts.append("label file problem")
        parts.append(f"{len(ann.boxes)} box{'es' if len(ann.boxes) != 1 else ''}" if ann.boxes else "unlabelled")
        if ann.verified:
            parts.append("✓ verified")
        if self.project.is_dirty(ann):
            parts.append("unsaved")
        return " · ".join(parts)

    def refresh_row(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def refresh_all_rows(self) -> None:
        """Every row's text may have changed (a class renamed, merged or deleted): ``dataChanged`` over all rows.
        Not ``layoutChanged``: no row moved, and a ``layoutChanged`` without its ``layoutAboutToBeChanged`` leaves
        the filter proxy's persistent indexes (the view's selection) dangling, which crashed the next paint."""
        if self.rowCount():
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1))

    def _thumbnail_ready(self, path: str) -> None:
        row = self._row_of.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.DecorationRole])


class AnnotationFilter(QSortFilterProxyModel):
    """Filter mode + class + name search. The current image always stays listed, so labelling it
    while "Unlabelled" is shown does not yank it from under the user."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.mode, self.class_name, self.search, self.current_row = "all", None, "", -1
        self._split_members: frozenset[str] = frozenset()  # mode "split": the images of split ``class_name``
        # Whether an image has detector proposals waiting for review (set by the detection feature).
        self.has_proposals = lambda ann: False

    def set_criteria(self, mode: str, class_name: str | None, search: str) -> None:
        self.beginFilterChange()
        self.mode, self.class_name, self.search = mode, class_name, search.strip().lower()
        if mode == "split":
            images = self.sourceModel().project.splits.get(class_name, [])
            self._split_members = frozenset(str(p) for p in images)
        self.endFilterChange()

    def accepts_every_row(self) -> bool:
        return self.mode == "all" and not self.search

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        if row == self.current_row:
            return True
        project = self.sourceModel().project
        ann = project.annotations[row]
        if self.search and self.search not in Path(ann.image_path).name.lower():
            return False
        if self.mode == "unlabelled":
            return not ann.boxes
        if self.mode == "labelled":
            return bool(ann.boxes)
        if self.mode == "unverified":
            return not ann.verified
        if self.mode == "problems":
            return Path(ann.image_path) in project.errors
        if self.mode == "proposals":
            return self.has_proposals(ann)
        if self.mode == "class":
            return any(b.label == self.class_name for b in ann.boxes)
        if self.mode == "split":
            return str(ann.image_path) in self._split_members
        return True


class ImageBrowser(QWidget):
    """Emits ``current_changed(row)`` (a row of ``project.annotations``) when the user picks an image."""

    current_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project: Project | None = None
        self.thumbnails = ThumbnailCache(64, self)
        self.filter_box = QComboBox(self)
        self.filter_box.setToolTip("Show only some images")
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Search by name…")
        self.search_edit.setClearButtonEnabled(True)
        self.count_label = QLabel(self)
        self.list_view = QListView(self)
        self.list_view.setUniformItemSizes(True)  # lets a 10,000-row list lay out without asking every row
        self.list_view.setIconSize(QSize(64, 64))
        self.list_view.setSpacing(1)
        self.proxy = AnnotationFilter(self)
        self._visible: list[int] | None = None
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):
            signal.connect(self._forget_visible)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for widget in (self.filter_box, self.search_edit, self.list_view, self.count_label):
            layout.addWidget(widget)
        self.filter_box.currentIndexChanged.connect(self._apply_filter)
        self.search_edit.textChanged.connect(self._apply_filter)

    def set_project(self, project: Project) -> None:
        self.project = project
        self.model = AnnotationListModel(project, self.thumbnails, self)
        self.proxy.current_row = -1
        self.proxy.setSourceModel(self.model)
        self.list_view.setModel(self.proxy)
        self.list_view.selectionModel().currentChanged.connect(self._on_view_current)
        self.refresh_classes()

    def refresh_classes(self) -> None:
        """Rebuild the filter menu (class list changed), keeping the chosen filter where it still exists."""
        chosen = self.filter_box.currentData()
        self.filter_box.blockSignals(True)
        self.filter_box.clear()
        for mode, text in FILTERS:
            self.filter_box.addItem(text, (mode, None))
        for name in self.project.labels.names:
            self.filter_box.addItem(f"Contains “{name}”", ("class", name))
        for name, images in self.project.splits.items():  # none unless the dataset defines splits
            self.filter_box.addItem(f"Split “{name}” ({len(images):,})", ("split", name))
        index = self._filter_index(chosen) if chosen else 0
        self.filter_box.setCurrentIndex(max(index, 0))
        self.filter_box.blockSignals(False)
        self._apply_filter()

    def set_proposal_check(self, has_proposals) -> None:
        """``has_proposals(ann) -> bool`` decides the "Has proposals" filter."""
        self.proxy.has_proposals = has_proposals
        self.refilter()

    def refilter(self) -> None:
        """Filter again after something the filters look at changed outside the list (e.g. new proposals)."""
        self._apply_filter()

    def set_filter(self, mode: str, class_name: str | None = None) -> None:
        self.filter_box.setCurrentIndex(max(self._filter_index((mode, class_name)), 0))

    def _filter_index(self, data) -> int:
        # findData cannot compare Python tuples; look them up ourselves.
        return next((i for i in range(self.filter_box.count()) if self.filter_box.itemData(i) == data), -1)

    def current_row(self) -> int:
        return self.proxy.current_row

    def set_current(self, row: int) -> None:
        """Select ``row`` (of project.annotations); emits ``current_changed`` if it differs."""
        if row == self.proxy.current_row:
            return
        previous = self.proxy.current_row
        self.proxy.current_row = row
        # dataChanged makes the proxy re-filter just these rows: the old current one may now fall
        # out of the filter, the new one is listed even if the filter would hide it.
        for changed in (previous, row):
            if changed >= 0:
                self.model.refresh_row(changed)
        proxy_index = self.proxy.mapFromSource(self.model.index(row))
        self.list_view.selectionModel().setCurrentIndex(proxy_index, QItemSelectionModel.ClearAndSelect)
        self.list_view.scrollTo(proxy_index)
        self._update_counts()
        self.current_changed.emit(row)

    def step(self, delta: int) -> bool:
        """Move to the next (+1) or previous (-1) image the filters show. False at either end."""
        rows = self.visible_rows()
        if not rows:
            return False
        if self.proxy.current_row in rows:
            position = rows.index(self.proxy.current_row) + delta
        else:
            position = 0 if delta > 0 else len(rows) - 1
        if not 0 <= position < len(rows):
            return False
        self.set_current(rows[position])
        return True

    def neighbours(self, ahead: int = 1, behind: int | None = None) -> list[int]:
        """Rows just after and then just before the current one in the filtered list (what D / A would open
        next), nearest first; ``behind`` defaults to ``ahead``."""
        behind = ahead if behind is None else behind
        rows = self.visible_rows()
        if self.proxy.current_row not in rows:
            return rows[:ahead]
        at = rows.index(self.proxy.current_row)
        return rows[at + 1: at + 1 + ahead] + rows[max(at - behind, 0): at][::-1]

    def visible_rows(self) -> list[int]:
        """Rows of project.annotations the filters show, in order (cached until the proxy changes)."""
        if self._visible is None:
            if self.proxy.accepts_every_row():  # the common case; 10,000 mapToSource calls cost ~50 ms
                self._visible = list(range(self.model.rowCount()))
            else:
                self._visible = [self.proxy.mapToSource(self.proxy.index(i, 0)).row()
                                 for i in range(self.proxy.rowCount())]
        return self._visible

    def refresh_row(self, row: int) -> None:
        self.model.refresh_row(row)
        self._update_counts()

    def refresh_all_rows(self) -> None:
        self.model.refresh_all_rows()
        self._update_counts()

    def _forget_visible(self, *_args) -> None:
        self._visible = None

    def _apply_filter(self) -> None:
        if self.project is None:
            return
        mode, class_name = self.filter_box.currentData() or ("all", None)
        self.proxy.set_criteria(mode, class_name, self.search_edit.text())
        self._visible = None
        if self.proxy.current_row >= 0:
            self.list_view.scrollTo(self.proxy.mapFromSource(self.model.index(self.proxy.current_row)))
        self._update_counts()

    def _on_view_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.set_current(self.proxy.mapToSource(current).row())

    def _update_counts(self) -> None:
        annotations = self.project.annotations
        labelled = sum(1 for a in annotations if a.boxes)
        verified = sum(1 for a in annotations if a.verified)
        self.count_label.setText(f"{self.proxy.rowCount():,} of {len(annotations):,} shown · "
                                 f"{labelled:,} labelled · {verified:,} verified")
