"""Entry point of `resyolo-gui` (placeholder window until the labelling issue lands)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication(sys.argv if argv is None else ["resyolo-gui", *argv])
    label = QLabel("ResYOLO")
    label.resize(640, 480)
    label.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
