"""Live view benchmark: frames per second of the live view on a generated video, next to the bare model.

    python bench/live_view.py [--configs resnet18:224 resnet50:448] [--device auto] [--seconds 6] [--repeats 3]

For each backbone:size, ``--repeats`` rounds of: live view (default), bare model, live view (low latency), bare
model, after a first bare model run, so every live run sits between two bare runs (the machine changes speed
within seconds; each live run is compared with the mean of its two neighbours):

- bare model: ``Detector.forward`` on one preprocessed frame in a loop, torch's default threads, on a fresh
  thread (as the app never runs models on its GUI thread), for ``--seconds`` (frames per second);
- live view, default settings (on the CPU: two frames in flight, see ``engine/inference/parallel.py``): frames detected,
  drawn and shown per second by the real ``LiveView`` window (offscreen), fed by a 640x480 video paced at 3x a
  first bare figure, so the source is faster than the model and frames are dropped, as with a camera.
  Includes video decoding, pre-processing, decoding + NMS, drawing, the FPS text, fitting the frame to the view
  and painting it;
- live view with "Low latency" (one frame at a time, all cores).

Printed: medians of the runs, and of each live run's ratio to its neighbouring bare runs (target: >= 90%); the
median latency shown by the view (frame read -> boxes drawn); the GUI event loop's longest stall while the view
runs (the largest gap between ticks of a 5 ms QTimer, minus the 5 ms; target < 50 ms).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine.model.checkpoint import save_checkpoint  # noqa: E402
from engine.model.config import ModelConfig  # noqa: E402
from engine.model.device import device_description  # noqa: E402
from engine.inference.detector import Detector  # noqa: E402
from engine.inference.loading import load_detector
from engine.inference.parallel import cpu_thread_limit  # noqa: E402
from engine.model.weights import build_model  # noqa: E402


def make_video(path: Path, fps: float, seconds: float, size=(640, 480)) -> Path:
    """Moving bright squares on a dark noisy background: cheap to write, realistic to decode."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise SystemExit(f"cannot write {path} at {fps} fps")
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


def bare_fps(detector: Detector, seconds: float) -> float:
    """Measured on a thread of its own that then ends, as the app never runs a model on its GUI thread: OpenMP
    threads left behind on the main thread would slow the live view's own (see engine/inference/parallel.py)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(_bare_fps(detector, seconds)))
    thread.start()
    thread.join()
    return result[0]


def _bare_fps(detector: Detector, seconds: float) -> float:
    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    batch = detector.preprocess([image])
    sync = torch.cuda.synchronize if detector.device.type == "cuda" else (lambda: None)
    for _ in range(3):
        detector.forward(batch)
    sync()
    frames, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        detector.forward(batch)
        sync()
        frames += 1
    return frames / (time.perf_counter() - start)


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


def live_run(app, checkpoint: Path, video: Path, device: str, seconds: float, warmup: float,
             low_latency: bool) -> tuple[float, float, float, int]:
    """One live view run: (frames per second after the warm-up, median latency shown in ms, longest event-loop
    stall in ms, frames dropped)."""
    from PySide6.QtCore import QTimer

    from resyolo_gui.live.live_view import LiveView

    view = LiveView()
    view.checkpoint.set_checkpoint(checkpoint)
    view.source_edit.setText(str(video))
    view.low_latency.setChecked(low_latency)
    view.show()
    with cpu_thread_limit(1):  # loaded here rather than by the view's worker, so the measured rounds start at once
        view._detector = load_detector(checkpoint, device=device)
    view._detector_path = checkpoint
    ticks: list[float] = []
    latencies: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    sampler = QTimer()
    sampler.timeout.connect(lambda: latencies.append(view.last_stats.latency_ms))
    assert view.start(), view.status.text()
    run_event_loop(warmup)
    start_frames, start = view.thread.stats.frames, time.perf_counter()
    timer.start()
    sampler.start(200)
    run_event_loop(seconds, view)
    elapsed = time.perf_counter() - start
    stats = view.thread.take_frame()[1] if view.thread is not None else view.last_stats
    timer.stop()
    sampler.stop()
    view.stop()
    view.close()
    view.deleteLater()
    app.processEvents()
    stall = max((b - a for a, b in zip(ticks, ticks[1:])), default=0.0) * 1000 - 5
    latency = statistics.median(latencies) if latencies else float("nan")
    return (stats.frames - start_frames) / elapsed, latency, max(stall, 0.0), stats.dropped


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
        names = [f"c{i}" for i in range(20)]
        with cpu_thread_limit(1):  # the main thread is the GUI thread: no OpenMP threads of its own
            model, _ = build_model(ModelConfig(num_classes=20, backbone=backbone, image_size=int(size)), "none")
            checkpoint = save_checkpoint(folder / f"{backbone}_{size}.pt", model, names)
            detector = Detector(model, names, device=args.device)
        print(f"{spec}: device {device_description(detector.device)}, torch threads {torch.get_num_threads()}", flush=True)
        first = bare_fps(detector, 2.0)
        # Three times this first figure, so the source stays well faster than the model even when the machine
        # speeds up by half, as it does here (a source only a little faster than what two frames in flight can
        # take would leave a stream waiting for the next frame now and then): frames are dropped as with a fast
        # camera. Whole frame rates: MPEG-4 timebases stop at 1/65535 s.
        source_fps = float(round(min(240.0, first * 3)))
        seconds = max(args.seconds, 20 / first)  # at least ~20 frames measured on a slow model
        warmup = max(args.warmup, 3 / first)
        video = make_video(folder / f"{backbone}_{size}.mp4", source_fps, (seconds + warmup + 2) * 2)
        # The machine switches between speeds within seconds (the bare model alone runs at ~32 or ~47 fps at
        # ResNet-18/224 here), so each live run is compared with the bare runs just before and after it.
        bares, default_runs, single_runs = [bare_fps(detector, seconds)], [], []
        for _ in range(args.repeats):
            default_runs.append(live_run(app, checkpoint, video, args.device, seconds, warmup, low_latency=False))
            bares.append(bare_fps(detector, seconds))
            single_runs.append(live_run(app, checkpoint, video, args.device, seconds, warmup, low_latency=True))
            bares.append(bare_fps(detector, seconds))
            print(f"  bare {bares[-3]:.1f} | default {_run_text(default_runs[-1])} | bare {bares[-2]:.1f} | "
                  f"low latency {_run_text(single_runs[-1])} | bare {bares[-1]:.1f}", flush=True)
        med = statistics.median
        results = []
        for k, runs in enumerate((default_runs, single_runs)):
            around = [(bares[2 * i + k] + bares[2 * i + k + 1]) / 2 for i in range(len(runs))]
            results.append((med(r[0] for r in runs), med(r[0] / b for r, b in zip(runs, around)), med(r[1] for r in runs)))
        stall = med(max(a[2], b[2]) for a, b in zip(default_runs, single_runs))
        rows.append((spec, med(bares), source_fps, *results, stall))
    print("\nMedians. Live view: frames shown per second, its ratio to the bare model (median over the runs of live "
          "fps / the mean of the bare runs just before and after), latency from frame read to boxes drawn.")
    print(f"| {'config':<13} | {'bare fps':>8} | {'source fps':>10} | {'live, default':>22} | {'live, low latency':>22} "
          f"| {'longest stall':>13} |")
    print(f"|{'-' * 15}|{'-' * 10}|{'-' * 12}|{'-' * 24}|{'-' * 24}|{'-' * 15}|")
    for spec, bare, source, default, single, stall in rows:
        print(f"| {spec:<13} | {bare:>8.1f} | {source:>10.1f} | {_cell(default):>22} | {_cell(single):>22} "
              f"| {stall:>10.1f} ms |")


def _run_text(run: tuple[float, float, float, int]) -> str:
    return f"{run[0]:.1f} fps, latency {run[1]:.0f} ms, stall {run[2]:.1f} ms, {run[3]} dropped"


def _cell(result: tuple[float, float, float]) -> str:
    fps, ratio, latency = result
    return f"{fps:.1f} ({ratio:.0%}), {latency:.0f} ms"


if __name__ == "__main__":
    main()
