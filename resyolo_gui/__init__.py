"""ResYOLO desktop application (PySide6). A thin client of :mod:`engine`."""
