"""Box-aware training augmentation (torchvision.transforms.v2) and the resize to the model's input.

A sample is a dict ``{"image": tv_tensors.Image uint8 3xHxW, "boxes": tv_tensors.BoundingBoxes XYXY,
"labels": Tensor[K]}``. Every geometric step moves pixels and boxes together through v2's kernels, so the
boxes stay on the pixels they cover. Boxes that a step pushes out are first made degenerate (all zeros) and
then removed, with their labels, by ``SanitizeBoundingBoxes`` - the same idiom as ``v2.RandomIoUCrop``.

The recipe's augmentations, each applied with probability 0.5 by default: horizontal flip; width-only rescale
by U(0.8, 1.2); shift by up to 20% of width and height (the uncovered border is filled with the mean colour;
boxes whose centre leaves the image are dropped); random crop to U(0.6, 1.0) of each side (boxes whose centre
stays are kept and clamped). Then colour jitter (brightness, contrast, saturation, hue; modest), applied at
the final size where it is cheapest. Pixels are resized and colour-jittered with OpenCV on uint8 (several
times faster than v2's tensor kernels on one CPU thread, which is what a data-loader worker has); boxes
always go through v2's own kernels.
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from engine.data.augment_config import AugmentConfig  # noqa: F401  (torch-free settings, for TrainConfig)

MEAN_RGB = (123, 117, 104)  # fills borders uncovered by a shift: normalises to about zero


def working_side(config: AugmentConfig | None, image_size: int) -> int:
    """The largest side worth decoding and augmenting at: the smallest crop still reaches image_size pixels.
    (A 12-megapixel photo would otherwise be flipped, scaled and cropped at full size, only to end at 448.)"""
    return image_size if config is None else math.ceil(image_size / config.crop_range[0])


def build_train_transform(config: AugmentConfig, image_size: int) -> v2.Compose:
    return v2.Compose([
        ResizeWithOpenCV(max_side=working_side(config, image_size)),
        v2.RandomHorizontalFlip(p=config.flip_p),
        v2.RandomApply([RandomWidthScale(config.width_scale_range)], p=config.width_scale_p),
        v2.RandomApply([RandomShift(config.shift_fraction)], p=config.shift_p),
        v2.RandomApply([RandomCropKeepingCentres(config.crop_range)], p=config.crop_p),
        ResizeWithOpenCV(size=(image_size, image_size)),
        v2.RandomApply([RandomColourJitter(config.brightness, config.contrast, config.saturation, config.hue)],
                       p=config.colour_p),
        v2.ClampBoundingBoxes(),
        v2.SanitizeBoundingBoxes(min_size=1.0, min_area=1.0),
    ])


def build_eval_transform(image_size: int) -> v2.Compose:
    return v2.Compose([
        ResizeWithOpenCV(size=(image_size, image_size)),
        v2.ClampBoundingBoxes(),
        v2.SanitizeBoundingBoxes(min_size=1.0, min_area=1.0),
    ])


def resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an ``H x W x C`` uint8 array: area averaging when a side shrinks more than twofold (bilinear would
    alias), bilinear otherwise (area averaging at mild ratios costs three times as much for no visible gain).

    OpenCV's area averaging is fast only at whole-number ratios (640 x 480 -> 224 x 224: 1.8 ms at ratios 2.9 x
    2.1, 0.1 ms at 2 x 2). So a strong shrink first averages ``k x k`` blocks (per side, the largest ``k`` that
    divides that side and leaves less than a twofold shrink), then finishes bilinearly: 0.15 ms here, and it
    cancels one-pixel stripes better than the direct area resize. A side no such ``k`` divides (a prime width)
    takes the direct area resize."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    if 2 * width >= image.shape[1] and 2 * height >= image.shape[0]:
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    kx, ky = _block_factor(image.shape[1], width), _block_factor(image.shape[0], height)
    if kx is None or ky is None:
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    blocks = cv2.resize(image, (image.shape[1] // kx, image.shape[0] // ky), interpolation=cv2.INTER_AREA)
    return cv2.resize(blocks, (width, height), interpolation=cv2.INTER_LINEAR)


def _block_factor(source: int, target: int) -> int | None:
    """The block size that takes ``source`` pixels to fewer than ``2 * target`` exactly; 1 when no shrink is
    needed, None when no divisor of ``source`` fits."""
    for k in range(max(1, source // target), 0, -1):
        if source // k >= 2 * target:
            return None
        if source % k == 0:
            return k
    return None


class ResizeWithOpenCV(v2.Transform):
    """Resize to ``size`` = (height, width), or cap each side at ``max_side`` (aspect not kept, as the model's
    input is square anyway). Pixels go through OpenCV, boxes through v2's resize kernel."""

    def __init__(self, size: tuple[int, int] | None = None, max_side: int | None = None):
        super().__init__()
        if (size is None) == (max_side is None):
            raise ValueError("give exactly one of size and max_side")
        self.size = size
        self.max_side = max_side

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        height, width = v2.query_size(flat_inputs)
        if self.size is not None:
            return {"size": list(self.size)}
        return {"size": [min(height, self.max_side), min(width, self.max_side)]}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        height, width = params["size"]
        if isinstance(inpt, tv_tensors.Image):
            resized = resize_image(_as_hwc_numpy(inpt), width, height)
            return tv_tensors.wrap(_as_chw_tensor(resized), like=inpt)
        return self._call_kernel(F.resize, inpt, size=[height, width], antialias=True)


class RandomWidthScale(v2.Transform):
    """Stretch or squeeze the width only, by a factor drawn from U(low, high)."""

    def __init__(self, scale_range: tuple[float, float]):
        super().__init__()
        self.scale_range = tuple(scale_range)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        height, width = v2.query_size(flat_inputs)
        low, high = self.scale_range
        factor = low + (high - low) * torch.rand(()).item()
        return {"size": [height, max(1, round(width * factor))]}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        height, width = params["size"]
        if isinstance(inpt, tv_tensors.Image):
            return tv_tensors.wrap(_as_chw_tensor(resize_image(_as_hwc_numpy(inpt), width, height)), like=inpt)
        return self._call_kernel(F.resize, inpt, size=params["size"], antialias=True)


class _WindowKeepingCentres(v2.Transform):
    """Cut a window (top, left, height, width) that may reach outside the image; uncovered pixels get the mean
    colour. Boxes are moved into the window and clamped; those whose centre lies outside it are zeroed for
    ``SanitizeBoundingBoxes`` to drop. Subclasses choose the window."""

    def _window(self, height: int, width: int) -> tuple[int, int, int, int]:
        raise NotImplementedError

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        top, left, window_height, window_width = self._window(*v2.query_size(flat_inputs))
        boxes = v2.get_bounding_boxes(flat_inputs)
        xyxy = F.convert_bounding_box_format(boxes.as_subclass(torch.Tensor), boxes.format,
                                             tv_tensors.BoundingBoxFormat.XYXY)
        centre_x = (xyxy[:, 0] + xyxy[:, 2]) / 2
        centre_y = (xyxy[:, 1] + xyxy[:, 3]) / 2
        keep = ((centre_x >= left) & (centre_x < left + window_width)
                & (centre_y >= top) & (centre_y < top + window_height))
        return {"top": top, "left": left, "height": window_height, "width": window_width, "keep": keep}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        window = (params["top"], params["left"], params["height"], params["width"])
        if isinstance(inpt, tv_tensors.Image):
            return tv_tensors.wrap(_as_chw_tensor(_cut_window(_as_hwc_numpy(inpt), *window, MEAN_RGB)), like=inpt)
        output = self._call_kernel(F.crop, inpt, *window)
        if isinstance(output, tv_tensors.BoundingBoxes):
            output[~params["keep"]] = 0
        return output


class RandomShift(_WindowKeepingCentres):
    """Translate the content by up to ``fraction`` of the width and of the height, keeping the image size."""

    def __init__(self, fraction: float):
        super().__init__()
        self.fraction = fraction

    def _window(self, height: int, width: int) -> tuple[int, int, int, int]:
        shift_x, shift_y = ((torch.rand(2) * 2 - 1) * self.fraction).tolist()
        return -round(shift_y * height), -round(shift_x * width), height, width


class RandomCropKeepingCentres(_WindowKeepingCentres):
    """Crop to U(low, high) of each side (drawn independently) at a random position."""

    def __init__(self, fraction_range: tuple[float, float]):
        super().__init__()
        self.fraction_range = tuple(fraction_range)

    def _window(self, height: int, width: int) -> tuple[int, int, int, int]:
        low, high = self.fraction_range
        fraction_w, fraction_h, place_x, place_y = torch.rand(4).tolist()
        crop_width = max(1, int(width * (low + (high - low) * fraction_w)))
        crop_height = max(1, int(height * (low + (high - low) * fraction_h)))
        left = int((width - crop_width + 1) * place_x)
        top = int((height - crop_height + 1) * place_y)
        return top, left, crop_height, crop_width


class RandomColourJitter(v2.Transform):
    """``v2.ColorJitter``'s four steps with its definitions (brightness: scale; contrast: blend with the mean
    grey; saturation: blend with the greyscale image; hue: rotate by U(-hue, hue) of the circle; factors drawn
    from U(1 - x, 1 + x)), in a random order, computed with OpenCV on uint8: about 1 ms at 448 x 448 with one
    thread, where ``v2.ColorJitter`` takes 12 ms (and its hue step alone 10 ms) - most of a worker's budget."""

    def __init__(self, brightness: float, contrast: float, saturation: float, hue: float):
        super().__init__()
        self.brightness, self.contrast, self.saturation, self.hue = brightness, contrast, saturation, hue

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        draws = torch.rand(4).tolist()
        factors = [1 + (2 * draw - 1) * spread
                   for draw, spread in zip(draws[:3], (self.brightness, self.contrast, self.saturation))]
        hue_shift = round((2 * draws[3] - 1) * self.hue * 180)  # OpenCV's uint8 hue runs 0..179
        return {"order": torch.randperm(4).tolist(), "factors": factors, "hue_shift": hue_shift}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not isinstance(inpt, tv_tensors.Image):
            return inpt
        image = _as_hwc_numpy(inpt)
        brightness, contrast, saturation = params["factors"]
        for step in params["order"]:
            if step == 0:
                image = cv2.convertScaleAbs(image, alpha=brightness)
            elif step == 1:
                mean_grey = float(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).mean())
                image = cv2.addWeighted(image, contrast, image, 0.0, (1 - contrast) * mean_grey)
            elif step == 2:
                grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
                image = cv2.addWeighted(image, saturation, grey, 1 - saturation, 0.0)
            elif params["hue_shift"]:
                hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
                hsv[:, :, 0] = ((hsv[:, :, 0].astype(np.int16) + params["hue_shift"]) % 180).astype(np.uint8)
                image = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        return tv_tensors.wrap(_as_chw_tensor(image), like=inpt)


def _cut_window(image: np.ndarray, top: int, left: int, height: int, width: int,
                fill: tuple[int, ...]) -> np.ndarray:
    """The part of the window inside the image, bordered by ``fill`` out to the window's size."""
    image_height, image_width = image.shape[:2]
    src_top, src_left = min(max(top, 0), image_height), min(max(left, 0), image_width)
    src_bottom = max(min(top + height, image_height), src_top)
    src_right = max(min(left + width, image_width), src_left)
    inside = image[src_top:src_bottom, src_left:src_right]
    if inside.size == 0:
        return np.full((height, width, image.shape[2]), fill, dtype=image.dtype)
    return cv2.copyMakeBorder(inside, src_top - top, top + height - src_bottom, src_left - left,
                              left + width - src_right, cv2.BORDER_CONSTANT, value=fill)


def _as_hwc_numpy(image: torch.Tensor) -> np.ndarray:
    """A 3xHxW uint8 tensor as an HxWx3 array; free when the tensor is a channels-last view, as ours are."""
    return np.ascontiguousarray(image.as_subclass(torch.Tensor).permute(1, 2, 0).numpy())


def _as_chw_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)
