"""Live view benchmark: frames per second of the live view on a generated video, next to the bare model.

    python bench/live_view.py [--configs resnet18:224 resnet50:448] [--device auto] [--seconds 6] [--repeats 3]

For each backbone:size it prints medians of

- bare model throughput: ``Detector.forward`` on a preprocessed batch of 1 (frames per second);
- live view: frames detected, drawn and shown per second by the real ``LiveView`` window (offscreen), fed by a
  640x480 video paced at 2x the bare rate, so the source is faster than the model and frames are dropped,
  as with a camera (measured over at least 20 frames). Includes decoding, pre-processing, decoding + NMS, drawing, FPS text and QImage conversion.
  Target: >= 90% of the bare rate;
- the GUI event loop's longest stall: the largest gap between ticks of a 5 ms QTimer while the view runs,
  minus the 5 ms. Target: < 50 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._timing import median_seconds  # noqa: E402
from engine.checkpoint import save_checkpoint  # noqa: E402
from engine.config import ModelConfig  # noqa: E402
from engine.device import device_description  # noqa: E402
from engine.predict import Detector  # noqa: E402
from engine.weights import build_model  # noqa: E402


def make_video(path: Path, fps: float, seconds: float, size=(640, 480)) -> Path:
    """Moving bright squares on a dark noisy background: cheap to write, realistic to decode."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    rng = np.random.default_rng(0)
    background = rng.integers(0, 60, (size[1], size[0], 3), dtype=np.uint8)
    for i in range(int(fps * seconds)):
        frame = background.copy()
        x = (i * 7) % (size[0] - 120)
        cv2.rectangle(frame, (x, 100), (x + 120, 220), (40, 200, 240), cv2.FILLED)
        cv2.circle(frame, (size[0] - x - 60, 340), 50, (230, 80, 60), cv2.FILLED)
        writer.write(frame)
    writer.release()
    return path


def bare_fps(detector: Detector, repeats: int) -> float:
    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    batch = detector.preprocess([image])
    sync = torch.cuda.synchronize if detector.device.type == "cuda" else (lambda: None)
    return 1.0 / median_seconds(lambda: detector.forward(batch), repeats=repeats, warmup=3, sync=sync)


def run_event_loop(seconds: float, view=None) -> None:
    """Qt's own event loop for ``seconds`` (or until the view stops): it sleeps between events, as in the app,
    where a polling loop would take CPU time and the GIL from the model."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    if view is not None:
        watch = QTimer()
        watch.timeout.connect(lambda: None if view.is_running() else loop.quit())
        watch.start(100)
    loop.exec()


def live_run(app, checkpoint: Path, video: Path, device: str, seconds: float, warmup: float) -> tuple[float, float, int]:
    """One live view run: (frames per second after the warm-up, longest event-loop stall in ms, dropped)."""
    from PySide6.QtCore import QTimer

    from resyolo_gui.live.live_view import LiveView

    view = LiveView()
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(video))
    view.show()
    if device != "auto":
        view._detector = Detector.from_checkpoint(checkpoint, device=device)
        view._detector_path = checkpoint
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    assert view.start(), view.status.text()
    run_event_loop(warmup)
    start_frames, start = view.thread.stats.frames, time.perf_counter()
    timer.start()
    run_event_loop(seconds, view)
    elapsed = time.perf_counter() - start
    frames = view.thread.stats.frames - start_frames if view.thread is not None else view.last_stats.frames - start_frames
    timer.stop()
    dropped = view.thread.stats.dropped if view.thread is not None else view.last_stats.dropped
    view.stop()
    view.close()
    view.deleteLater()
    app.processEvents()
    stall = max((b - a for a, b in zip(ticks, ticks[1:])), default=0.0) * 1000 - 5
    return frames / elapsed, max(stall, 0.0), dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["resnet18:224", "resnet50:448"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from resyolo_gui.gc_guard import collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread(app)  # as the app does: workers never destroy Qt objects
    folder = Path(tempfile.mkdtemp(prefix="resyolo-live-bench-"))
    rows = []
    for spec in args.configs:
        backbone, size = spec.split(":")
        model, _ = build_model(ModelConfig(num_classes=20, backbone=backbone, image_size=int(size)), "none")
        names = [f"c{i}" for i in range(20)]
        checkpoint = save_checkpoint(folder / f"{backbone}_{size}.pt", model, names)
        detector = Detector(model, names, device=args.device)
        print(f"{spec}: device {device_description(detector.device)}, torch threads {torch.get_num_threads()}", flush=True)
        bare = statistics.median(bare_fps(detector, 8) for _ in range(args.repeats))
        # Well above the model, even if the bare figure was pessimistic; MPEG-4 files cannot say more than ~65 fps.
        source_fps = min(60.0, bare * 2)
        seconds = max(args.seconds, 20 / bare)  # at least ~20 frames measured on a slow model
        warmup = max(args.warmup, 3 / bare)
        video = make_video(folder / f"{backbone}_{size}.mp4", source_fps, seconds + warmup + 2)
        runs = [live_run(app, checkpoint, video, args.device, seconds, warmup) for _ in range(args.repeats)]
        live = statistics.median(r[0] for r in runs)
        stall = statistics.median(r[1] for r in runs)
        print(f"  bare {bare:.1f} fps; live runs (fps, stall ms, dropped): "
              + "; ".join(f"{f:.1f}, {s:.1f}, {d}" for f, s, d in runs), flush=True)
        rows.append((spec, bare, source_fps, live, live / bare, stall))
    print(f"\n| {'config':<13} | {'bare model fps':>14} | {'source fps':>10} | {'live view fps':>13} | {'live/bare':>9} "
          f"| {'longest stall':>13} |")
    print(f"|{'-' * 15}|{'-' * 16}|{'-' * 12}|{'-' * 15}|{'-' * 11}|{'-' * 15}|")
    for spec, bare, source, live, ratio, stall in rows:
        print(f"| {spec:<13} | {bare:>14.1f} | {source:>10.1f} | {live:>13.1f} | {ratio:>8.0%} | {stall:>10.1f} ms |")


if __name__ == "__main__":
    main()
