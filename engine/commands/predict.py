"""``resyolo predict SOURCE --weights CKPT``: detect objects in images, a folder, a glob, a video or a camera.

CKPT is a checkpoint (``.pt``) or an exported ONNX model (``.onnx``, run by onnxruntime).

Writes into ``--out``: ``predictions.json`` (COCO results, see :mod:`engine.inference.outputs`),
``predictions.csv``, and annotated pictures (``<image stem>.jpg``, or ``<video stem>_annotated.mp4`` for a
video or camera). Files of an earlier run in the same folder are replaced; source images never are (a ``--out``
that would write over one is refused). ``--save-labels`` also writes label files for auto-labelling.

Ctrl+C stops cleanly: what was done so far is kept (images, the video up to that frame, label files) and
``predictions.json`` lists it; the exit code is then 130. Otherwise 0 when at least one image or frame was
processed, 1 when none could be, 2 for a usage error (bad option, missing weights, missing SOURCE).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from engine.annotations.formats import format_names
from engine.commands.argtypes import fraction, positive_int, usage_error

EXIT_OK, EXIT_NOTHING_DONE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="detect objects in images, a folder, a video or a camera",
        description="Detect objects with a trained checkpoint. SOURCE: an image, a folder of images, a glob "
        "pattern (quote it: 'photos/*.jpg'), a video file, or a camera index (0 = first camera).")
    parser.add_argument("source", metavar="SOURCE", help="image, folder, glob pattern, video file or camera index")
    parser.add_argument("--weights", required=True, type=Path, metavar="CKPT",
                        help="ResYOLO checkpoint (.pt) or a model exported by `resyolo export` (.onnx)")
    parser.add_argument("--conf", type=fraction, default=0.25, help="minimum score of a detection (default 0.25)")
    parser.add_argument("--iou", type=fraction, default=0.5,
                        help="overlap above which non-maximum suppression drops the weaker box (default 0.5)")
    parser.add_argument("--device", default="auto", help="auto (GPU when there is one), cpu or cuda (default auto)")
    parser.add_argument("--batch", type=positive_int, default=8, metavar="N", help="images per forward pass (default 8)")
    parser.add_argument("--out", type=Path, default=Path("runs/predict"), metavar="DIR",
                        help="output folder, created if missing (default runs/predict)")
    parser.add_argument("--save-labels", choices=format_names(per_image_writable=True),
                        help="auto-labelling: also write the detections as label files, by default beside each "
                             "image (YOLO: plus classes.txt); images with no detections get none")
    parser.add_argument("--labels-dir", type=Path, metavar="DIR", help="write the label files here instead")
    parser.add_argument("--gt", type=Path, metavar="COCO_JSON",
                        help="COCO ground truth whose image and category ids predictions.json uses (default: the "
                             "COCO file of a SOURCE folder that has one; else file stems and 0-based class ids)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing label files (and add missing classes to an existing classes.txt)")
    parser.add_argument("--no-images", action="store_true", help="do not write annotated images or video")
    parser.add_argument("--max-frames", type=positive_int, metavar="N", help="video or camera: stop after N frames")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("--show-progress", dest="quiet", action="store_false",
                           help="show a progress bar and a summary (default)")
    verbosity.add_argument("--quiet", dest="quiet", action="store_true",
                           help="no progress bar or summary; warnings and errors are still printed")
    parser.set_defaults(func=run, quiet=False)


def run(args: argparse.Namespace) -> int:
    # Imported here so `resyolo --help` stays fast.
    from engine.model.checkpoint import CheckpointError
    from engine.inference.loading import load_detector
    from engine.inference.sources import SourceError, open_source

    if args.labels_dir is not None and args.save_labels is None:
        return usage_error("--labels-dir needs --save-labels voc or yolo")
    try:
        detector = load_detector(args.weights, args.device, conf_threshold=args.conf,
                                      iou_threshold=args.iou)
    except CheckpointError as exc:
        return usage_error(str(exc))
    except RuntimeError as exc:  # e.g. --device cuda without a GPU
        return usage_error(str(exc))
    try:
        source = open_source(args.source, args.max_frames)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if exc.usage else EXIT_NOTHING_DONE
    try:
        return _predict(args, detector, source)
    finally:
        source.close()


def _coco_ids(args, source, class_names):
    """The ids of the ground truth predictions.json will be scored against (--gt, else SOURCE's COCO file)."""
    from engine.inference.outputs import CocoIds

    gt = getattr(args, "gt", None)
    root = getattr(source, "root", None)
    if gt is None and root is not None and source.kind == "images":
        from engine.annotations.coco import find_coco_json

        gt = find_coco_json(root)
    return CocoIds.from_file(gt, class_names) if gt is not None else None


def _predict(args, detector, source) -> int:
    from tqdm import tqdm

    from engine.annotations.records import AnnotationError
    from engine.inference.outputs import LabelConflict, LabelFileWriter, write_coco_results, write_csv
    from engine.inference.prediction_outputs import PredictionOutputs, class_order_warning

    labels = None
    if args.save_labels is not None:
        if source.kind != "images":
            return usage_error(f"--save-labels writes a label file per image file; {args.source} is a {source.kind}")
        labels = LabelFileWriter(args.save_labels, detector.class_names, args.labels_dir,
                                 getattr(source, "root", None), args.overwrite)
        try:
            labels.prepare(source.paths)
        except (LabelConflict, AnnotationError) as exc:
            return usage_error(str(exc))
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot create {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_NOTHING_DONE
    outputs = PredictionOutputs(args.out, detector, source, write_pictures=not args.no_images, labels=labels)
    if source.kind == "images":
        clash = outputs.clash_with_sources()
        if clash is not None:
            return usage_error(f"--out {args.out} would write over the source image {clash}; choose another folder")
        warning = class_order_warning(getattr(source, "root", None), detector.class_names)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)

    unit = "image" if source.kind == "images" else "frame"
    progress = tqdm(total=len(source) or None, unit=unit, disable=args.quiet, file=sys.stderr, dynamic_ncols=True)
    started, interrupted, failed = time.perf_counter(), False, None
    try:
        batch = []
        for item in source:
            if item.error is not None:
                outputs.unreadable.append(item.path)
                tqdm.write(f"warning: skipped {item.error}", file=sys.stderr)
                progress.update(1)
                continue
            batch.append(item)
            if len(batch) == args.batch:
                outputs.add_batch(batch, detector.detect([i.image for i in batch]), progress.update)
                batch = []
        outputs.add_batch(batch, detector.detect([i.image for i in batch]), progress.update)
    except KeyboardInterrupt:
        interrupted = True
    except OSError as exc:  # disk full, folder removed, ...: stop, but keep the record of what was done
        failed = exc
    finally:
        progress.close()
        outputs.close()
    try:
        coco_ids = _coco_ids(args, source, detector.class_names)
    except (AnnotationError, ValueError) as exc:
        print(f"warning: predictions.json uses file stems and 0-based class ids: {exc}", file=sys.stderr)
        coco_ids = None
    try:
        results_path = write_coco_results(args.out / "predictions.json", outputs.results, coco_ids)
        write_csv(args.out / "predictions.csv", outputs.results, detector.class_names)
    except OSError as exc:
        print(f"error: cannot write the results into {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INTERRUPTED if interrupted else EXIT_NOTHING_DONE
    if failed is not None:
        print(f"error: {failed}", file=sys.stderr)
    if interrupted:
        print(f"\nInterrupted: {len(outputs.results)} {unit}(s) done, listed in {results_path}", file=sys.stderr)
    if not args.quiet:
        print(outputs.summary(unit, time.perf_counter() - started, results_path, args.save_labels))
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if outputs.results and failed is None else EXIT_NOTHING_DONE
