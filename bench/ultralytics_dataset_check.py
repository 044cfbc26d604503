"""Ultralytics' own dataset check on every kind of Ultralytics dataset ResYOLO writes.

    python bench/ultralytics_dataset_check.py [--out DIR] [--keep]

1. With this project's own code it writes the datasets: ``resyolo synth`` (yolo, voc, coco, labelme; varied
   sizes) then ``resyolo convert SRC --to ultralytics OUT``; hand-made sources converted the same way (PNG and
   upper-case ``.JPG`` images, images with no boxes, an EXIF-rotated JPEG, same-name images from two folders,
   ``a.jpg`` beside ``a.png``, a COCO release layout, a VOC devkit, a Roboflow export); the app's File > Export
   (:func:`engine.annotations.convert.convert_annotations` with unsaved edits); and in-place saves through
   :class:`engine.project.project.Project` on Ultralytics layouts (a box of a new class appended by the app, an
   image emptied of its boxes).
2. In Ultralytics' own environment (``.bench-venvs/ultralytics``, :mod:`bench._ultralytics_venv`; never this
   project's) it runs ``ultralytics.data.utils.check_det_dataset(data.yaml)``, then builds a ``YOLODataset`` over
   each split of the yaml (its ``get_img_files``, ``img2label_paths`` and ``verify_image_label`` on every image,
   from a fresh scan: no cache is read), from a working directory outside the dataset.
3. Per case it prints: accepted, or refused with Ultralytics' message; per split the images, label files and
   boxes Ultralytics found against what we wrote (read back by our engine), corrupt images/labels and
   Ultralytics' warnings. Every image's size and boxes (pixels) are compared too. A case passes when Ultralytics
   accepts it, reports nothing corrupt, no warning, and finds the same images, label files, class names, sizes and
   boxes (within 0.01 px). Exit status 1 if any case fails.

When the Ultralytics environment cannot be made (offline, no pip), it prints why and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._ultralytics_venv import ultralytics_python  # noqa: E402

# Run by the Ultralytics environment's python: check each case's yaml, then scan every split as training would.
DRIVER = r'''
import contextlib, io, json, logging, os, sys, traceback
from pathlib import Path
from ultralytics.data.dataset import YOLODataset
from ultralytics.data.utils import check_det_dataset, img2label_paths
from ultralytics.utils import DEFAULT_CFG, LOGGER

class Scan(YOLODataset):
    """YOLODataset that keeps the counters and messages of its own scan (cache_labels)."""
    def cache_labels(self, path):
        x = super().cache_labels(path)
        self.scan = {"results": list(x["results"]), "msgs": list(x["msgs"])}
        return x

class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []
    def emit(self, record):
        self.records.append(record.getMessage())

results = []
for case in json.loads(Path(sys.argv[1]).read_text()):
    out = {"name": case["name"], "accepted": False, "error": None, "splits": {}}
    try:
        data = check_det_dataset(case["yaml"], autodownload=False)
    except Exception as error:
        out["error"] = f"{type(error).__name__}: {error}"
        results.append(out)
        continue
    out["accepted"] = True
    out["names"] = [data["names"][i] for i in sorted(data["names"])]
    for split in ("train", "val", "test"):
        if not data.get(split):
            continue
        found = {"error": None, "warnings": []}
        collect = Collect()
        LOGGER.addHandler(collect)
        try:
            probe = img2label_paths([str(Path(data[split]) / "x.jpg")])[0]
            cache = Path(probe).parent.with_suffix(".cache")
            cache.unlink(missing_ok=True)  # a fresh scan: verify_image_label on every image
            with contextlib.redirect_stderr(io.StringIO()):
                dataset = Scan(img_path=data[split], data=data, task="detect", augment=False, hyp=DEFAULT_CFG,
                               imgsz=640, prefix=f"{split}: ")
            nf, nm, ne, nc, total = dataset.scan["results"]
            found.update(images=total, label_files=nf, missing=nm, empty=ne, corrupt=nc, msgs=dataset.scan["msgs"])
            found["per_image"] = {
                os.path.abspath(lb["im_file"]): {
                    "hw": list(lb["shape"]),
                    "boxes": [[int(c), *map(float, b)] for c, b in zip(lb["cls"][:, 0], lb["bboxes"])]}
                for lb in dataset.labels}
            found["label_files_used"] = sorted({os.path.abspath(p) for p in dataset.label_files})
            cache.unlink(missing_ok=True)
        except Exception as error:
            found["error"] = f"{type(error).__name__}: {error}"
        finally:
            LOGGER.removeHandler(collect)
        found["warnings"] = [m for m in collect.records if "font" not in m.lower()]
        out["splits"][split] = found
    results.append(out)
Path(sys.argv[2]).write_text(json.dumps(results))
'''


# ---------------------------------------------------------------------------------------------------- writing
def run_cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"resyolo {' '.join(args)} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def _image(path: Path, size=(64, 48), colour=(10, 80, 160), exif_orientation: int | None = None) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    fmt = "PNG" if path.suffix.lower() == ".png" else "JPEG"
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[274] = exif_orientation
        image.save(path, fmt, exif=exif)
    else:
        image.save(path, fmt)
    return path


def _voc(image: Path, width: int, height: int, boxes: list[tuple], labels=None) -> None:
    """A VOC XML beside ``image`` written by our own writer (``boxes``: label, x1, y1, x2, y2 pixels)."""
    from engine.annotations.folder import save_annotation
    from engine.annotations.records import Box, ImageAnnotation, LabelSet

    save_annotation(ImageAnnotation(image, width, height, [Box(*b) for b in boxes]), labels or LabelSet(), "voc")


def synth(work: Path, fmt: str, images: int = 24) -> Path:
    src = work / f"synth-{fmt}"
    run_cli("synth", str(src), "--images", str(images), "--classes", "4", "--seed", "1", "--format", fmt,
            "--size", "varied")
    return src


def convert_case(work: Path, name: str, src: Path, splits: dict[str, int] | None = None) -> dict:
    """``splits``: the images each split of the output must hold, as the source has them (default: all in train,
    which is also val)."""
    out = work / name
    run_cli("convert", str(src), "--to", "ultralytics", str(out))
    return {"name": name, "yaml": str(out / "data.yaml"), "source": str(src), "splits": splits}


def mixed_source(work: Path) -> Path:
    """PNG and upper-case .JPG images, images with no boxes (one with an empty VOC file, two with none), an
    EXIF-rotated JPEG whose boxes are on the upright picture."""
    src = work / "src-mixed"
    _voc(_image(src / "a.png", (120, 90)), 120, 90, [("cat", 10, 10, 50, 40), ("dog", 60, 20, 119, 89)])
    _voc(_image(src / "B.JPG", (100, 80)), 100, 80, [("dog", 0, 0, 100, 80)])
    _voc(_image(src / "c.JPEG", (90, 70)), 90, 70, [("cat", 5.5, 6.25, 30.75, 40.5)])
    _voc(_image(src / "empty_xml.jpg", (64, 48)), 64, 48, [])
    _image(src / "no_label.jpg", (64, 48))
    _image(src / "no_label2.PNG", (50, 40))
    # Stored 80 x 60 with orientation 6 (rotate 90 degrees): shown, and annotated, as 60 x 80.
    _voc(_image(src / "rotated.jpg", (80, 60), exif_orientation=6), 60, 80, [("cat", 5, 10, 30, 70)])
    return src


def two_folders_source(work: Path) -> Path:
    """images/0001.jpg, images/cam1/0001.jpg and images/cam2/0001.jpg (VOC beside each)."""
    src = work / "src-two-folders"
    _voc(_image(src / "images" / "cam1" / "0001.jpg", (64, 48)), 64, 48, [("cat", 1, 1, 20, 20)])
    _voc(_image(src / "images" / "cam2" / "0001.jpg", (80, 60)), 80, 60,
         [("dog", 2, 2, 30, 30), ("dog", 40, 30, 70, 55)])
    _voc(_image(src / "images" / "0001.jpg", (70, 50)), 70, 50, [("cat", 3, 3, 33, 33)])
    return src


def _coco_file(path: Path, images: list[tuple], names: list[str]) -> None:
    """``images``: (file_name, width, height, [(class index, x, y, w, h)])."""
    entries, annotations = [], []
    for image_id, (file_name, width, height, boxes) in enumerate(images, 1):
        entries.append({"id": image_id, "file_name": file_name, "width": width, "height": height})
        for c, x, y, w, h in boxes:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": c + 1,
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": entries, "annotations": annotations,
                                "categories": [{"id": i + 1, "name": n} for i, n in enumerate(names)]}))


def same_stem_source(work: Path) -> Path:
    """A COCO file naming a.jpg and a.png in one folder: one stem, two images (their label files must not clash)."""
    src = work / "src-same-stem"
    _image(src / "a.jpg", (64, 48))
    _image(src / "a.png", (80, 60))
    _image(src / "b.jpg", (64, 48))
    _coco_file(src / "annotations.json", [("a.jpg", 64, 48, [(0, 1, 1, 10, 10)]),
                                          ("a.png", 80, 60, [(1, 5, 5, 20, 20), (1, 40, 30, 20, 20)]),
                                          ("b.jpg", 64, 48, [(0, 30, 20, 20, 20)])], ["cat", "dog"])
    return src


def coco_release_source(work: Path) -> Path:
    """COCO as released: annotations/instances_{train,val}2017.json, images in train2017/ and val2017/."""
    src = work / "src-coco-release"
    splits = {"train2017": [("000000000009.jpg", 96, 72), ("000000000025.jpg", 80, 64), ("000000000030.png", 64, 64)],
              "val2017": [("000000000139.jpg", 100, 75), ("000000000285.jpg", 72, 96)]}
    for split, files in splits.items():
        images = []
        for k, (name, width, height) in enumerate(files):
            _image(src / split / name, (width, height), (40 * k, 90, 120))
            boxes = [] if k == 1 else [(k % 3, 2 + k, 3, width / 3, height / 2.5),
                                       (2, width / 2, height / 2, width / 2 - 1, height / 2 - 1)]
            images.append((name, width, height, boxes))  # the second of each split: listed with no boxes
        _coco_file(src / "annotations" / f"instances_{split}.json", images, ["person", "bicycle", "car"])
    return src


def voc_devkit_source(work: Path, synth_voc: Path) -> Path:
    """VOCdevkit/VOC2007 and VOC2012 (JPEGImages, Annotations, ImageSets/Main/{train,val,trainval,test}.txt and a
    per-class list), filled from a ``resyolo synth --format voc`` set."""
    src = work / "src-vocdevkit" / "VOCdevkit"
    images = sorted(synth_voc.glob("*.jpg"))
    for year, chosen in (("VOC2007", images[:12]), ("VOC2012", images[12:])):
        folder = src / year
        for sub in ("JPEGImages", "Annotations", "ImageSets/Main"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        ids = []
        for image in chosen:
            stem = f"{year[3:]}_{image.stem}"
            shutil.copy(image, folder / "JPEGImages" / f"{stem}.jpg")
            xml = image.with_suffix(".xml").read_text().replace(image.name, f"{stem}.jpg")
            (folder / "Annotations" / f"{stem}.xml").write_text(xml)
            ids.append(stem)
        main = folder / "ImageSets" / "Main"
        parts = {"train": ids[: len(ids) // 2], "val": ids[len(ids) // 2: -2], "test": ids[-2:]}
        for split, part in parts.items():
            (main / f"{split}.txt").write_text("".join(f"{i}\n" for i in part))
        (main / "trainval.txt").write_text("".join(f"{i}\n" for i in parts["train"] + parts["val"]))
        (main / "circle_train.txt").write_text("".join(f"{i}  1\n" for i in parts["train"]))
    return src


def roboflow_source(work: Path) -> Path:
    """A Roboflow export: train/valid/test each with images/ and labels/, ``../train/images`` paths, nc + a list."""
    src = work / "src-roboflow"
    for split, count in (("train", 4), ("valid", 2), ("test", 1)):
        for k in range(count):
            _image(src / split / "images" / f"{split}_{k}.jpg", (64 + 8 * k, 48))
            (src / split / "labels").mkdir(parents=True, exist_ok=True)
            (src / split / "labels" / f"{split}_{k}.txt").write_text(
                "0 0.5 0.5 0.25 0.25\n" + ("1 0.2 0.3 0.1 0.2\n" if k % 2 else ""))
    (src / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 2\n"
                                   "names: ['helmet', 'head']\n\nroboflow:\n  workspace: demo\n  version: 3\n")
    return src


def in_place(work: Path, name: str, dataset: Path) -> dict:
    """Open an Ultralytics layout as the app does, append a box of a new class, empty an image, add a box to
    another split's image, save in place."""
    from engine.annotations.records import Box
    from engine.project.project import Project

    folder = work / name
    shutil.copytree(dataset, folder)
    project = Project.open(folder / "data.yaml")
    try:
        assert project.format == "ultralytics", project.format
        by_split = {split: [a for a in project.annotations if Path(a.image_path) in set(images)]
                    for split, images in project.splits.items()}
        first, second = by_split["train"][0], by_split["train"][1]
        first.boxes.append(Box("new class", 1, 1, min(first.width, 20), min(first.height, 20)))
        second.boxes.clear()
        project.mark_dirty(first)
        project.mark_dirty(second)
        other = next((anns for split, anns in by_split.items() if split != "train" and anns), None)
        if other is not None:
            other[-1].boxes.append(Box(project.labels.names[0], 2, 2, other[-1].width - 2, other[-1].height - 2))
            project.mark_dirty(other[-1])
        failed = project.save_all()
        if failed:
            raise SystemExit(f"{name}: saving failed: {failed}")
    finally:
        project.close()
    return {"name": name, "yaml": str(folder / "data.yaml"), "source": str(dataset)}


def app_export(work: Path, src: Path) -> dict:
    """File > Export as Ultralytics with unsaved edits: a box of a new class on one image, another emptied."""
    from engine.annotations.convert import convert_annotations
    from engine.annotations.records import Box
    from engine.project.project import Project

    project = Project.open(src, read_only=True)
    first, second = project.annotations[0], project.annotations[1]
    first.boxes.append(Box("added in app", 3, 3, 30, 30))
    project.labels.add("added in app")
    second.boxes.clear()
    out = work / "app-export"
    convert_annotations(project.annotations, project.labels, project.splits, project.folder, "ultralytics", out)
    project.close()
    return {"name": "app-export", "yaml": str(out / "data.yaml"), "source": str(src)}


def build_cases(work: Path) -> list[dict]:
    cases = []
    sources = {fmt: synth(work, fmt) for fmt in ("yolo", "voc", "coco", "labelme")}
    for fmt, src in sources.items():
        cases.append(convert_case(work, f"synth-{fmt}-to-ultralytics", src))
    cases.append(convert_case(work, "mixed-images-to-ultralytics", mixed_source(work)))
    cases.append(convert_case(work, "same-name-two-folders-to-ultralytics", two_folders_source(work)))
    cases.append(convert_case(work, "same-stem-jpg-png-to-ultralytics", same_stem_source(work)))
    cases.append(convert_case(work, "coco-release-to-ultralytics", coco_release_source(work), {"train": 3, "val": 2}))
    cases.append(convert_case(work, "voc-devkit-to-ultralytics", voc_devkit_source(work, sources["voc"]),
                              {"train": 12, "val": 8, "test": 4}))
    roboflow = roboflow_source(work)
    splits_case = convert_case(work, "roboflow-to-ultralytics", roboflow, {"train": 4, "val": 2, "test": 1})
    cases.append(splits_case)
    cases.append(convert_case(work, "ultralytics-to-ultralytics", Path(splits_case["yaml"]).parent,
                              {"train": 4, "val": 2, "test": 1}))
    cases.append(app_export(work, sources["voc"]))
    cases.append(in_place(work, "in-place-converted", Path(cases[0]["yaml"]).parent))
    cases.append(in_place(work, "in-place-converted-splits", Path(splits_case["yaml"]).parent))
    cases.append(in_place(work, "in-place-roboflow", roboflow))
    return cases


# ---------------------------------------------------------------------------------------------------- comparing
def what_we_wrote(case: dict) -> dict:
    """The case's dataset as our engine reads it back: class names, and per split of the yaml its images (size,
    boxes in pixels by class index) and the label files beside them."""
    from engine.annotations.beside import image_size
    from engine.annotations.folder import load_folder
    from engine.annotations.ultralytics import label_path

    loaded = load_folder(Path(case["yaml"]).parent)
    names = list(loaded.labels.names)
    by_image = {os.path.abspath(a.image_path): a for a in loaded.annotations}
    splits = {}
    for split, images in loaded.splits.items():
        per_image = {}
        for image in images:
            ann = by_image[os.path.abspath(image)]
            width, height = (ann.width, ann.height) if ann.width > 0 else image_size(image)  # no label file read
            per_image[os.path.abspath(image)] = {
                "hw": [height, width],
                "boxes": sorted([names.index(b.label), *b.xyxy()] for b in ann.boxes)}
        labels = {os.path.abspath(label_path(Path(p))) for p in per_image}
        splits[split] = {"images": len(per_image), "label_files": sum(os.path.isfile(p) for p in labels),
                         "label_paths": labels, "per_image": per_image,
                         "boxes": sum(len(v["boxes"]) for v in per_image.values())}
    return {"format": loaded.format, "errors": [str(e) for e in loaded.errors], "names": names, "splits": splits,
            "images": len(loaded.annotations), "boxes": sum(len(a.boxes) for a in loaded.annotations)}


def source_totals(case: dict) -> tuple[int, int] | None:
    """Images and boxes of the source of a conversion (None for in-place saves and exports, whose edits change
    them)."""
    if not case["name"].endswith("-to-ultralytics"):
        return None
    from engine.annotations.folder import load_folder

    loaded = load_folder(case["source"])
    return len(loaded.annotations), sum(len(a.boxes) for a in loaded.annotations)


def _pixels(box: list[float], hw: list[int]) -> list[float]:
    c, x, y, w, h = box
    height, width = hw
    return [int(c), (x - w / 2) * width, (y - h / 2) * height, (x + w / 2) * width, (y + h / 2) * height]


def compare(case: dict, ours: dict, theirs: dict) -> tuple[bool, list[str]]:
    lines, ok = [], True
    if ours["errors"] or ours["format"] != "ultralytics":
        ok = False
        lines.append(f"  our reader: format {ours['format']}, {len(ours['errors'])} problem(s) {ours['errors'][:3]}")
    totals = source_totals(case)
    if totals is not None and totals != (ours["images"], ours["boxes"]):
        ok = False
        lines.append(f"  source had {totals[0]} images, {totals[1]} boxes; the output has {ours['images']}, "
                     f"{ours['boxes']}")
    if case.get("splits") is not None or totals is not None:  # a conversion: the source's splits, kept
        expected = case.get("splits") or {"train": totals[0], "val": totals[0]}
        wrote = {split: info["images"] for split, info in ours["splits"].items()}
        separate = case.get("splits") is None or len({tuple(sorted(i["per_image"])) for i in ours["splits"].values()}) \
            == len(ours["splits"])
        if wrote != expected or not separate:
            ok = False
            lines.append(f"  splits written {wrote}{'' if separate else ' (some the same folder)'}; the source's "
                         f"{expected}")
    if not theirs["accepted"]:
        return False, [f"  REFUSED by check_det_dataset: {theirs['error']}"] + lines
    lines.append(f"  accepted by check_det_dataset: {len(theirs['names'])} classes"
                 + ("" if theirs["names"] == ours["names"] else f" (theirs {theirs['names']}, ours {ours['names']})"))
    ok &= theirs["names"] == ours["names"]
    if set(theirs["splits"]) != set(ours["splits"]):
        ok = False
        lines.append(f"  splits: Ultralytics {sorted(theirs['splits'])}, ours {sorted(ours['splits'])}")
    for split in sorted(theirs["splits"], key=("train", "val", "test").index):
        found, wrote = theirs["splits"][split], ours["splits"].get(split)
        if found["error"]:
            ok = False
            lines.append(f"  {split}: YOLODataset REFUSED: {found['error']}")
            continue
        if wrote is None:
            continue
        boxes = sum(len(v["boxes"]) for v in found["per_image"].values())
        same = (found["images"] == wrote["images"] and found["label_files"] == wrote["label_files"]
                and boxes == wrote["boxes"] and found["corrupt"] == 0 and not found["msgs"] and not found["warnings"])
        mismatched = []
        for path, mine in wrote["per_image"].items():
            seen = found["per_image"].get(path)
            if seen is None:
                mismatched.append(f"{Path(path).name}: not loaded by Ultralytics")
                continue
            if seen["hw"] != mine["hw"]:
                mismatched.append(f"{Path(path).name}: size (h, w) {seen['hw']} there, {mine['hw']} here")
                continue
            got = sorted(_pixels(b, seen["hw"]) for b in seen["boxes"])
            if len(got) != len(mine["boxes"]) or any(
                    a[0] != b[0] or max(abs(p - q) for p, q in zip(a[1:], b[1:])) > 0.01
                    for a, b in zip(got, mine["boxes"])):
                mismatched.append(f"{Path(path).name}: boxes {[[round(v, 2) for v in b] for b in got]} there, "
                                  f"{[[round(v, 2) for v in b] for b in mine['boxes']]} here")
        mismatched += [f"{Path(p).name}: loaded by Ultralytics, not in our split" for p in found["per_image"]
                       if p not in wrote["per_image"]]
        if set(found["label_files_used"]) != wrote["label_paths"]:
            differ = sorted(set(found["label_files_used"]) ^ wrote["label_paths"])
            mismatched.append(f"label paths differ: {differ[:4]}")
        same &= not mismatched
        ok &= same
        lines.append(f"  {split:5s} {'ok  ' if same else 'FAIL'} images {found['images']}/{wrote['images']}, "
                     f"label files {found['label_files']}/{wrote['label_files']} (empty {found['empty']}, "
                     f"missing {found['missing']}), boxes {boxes}/{wrote['boxes']}, corrupt {found['corrupt']}"
                     "   (Ultralytics/ours)")
        lines += [f"        Ultralytics: {m}" for m in found["msgs"] + found["warnings"]]
        lines += [f"        {m}" for m in mismatched[:6]]
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where the datasets are written (default: a temp "
                        "folder, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args(argv)
    python, why = ultralytics_python()
    if python is None:
        print(f"SKIPPED: no Ultralytics environment ({why}); nothing was checked.")
        return 0
    version = subprocess.run([str(python), "-c", "import ultralytics; print(ultralytics.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    work = args.out or Path(tempfile.mkdtemp(prefix="resyolo-ultralytics-check-"))
    if args.out is not None and work.exists() and any(work.iterdir()):
        raise SystemExit(f"{work} is not empty")
    work.mkdir(parents=True, exist_ok=True)
    try:
        cases = build_cases(work / "datasets")
        ours = {case["name"]: what_we_wrote(case) for case in cases}
        (work / "cases.json").write_text(json.dumps(cases))
        scratch = work / "cwd"  # Ultralytics runs from outside every dataset
        scratch.mkdir()
        env = dict(os.environ, YOLO_OFFLINE="1", YOLO_VERBOSE="False")
        env["YOLO_CONFIG_DIR"] = str(work / "ultralytics-config")  # its settings.json out of the user's home
        done = subprocess.run([str(python), "-c", DRIVER, str(work / "cases.json"), str(work / "results.json")],
                              cwd=scratch, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"the Ultralytics driver failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")
            return 1
        results = {r["name"]: r for r in json.loads((work / "results.json").read_text())}
        print(f"Ultralytics {version} ({python}): check_det_dataset + YOLODataset / verify_image_label per split")
        failed = []
        for case in cases:
            ok, lines = compare(case, ours[case["name"]], results[case["name"]])
            print(f"{'PASS' if ok else 'FAIL'} {case['name']}")
            print("\n".join(lines))
            if not ok:
                failed.append(case["name"])
        print(f"{len(cases) - len(failed)} of {len(cases)} cases pass"
              + (f"; failing: {', '.join(failed)}" if failed else ""))
        return 1 if failed else 0
    finally:
        if args.out is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f"datasets kept in {work}")


if __name__ == "__main__":
    sys.exit(main())
