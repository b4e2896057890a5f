"""Augmentation and preprocessing on batched tensors (on the GPU when the batch is there).

Input: a ``B×S×S×3`` uint8 batch of decoded images (``cache.py``). Output: ``B×3×C×C`` float32,
normalized with the model's mean and std.

- ``TrainTransform``: random resized crop to ``crop_size`` (area fraction ``scale``, aspect
  ``ratio``, as torchvision's ``RandomResizedCrop``: ten tries, then the whole image), bilinear,
  for the whole batch in one call: ``grid_sample`` (with the flip folded in) when no crop
  shrinks by more than ``1.25×``, else ``torchvision.ops.roi_align`` with adaptive sampling,
  which averages several samples per output pixel (antialiasing); colour jitter (brightness,
  contrast, saturation, each a factor drawn from ``[1 - j, 1 + j]``, applied in that order as
  torchvision does but fused into one affine colour map per image and clamped to [0, 1] once,
  at the end); horizontal flip with probability ``flip``; normalization.
- ``EvalTransform``: resize to ``resize_size`` (bilinear, antialiased), centre-crop
  ``crop_size``, normalize.

Random parameters (boxes, jitter factors, flips) come from a seeded ``numpy.random.Generator``
and are then moved to the batch's device, so a seed gives the same augmentation on any device.
On a GPU they travel in one pinned, non-blocking copy per batch, and the normalization
constants are moved once per device, so preparing a batch never waits for the GPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

__all__ = ["EvalTransform", "TrainTransform", "to_float"]

_TRIES = 10
_MAX_PLAIN_SHRINK = 1.25  # above this shrink factor, crops are antialiased (roi_align)


def to_float(batch: torch.Tensor) -> torch.Tensor:
    """``B×H×W×3`` uint8 -> ``B×3×H×W`` float32 in [0, 1]."""
    return batch.permute(0, 3, 1, 2).float().div_(255.0)


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A host array on ``device``; to a GPU through pinned memory, without blocking."""
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


class _Normalization:
    """``(x / 255 - mean) / std`` as ``x * scale + shift``, and the image of [0, 1] under it,
    as ``1×3×1×1`` tensors kept per device."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        m = np.asarray(mean, dtype=np.float32).reshape(1, 3, 1, 1)
        s = np.asarray(std, dtype=np.float32).reshape(1, 3, 1, 1)
        self._host = {"scale": 1.0 / (255.0 * s), "shift": -m / s, "top": (1.0 - m) / s}
        self._by_device: dict[torch.device, dict[str, torch.Tensor]] = {}

    def on(self, device: torch.device) -> dict[str, torch.Tensor]:
        if device not in self._by_device:
            self._by_device[device] = {
                k: torch.from_numpy(v).to(device) for k, v in self._host.items()
            }
        return self._by_device[device]


class EvalTransform:
    """Resize to ``resize_size``, centre-crop ``crop_size``, normalize."""

    def __init__(
        self, resize_size: int, crop_size: int, mean: Sequence[float], std: Sequence[float]
    ) -> None:
        if crop_size > resize_size:
            raise ValueError(
                f"validation_crop_size ({crop_size}) must not exceed validation_resize_size "
                f"({resize_size})"
            )
        self.resize_size = resize_size
        self.crop_size = crop_size
        self.normalization = _Normalization(mean, std)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        x = batch.permute(0, 3, 1, 2).float()
        r, c = self.resize_size, self.crop_size
        if x.shape[-1] != r or x.shape[-2] != r:
            x = F.interpolate(x, size=(r, r), mode="bilinear", align_corners=False, antialias=True)
        top = round((r - c) / 2.0)
        x = x[:, :, top : top + c, top : top + c]
        n = self.normalization.on(x.device)
        return torch.addcmul(n["shift"], x, n["scale"]).contiguous()


class TrainTransform:
    """Random resized crop, colour jitter, horizontal flip, normalization; seeded."""

    def __init__(
        self,
        crop_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        *,
        rng: np.random.Generator,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        color_jitter: float = 0.4,
        flip: float = 0.5,
    ) -> None:
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"crop scale {scale} must satisfy 0 < low <= high <= 1")
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"crop ratio {ratio} must satisfy 0 < low <= high")
        if not 0 <= color_jitter < 1:
            raise ValueError(f"color_jitter={color_jitter} must be in [0, 1)")
        if not 0 <= flip <= 1:
            raise ValueError(f"flip={flip} must be a probability in [0, 1]")
        self.crop_size = crop_size
        self.scale = scale
        self.log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        self.color_jitter = color_jitter
        self.flip = flip
        self.rng = rng
        self.normalization = _Normalization(mean, std)

    def crop_boxes(self, batch_size: int, height: int, width: int) -> np.ndarray:
        """``B×4`` boxes (x1, y1, x2, y2) in pixel coordinates, torchvision's sampling rule."""
        target = height * width * self.rng.uniform(*self.scale, size=(batch_size, _TRIES))
        aspect = np.exp(self.rng.uniform(*self.log_ratio, size=(batch_size, _TRIES)))
        w, h = np.sqrt(target * aspect), np.sqrt(target / aspect)
        ok = (w <= width) & (h <= height)
        first = np.argmax(ok, axis=1)
        rows = np.arange(batch_size)
        found = ok[rows, first]
        w = np.where(found, w[rows, first], float(width))
        h = np.where(found, h[rows, first], float(height))
        x1 = self.rng.random(batch_size) * (width - w)
        y1 = self.rng.random(batch_size) * (height - h)
        return np.stack([x1, y1, x1 + w, y1 + h], axis=1).astype(np.float32)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        b, height, width = batch.shape[0], batch.shape[1], batch.shape[2]
        device = batch.device
        boxes = self.crop_boxes(b, height, width)
        j = self.color_jitter
        factors = self.rng.uniform(1 - j, 1 + j, size=(3, b)).astype(np.float32)
        flip = self.rng.random(b) < self.flip
        # pixel values stay in 0..255 until the last step (every step before it is linear)
        x = batch.permute(0, 3, 1, 2).float()
        longest = float((boxes[:, 2:] - boxes[:, :2]).max())
        plain = longest <= _MAX_PLAIN_SHRINK * self.crop_size
        params = np.concatenate([self.grid_coefficients(boxes, flip, height, width), factors])
        params = _to_device(params if plain else factors, device)
        x = self.crop_grid(x, params[:4]) if plain else self.crop_roi(x.contiguous(), boxes, flip)
        # normalization is folded into the last pass: (x / 255 - mean) / std
        n = self.normalization.on(device)
        if self.color_jitter > 0:
            x = self._jitter(x, params[-3:], n["scale"], n["shift"])
            # clamp to what [0, 1] becomes after normalizing (per channel)
            torch.maximum(x, n["shift"], out=x)
            return torch.minimum(x, n["top"], out=x)
        return x.mul_(n["scale"]).add_(n["shift"])

    @staticmethod
    def grid_coefficients(
        boxes: np.ndarray, flip: np.ndarray, height: int, width: int
    ) -> np.ndarray:
        """``4×B`` (ax, cx, ay, cy): the sampling grid of each crop in ``grid_sample``'s
        coordinates (-1 and 1 are the image's outer edges) is ``x = ax * u + cx``,
        ``y = ay * v + cy`` for output coordinates u, v in (-1, 1); flipped crops negate ax."""
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        return np.stack(
            [
                np.where(flip, -w, w) / width,
                (boxes[:, 0] + boxes[:, 2]) / width - 1,
                h / height,
                (boxes[:, 1] + boxes[:, 3]) / height - 1,
            ]
        ).astype(np.float32)

    def crop_grid(self, x: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
        """Bilinear crops at the box's bin centres (one sample per output pixel), flipped;
        ``coefficients`` from ``grid_coefficients``, on ``x``'s device."""
        # the grid is separable: x depends on the column only, y on the row
        b, c = x.shape[0], self.crop_size
        ax, cx, ay, cy = coefficients[:, :, None]
        u = (torch.arange(c, dtype=torch.float32, device=x.device) * 2 + 1) / c - 1
        gx = (ax * u + cx)[:, None, :].expand(b, c, c)
        gy = (ay * u + cy)[:, :, None].expand(b, c, c)
        grid = torch.stack([gx, gy], dim=-1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def crop_roi(self, x: torch.Tensor, boxes: np.ndarray, flip: np.ndarray) -> torch.Tensor:
        """Crops averaging ``ceil(box / crop)``² samples per output pixel, then flipped."""
        index = np.arange(len(boxes), dtype=np.float32)[:, None]
        rois = _to_device(np.concatenate([index, boxes], axis=1), x.device)
        out = roi_align(x, rois, output_size=self.crop_size, sampling_ratio=-1, aligned=True)
        if flip.any():
            rows = _to_device(np.flatnonzero(flip), x.device)
            out[rows] = out[rows].flip(-1)
        return out

    def _jitter(
        self, x: torch.Tensor, factors: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor
    ) -> torch.Tensor:
        """Brightness b, contrast c, saturation s in one pass, then ``* scale + shift``.

        With g the image's luma and m its mean, ``b*x``, then ``c*(x - m') + m'``, then
        ``s*x + (1 - s)*gray(x)`` is ``s*c*b*x + (1 - s)*c*b*g + (1 - c)*b*m`` (not clamped).
        """
        bright, contrast, saturation = factors.view(3, -1, 1, 1, 1)
        gray = _gray(x)
        mean = gray.mean(dim=(2, 3), keepdim=True)
        cb = contrast * bright
        out = x.mul_(saturation * cb * scale)
        out.addcmul_(gray, (1 - saturation) * cb * scale)
        return out.add_((1 - contrast) * bright * mean * scale + shift)


def _gray(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma, ``B×1×H×W``."""
    return 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
