"""The training batch: a torch Dataset over annotation records, its collate function and data loader.

Items are ``(image float 3xSxS in [0, 1], {"boxes": float Tensor[K, 4] xyxy pixels of the resized image,
"labels": int64 Tensor[K]})`` with S = ``image_size``; images are resized to S x S without keeping the aspect
ratio (the recipe's choice). Difficult boxes are left out of the targets.

Unreadable images are reported and skipped, in two places:

- at construction (``check_files=True``, the default) every image's header is read with
  :func:`engine.io.images.read_image_size` (no pixel decoding, well under a millisecond per JPEG): missing,
  empty, non-image, too-large files are left out of the dataset, logged as warnings and listed in
  ``dataset.skipped``;
- damage only decoding can find (a truncated JPEG) is met in ``__getitem__``: the image is logged and listed in
  ``skipped`` of the process that met it (a worker's list is its own; the warning still reaches stderr). In
  training another image, drawn at random, is returned in its place, so an epoch never stops for one bad file;
  in evaluation a black image with no boxes is, so that item ``i`` still stands for ``annotations[i]``.
"""
from __future__ import annotations

import signal

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors

from engine.annotations.records import ImageAnnotation, LabelSet
from engine.data.augment import AugmentConfig, build_eval_transform, build_train_transform, resize_image, working_side
from engine.data.augment_modern import ModernAugmentConfig, augment_sample
from engine.data.split import DatasetError
from engine.io.images import ImageReadError, read_image_reduced, read_image_size

__all__ = [
    "DetectionDataset", "SkippedImage", "UnknownClassError",
    "collate_detection", "image_to_model_input", "make_dataloader", "model_input_batch", "resized_pixels",
]

log = logging.getLogger(__name__)


class UnknownClassError(DatasetError):
    """Boxes whose class is not in the dataset's LabelSet."""


@dataclass(frozen=True)
class SkippedImage:
    path: Path
    reason: str


class DetectionDataset(Dataset):
    """Images and their non-difficult boxes, augmented when ``train`` (``augment`` defaults to the recipe's
    :class:`AugmentConfig`; a :class:`ModernAugmentConfig` gives mosaic, affine, HSV and flip, see
    :mod:`engine.data.augment_modern`), only resized otherwise.

    ``mosaic_enabled`` turns the mosaic off (the trainer does so for the last epochs). It lives in shared memory,
    so the loader's persistent worker processes, which hold their own copy of the dataset, see the change from
    their next batch on: no new loader (and no new workers, seconds each to spawn) is needed."""

    def __init__(self, annotations: list[ImageAnnotation], labels: LabelSet, image_size: int, train: bool,
                 augment: AugmentConfig | ModernAugmentConfig | None = None, check_files: bool = True):
        if image_size <= 0:
            raise ValueError(f"image_size must be positive, got {image_size}")
        self.labels = LabelSet(list(labels.names))
        self.image_size = image_size
        self.train = train
        self.augment = (augment or AugmentConfig()) if train else None
        self.skipped: list[SkippedImage] = []
        _check_classes(annotations, self.labels)
        self.annotations = [a for a in annotations if self._is_readable(a)] if check_files else list(annotations)
        self._targets = [_training_targets(a, self.labels) for a in self.annotations]
        self._unreadable: set[int] = set()
        self._mosaic_flag = torch.ones((), dtype=torch.bool).share_memory_()
        self.modern = isinstance(self.augment, ModernAugmentConfig)
        if self.modern:
            self.transform = build_eval_transform(image_size)
        else:
            self.transform = build_train_transform(self.augment, image_size) if train else build_eval_transform(image_size)

    @property
    def mosaic_enabled(self) -> bool:
        return bool(self._mosaic_flag)

    @mosaic_enabled.setter
    def mosaic_enabled(self, enabled: bool) -> None:
        self._mosaic_flag.fill_(bool(enabled))

    @property
    def uses_mosaic(self) -> bool:
        return self.modern and self.augment.mosaic > 0

    def __len__(self) -> int:
        return len(self.annotations)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        while True:
            try:
                return self._load(index)
            except ImageReadError as error:
                self._skip(index, error)
                if not self.train:
                    return self._blank_item()
                index = self._random_readable_index()

    def _load(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.modern:
            return self._load_modern(index)
        side = working_side(self.augment, self.image_size)
        pixels, (full_width, full_height) = read_image_reduced(self.annotations[index].image_path, side, side)
        boxes, labels = self._targets[index]
        if pixels.shape[:2] != (full_height, full_width):  # decoded at a reduced JPEG scale
            height, width = pixels.shape[:2]
            boxes = boxes * np.array([width / full_width, height / full_height] * 2, dtype=np.float32)
        sample = self.transform({
            "image": tv_tensors.Image(torch.from_numpy(pixels).permute(2, 0, 1)),
            "boxes": tv_tensors.BoundingBoxes(torch.from_numpy(boxes.copy()), format="XYXY",
                                              canvas_size=pixels.shape[:2]),
            "labels": torch.from_numpy(labels.copy()),
        })
        image = _to_model_input(sample["image"].as_subclass(torch.Tensor))
        target = {"boxes": sample["boxes"].as_subclass(torch.Tensor).to(torch.float32), "labels": sample["labels"]}
        return image, target

    def _resized(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Item ``index`` as ``(S x S x 3 uint8, boxes in those pixels, labels)``: the evaluation resize."""
        side = self.image_size
        pixels, (full_width, full_height) = read_image_reduced(self.annotations[index].image_path, side, side)
        boxes, labels = self._targets[index]
        boxes = boxes * np.array([side / full_width, side / full_height] * 2, dtype=np.float32)
        return resize_image(pixels, side, side), boxes, labels.copy()

    def _resized_or_blank(self, index: int):
        try:
            return self._resized(index)
        except ImageReadError as error:  # a mosaic partner: grey, no boxes (the item itself is still good)
            self._record_skip(error)
            side = self.image_size
            return np.full((side, side, 3), 114, np.uint8), np.zeros((0, 4), np.float32), np.zeros(0, np.int64)

    def _load_modern(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        first = self._resized(index)  # an unreadable item raises here, as in the recipe path

        def load(i):
            return first if i == index else self._resized_or_blank(i)

        pixels, boxes, labels = augment_sample(load, index, len(self.annotations), self.image_size, self.augment,
                                               self.mosaic_enabled)
        image = _to_model_input(torch.from_numpy(pixels).permute(2, 0, 1))
        return image, {"boxes": torch.from_numpy(boxes), "labels": torch.from_numpy(np.asarray(labels, np.int64))}

    def _blank_item(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image = torch.zeros((3, self.image_size, self.image_size), dtype=torch.float32)
        return image, {"boxes": torch.zeros((0, 4), dtype=torch.float32), "labels": torch.zeros(0, dtype=torch.int64)}

    def _is_readable(self, annotation: ImageAnnotation) -> bool:
        try:
            width, height = read_image_size(annotation.image_path)
        except ImageReadError as error:
            self._record_skip(error)
            return False
        if annotation.width and annotation.height and (annotation.width, annotation.height) != (width, height):
            # Often an annotation made by a tool that ignored EXIF rotation: the boxes may sit on other pixels.
            log.warning("%s: the annotation says %d x %d but the image (EXIF orientation applied) is %d x %d; "
                        "its boxes are used as they are", annotation.image_path, annotation.width,
                        annotation.height, width, height)
        return True

    def _skip(self, index: int, error: ImageReadError) -> None:
        self._unreadable.add(index)
        self._record_skip(error)
        if len(self._unreadable) == len(self.annotations):
            raise DatasetError(f"none of the {len(self.annotations)} images of the dataset can be read; "
                               f"the last: {error}") from error

    def _record_skip(self, error: ImageReadError) -> None:
        log.warning("skipping unreadable image %s", error)
        self.skipped.append(SkippedImage(error.path, error.reason))

    def _random_readable_index(self) -> int:
        # torch's generator: seeded per worker by the DataLoader, so the stand-in is reproducible.
        readable = [i for i in range(len(self.annotations)) if i not in self._unreadable]
        return readable[int(torch.randint(len(readable), ()).item())]


def collate_detection(batch: list[tuple[torch.Tensor, dict]]) -> tuple[torch.Tensor, list[dict]]:
    """Stack the images (N x 3 x S x S); keep the targets as a list, one dict per image (K varies)."""
    images = torch.stack([image for image, _ in batch])
    return images, [target for _, target in batch]


def make_dataloader(dataset: Dataset, batch_size: int, shuffle: bool, workers: int = 0, seed: int = 0,
                    drop_last: bool = False, pin_memory: bool = False, sampler=None) -> DataLoader:
    """A DataLoader safe to start from a thread of a Qt process: worker processes are spawned, never forked
    (a forked child inherits Qt's and torch's threads in an unknown state), and kept between epochs since a
    spawned worker costs seconds to start. The seed fixes the shuffle order and the workers' random streams;
    with ``workers=0`` augmentation draws from torch's global generator (seed it with ``torch.manual_seed``)."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    process_options = {}
    if workers > 0:
        process_options = {"multiprocessing_context": "spawn", "persistent_workers": True,
                           "worker_init_fn": _init_worker}
    if sampler is not None:  # e.g. DistributedSampler: it does the shuffling
        shuffle, generator = False, None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, sampler=sampler, num_workers=workers,
                      collate_fn=collate_detection, generator=generator, drop_last=drop_last,
                      pin_memory=pin_memory, **process_options)


def resized_pixels(images: list[np.ndarray], image_size: int) -> np.ndarray:
    """``H x W x 3`` uint8 RGB arrays (from :func:`engine.io.images.read_image`) -> one ``N x S x S x 3`` uint8 array,
    each resized exactly as the evaluation dataset does, so detection sees what validation saw."""
    return np.stack([resize_image(image, image_size, image_size) for image in images])


def model_input_batch(images: list[np.ndarray], image_size: int) -> torch.Tensor:
    """The model's ``N x 3 x S x S`` float input for these images, laid out channels-last: a view of the
    ``N x S x S x 3`` values, which is the layout the CPU model runs in, so no copy re-lays it out."""
    return torch.from_numpy(np.divide(resized_pixels(images, image_size), 255, dtype=np.float32)).permute(0, 3, 1, 2)


def image_to_model_input(image: np.ndarray, image_size: int) -> torch.Tensor:
    """One image as the model's contiguous ``3 x S x S`` float input (see :func:`model_input_batch`)."""
    return model_input_batch([image], image_size)[0].contiguous()


def _to_model_input(image: torch.Tensor) -> torch.Tensor:
    # NumPy, one thread: torch's threaded kernels on one small image lose more to thread hand-offs than they
    # gain (badly so on a busy machine). Planes are laid out while still uint8, a quarter of the bytes of float.
    planes = np.ascontiguousarray(image.numpy())
    return torch.from_numpy(np.divide(planes, 255, dtype=np.float32))


def _init_worker(worker_id: int) -> None:
    # One thread per worker: the workers are the parallelism; OpenCV's own pool would oversubscribe the cores.
    cv2.setNumThreads(1)
    np.random.seed(torch.initial_seed() % 2**32)
    # Ctrl+C in a terminal reaches the whole process group: the main process handles it (stop after the
    # batch, keep a checkpoint); a worker dying of it would break the batch being waited for.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _check_classes(annotations: list[ImageAnnotation], labels: LabelSet) -> None:
    unknown = [(a.image_path, box.label) for a in annotations for box in a.boxes if box.label not in labels]
    if not unknown:
        return
    shown = "; ".join(f"{path}: {name!r}" for path, name in unknown[:5])
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    names = sorted({name for _, name in unknown})
    raise UnknownClassError(f"{len(unknown)} box(es) use classes not in the class list "
                            f"({', '.join(labels.names) or 'empty'}): {shown}{more}. "
                            f"Add {', '.join(map(repr, names))} to the classes or relabel those boxes.")


def _training_targets(annotation: ImageAnnotation, labels: LabelSet) -> tuple[np.ndarray, np.ndarray]:
    kept = [box for box in annotation.boxes if not box.difficult]
    boxes = np.array([box.xyxy() for box in kept], dtype=np.float32).reshape(-1, 4)
    class_ids = np.array([labels.index(box.label) for box in kept], dtype=np.int64)
    return boxes, class_ids
