"""Browsing speed of the labelling window on a 10,000-image folder.

Generates (once, cached in the temp folder) 10,000 JPEGs: 30 of 4000x3000 (named first, so they are
the ones D walks through) and 9,970 small ones for the count. Prints the time from "open this folder"
to the first image on screen (a quick reduced decode, sharp at the window's size; the time until the
full-resolution image replaces it is printed too), the median next-image time (D pressed -> the
4000x3000 image handed to the canvas, at a labelling pace of one image per 0.4 s, so prefetch has had
its chance), and peak RSS. Targets: 1 s, 50 ms, 600 MB.

    ./dev bench gui_browse            (offscreen; add --regenerate to rebuild the folder)
"""
from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench._timing
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RESYOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="resyolo-bench-config-"))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

TOTAL, BIG = 10_000, 30
BIG_SIZE = (4000, 3000)
FOLDER = Path(tempfile.gettempdir()) / "resyolo-bench-gui-browse"


def generate(folder: Path) -> None:
    done = folder / ".complete"
    if done.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    width, height = BIG_SIZE
    gradient = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    for i in range(BIG):
        noise = rng.integers(0, 40, (height // 8, width // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
        pixels = np.clip(gradient * np.array([1.0, 0.6, 0.3]) * (0.5 + i / BIG / 2) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"a_photo_{i:03d}.jpg", quality=90)
    for i in range(TOTAL - BIG):
        Image.fromarray(np.full((24, 32, 3), i % 256, np.uint8)).save(folder / f"small_{i:05d}.jpg")
    done.touch()


def main() -> int:
    if "--regenerate" in sys.argv:
        import shutil
        shutil.rmtree(FOLDER, ignore_errors=True)
    print(f"folder: {FOLDER} (generating if needed)…", flush=True)
    generate(FOLDER)

    from PySide6.QtWidgets import QApplication

    from bench import _timing
    from engine.project.project import Project
    from resyolo_gui.main_window import MainWindow
    from resyolo_gui.settings import AppSettings

    app = QApplication(["bench"])
    from resyolo_gui.gc_guard import collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread(app)  # as the app does: workers never destroy Qt objects
    shown: list[tuple[float, str]] = []

    def run_until(condition, max_s: float = 30.0) -> None:
        _timing.run_until(condition, max_s)

    started = time.perf_counter()
    window = MainWindow(None, AppSettings())
    original = window.canvas.set_image

    def spy(rgb, ann, project, message=None, **kwargs):
        original(rgb, ann, project, message, **kwargs)
        if rgb is not None:
            shown.append((time.perf_counter(), Path(ann.image_path).name))

    window.canvas.set_image = spy
    full_resolution: list[float] = []
    original_replace = window.canvas.replace_image
    window.canvas.replace_image = lambda image: (original_replace(image), full_resolution.append(time.perf_counter()))
    window.resize(1280, 800)
    window.show()
    window.set_project(Project.open(FOLDER))
    run_until(lambda: bool(shown))
    first_image_s = shown[0][0] - started
    run_until(lambda: window.canvas.shown_size() == BIG_SIZE)  # the full-resolution image, before stepping on
    assert len(window.project.annotations) == TOTAL, len(window.project.annotations)

    next_times = []
    for _ in range(BIG - 1):
        pause_until = time.perf_counter() + 0.4  # a person looking at the image; prefetch works meanwhile
        run_until(lambda: time.perf_counter() >= pause_until)
        before = len(shown)
        pressed = time.perf_counter()
        window.step(1)
        run_until(lambda: len(shown) > before)
        next_times.append(shown[-1][0] - pressed)
    assert shown[-1][1] == f"a_photo_{BIG - 1:03d}.jpg", shown[-1]

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    full_note = f"; full resolution at {(full_resolution[0] - started) * 1000:.0f} ms" \
        if full_resolution and full_resolution[0] > shown[0][0] else ""
    print(f"time to first image shown: {first_image_s * 1000:.0f} ms   (target 1000 ms{full_note})")
    print(f"median next-image time (4000x3000 JPEG): {statistics.median(next_times) * 1000:.1f} ms   "
          f"(max {max(next_times) * 1000:.0f} ms; target 50 ms)")
    print(f"peak memory (RSS): {peak_mb:.0f} MB   (target 600 MB)")
    window.loader.wait_for_done()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
