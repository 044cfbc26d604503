"""``resyolo eval``: score a COCO-format detections file against ground truth."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.io.atomic import atomic_write_text

EXIT_BAD_INPUT = 2
CONVENTIONS = """conventions (each one moves the number; they are the official tools'):
  voc07, voc   the Pascal VOC devkit's: box sizes x2 - x1 + 1 (pixel-inclusive) and a match at IoU > 0.5
               (the confusion matrix of the app uses the same rule); each detection, by descending score, goes
               to the ground truth of its class it overlaps most, and if that one is taken it is a false
               positive; "difficult" boxes are neither counted nor penalised; voc07 is the 11-point AP
               (recall 0, 0.1, ..., 1), voc the all-point area; score ties follow the detections' order in
               the results file (a stable sort, as the devkit); a class with no ground truth has no AP and is
               left out of the mean.
  coco         pycocotools' (run by faster-coco-eval, same figures): AP over IoU 0.50:0.05:0.95 and 101 recall points, at most 100 detections
               per image; "difficult" boxes become crowd regions; all twelve figures are printed (AP, AP50,
               AP75, AP small/medium/large, AR@1/10/100, AR small/medium/large)."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="compute mAP of a detections file against ground truth",
        description="Score detections (COCO results JSON: [{image_id, category_id, bbox: [x, y, w, h], score}]) "
        "against ground truth: a COCO JSON file, or a folder of images with label files (image id = file "
        "name without extension, category id = index in classes.txt, or in the sorted class names).",
        epilog=CONVENTIONS, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--gt", required=True, type=Path, metavar="GT", help="COCO JSON file or labelled image folder")
    parser.add_argument("--dt", required=True, type=Path, metavar="DETECTIONS.json", help="detections, COCO results format")
    parser.add_argument("--metric", choices=["voc07", "voc", "coco"], default="voc07",
                        help="voc07: VOC2007 11-point AP; voc: all-point AP; coco: AP@[.5:.95] (default: voc07)")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="also write the figures to this JSON file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so `resyolo --help` stays fast (pycocotools, numpy).
    from engine.evaluation import evaluate
    from engine.evaluation.detections_file import DetectionsFileError, read_detections_json
    from engine.evaluation.ground_truth import GroundTruthError, load_ground_truth
    from engine.evaluation.report import format_report

    try:
        gt = load_ground_truth(args.gt)
        detections = read_detections_json(args.dt, gt.image_ids, gt.category_ids)
    except (GroundTruthError, DetectionsFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in gt.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    result = evaluate(gt.annotations, detections, gt.labels, metric=args.metric,
                      image_ids=gt.image_ids, category_ids=gt.category_ids)
    print(format_report(result))
    if args.json is not None:
        try:
            atomic_write_text(args.json, json.dumps(result.to_json(), indent=2) + "\n")
        except OSError as exc:
            print(f"error: cannot write {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    return 0
