"""The PySide6 None/True/False refcount guard is applied by ``import resyolo_gui``, before any widget exists."""
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
import resyolo_gui
assert "resyolo_gui.canvas" not in sys.modules and "PySide6.QtWidgets" not in sys.modules
from resyolo_gui.refcount_guard import pyside_leaks_none_references
needed = sys.version_info < (3, 12) and pyside_leaks_none_references()
guarded = sys.getrefcount(None) > 1 << 39
print(needed, guarded)
"""


def test_importing_the_package_guards_the_singletons_when_this_pyside_needs_it():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[2], env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    needed, guarded = result.stdout.split()
    assert guarded == needed, f"guard applied: {guarded}, needed by this PySide6 build: {needed}"
