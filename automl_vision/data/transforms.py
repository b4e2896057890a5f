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

Random parameters come from a seeded CPU ``torch.Generator`` and are then moved to the batch's
device, so a seed gives the same augmentation on any device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

__all__ = ["EvalTransform", "TrainTransform", "to_float"]

_TRIES = 10
_MAX_PLAIN_SHRINK = 1.25  # above this shrink factor, crops are antialiased (roi_align)


def to_float(batch: torch.Tensor) -> torch.Tensor:
    """``B×H×W×3`` uint8 -> ``B×3×H×W`` float32 in [0, 1]."""
    return batch.permute(0, 3, 1, 2).float().div_(255.0)


def _normalizer(mean: Sequence[float], std: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return m, s


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
        self.mean, self.std = _normalizer(mean, std)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        x = to_float(batch)
        r, c = self.resize_size, self.crop_size
        if x.shape[-1] != r or x.shape[-2] != r:
            x = F.interpolate(x, size=(r, r), mode="bilinear", align_corners=False, antialias=True)
        top = round((r - c) / 2.0)
        x = x[:, :, top : top + c, top : top + c]
        mean, std = self.mean.to(x.device), self.std.to(x.device)
        return ((x - mean) / std).contiguous()


class TrainTransform:
    """Random resized crop, colour jitter, horizontal flip, normalization; seeded."""

    def __init__(
        self,
        crop_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        *,
        generator: torch.Generator,
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
        self.generator = generator
        self.mean, self.std = _normalizer(mean, std)

    def _uniform(self, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
        return torch.rand(shape, generator=self.generator) * (high - low) + low

    def crop_boxes(self, batch_size: int, height: int, width: int) -> torch.Tensor:
        """``B×4`` boxes (x1, y1, x2, y2) in pixel coordinates, torchvision's sampling rule."""
        area = height * width
        target = area * self._uniform((batch_size, _TRIES), *self.scale)
        aspect = torch.exp(self._uniform((batch_size, _TRIES), *self.log_ratio))
        w = torch.sqrt(target * aspect)
        h = torch.sqrt(target / aspect)
        ok = (w <= width) & (h <= height)
        first = torch.argmax(ok.to(torch.int8), dim=1)
        rows = torch.arange(batch_size)
        found = ok[rows, first]
        w = torch.where(found, w[rows, first], torch.full((batch_size,), float(width)))
        h = torch.where(found, h[rows, first], torch.full((batch_size,), float(height)))
        x1 = torch.rand(batch_size, generator=self.generator) * (width - w)
        y1 = torch.rand(batch_size, generator=self.generator) * (height - h)
        return torch.stack([x1, y1, x1 + w, y1 + h], dim=1)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        b, height, width = batch.shape[0], batch.shape[1], batch.shape[2]
        device = batch.device
        boxes = self.crop_boxes(b, height, width)
        factors = self._uniform((3, b), 1 - self.color_jitter, 1 + self.color_jitter)
        flip = torch.rand(b, generator=self.generator) < self.flip
        # pixel values stay in 0..255 until the last step (every step before it is linear)
        x = batch.permute(0, 3, 1, 2).float()
        longest = float((boxes[:, 2:] - boxes[:, :2]).max())
        if longest <= _MAX_PLAIN_SHRINK * self.crop_size:
            x = self.crop_grid(x, boxes, flip, height, width)
        else:
            x = self.crop_roi(x.contiguous(), boxes, flip)
        mean, std = self.mean.to(device), self.std.to(device)
        if self.color_jitter > 0:
            x = self._jitter(x, factors.to(device)).clamp_(0.0, 1.0)
            scale = 1.0 / std
        else:
            scale = 1.0 / (255.0 * std)
        return x.mul_(scale).sub_(mean / std)

    def crop_grid(
        self, x: torch.Tensor, boxes: torch.Tensor, flip: torch.Tensor, height: int, width: int
    ) -> torch.Tensor:
        """Bilinear crops at the box's bin centres (one sample per output pixel), flipped."""
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        theta = torch.zeros(len(boxes), 2, 3)
        theta[:, 0, 0] = torch.where(flip, -w, w) / width
        theta[:, 0, 2] = (boxes[:, 0] + boxes[:, 2]) / width - 1
        theta[:, 1, 1] = h / height
        theta[:, 1, 2] = (boxes[:, 1] + boxes[:, 3]) / height - 1
        c = self.crop_size
        grid = F.affine_grid(theta.to(x.device), [len(boxes), 3, c, c], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def crop_roi(self, x: torch.Tensor, boxes: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
        """Crops averaging ``ceil(box / crop)``² samples per output pixel, then flipped."""
        rois = torch.cat([torch.arange(len(boxes), dtype=torch.float32).unsqueeze(1), boxes], 1)
        out = roi_align(
            x, rois.to(x.device), output_size=self.crop_size, sampling_ratio=-1, aligned=True
        )
        if flip.any():
            rows = flip.nonzero().squeeze(1).to(x.device)
            out[rows] = out[rows].flip(-1)
        return out

    def _jitter(self, x: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
        """Brightness b, contrast c, saturation s, fused: with g the image's luma and m its
        mean, ``b*x`` then ``c*(x - m') + m'`` then ``s*x + (1 - s)*gray(x)`` is
        ``s*c*b*x + (1 - s)*c*b*g + (1 - c)*b*m``; the input is in 0..255, the output in 0..1."""
        scaled = factors.view(3, -1, 1, 1, 1) / torch.tensor([255.0, 1.0, 1.0]).to(
            factors.device
        ).view(3, 1, 1, 1, 1)
        bright, contrast, saturation = scaled
        gray = _gray(x)
        mean = gray.mean(dim=(2, 3), keepdim=True)
        cb = contrast * bright
        out = x.mul_(saturation * cb)
        out.add_(gray.mul_((1 - saturation) * cb))
        return out.add_((1 - contrast) * bright * mean)


def _gray(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma, ``B×1×H×W``."""
    return 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
