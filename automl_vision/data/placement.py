"""Where a run keeps its decoded training images, and batches read from memory.

``ImagePlacement``: ``loader`` reads batches from the memory-mapped cache through a
``DataLoader`` (the default on CPU); ``pinned`` copies the split into pinned host memory once
and gathers each batch there (one non-blocking copy to the GPU per batch); ``device`` copies it
onto the GPU once and gathers batches there (no host work per batch); ``auto`` picks ``device``
when the images fit in a quarter of the GPU's free memory, else ``pinned``, and ``loader`` on
CPU. ``MemoryBatches`` yields the same batches, in the same order, as the loader does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

import numpy as np
import torch

from automl_vision.data.dataset import DecodedSplit
from automl_vision.data.loader import BatchOrder

__all__ = ["DEVICE_FRACTION", "ImagePlacement", "MemoryBatches", "resolve_placement"]

#: ``auto`` puts the images on the GPU when they take at most this fraction of its free memory
DEVICE_FRACTION = 0.25


class ImagePlacement(str, enum.Enum):
    AUTO = "auto"
    LOADER = "loader"
    PINNED = "pinned"
    DEVICE = "device"

    @classmethod
    def parse(cls, value: object) -> ImagePlacement:
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(p.value for p in cls)
            raise ValueError(f"image_placement={value!r} is not one of {allowed}") from None


def resolve_placement(
    placement: ImagePlacement, device: torch.device, nbytes: int, free_bytes: int | None
) -> ImagePlacement:
    """The concrete placement of ``nbytes`` of images for a run on ``device``.

    ``free_bytes``: the GPU's free memory (None on CPU). On CPU, ``pinned`` means plain host
    memory and ``device`` the same (the CPU is the device)."""
    if placement is not ImagePlacement.AUTO:
        return placement
    if device.type != "cuda":
        return ImagePlacement.LOADER
    if free_bytes is not None and nbytes <= DEVICE_FRACTION * free_bytes:
        return ImagePlacement.DEVICE
    return ImagePlacement.PINNED


class MemoryBatches:
    """Batches of a split held in memory (host, pinned host, or GPU), in ``order``'s order."""

    def __init__(
        self, split: DecodedSplit, order: BatchOrder, device: torch.device, *, on_device: bool
    ) -> None:
        self.order = order
        self.device = device
        rows = np.asarray(split.indices)
        images = torch.from_numpy(np.ascontiguousarray(split.images[rows]))
        targets = torch.from_numpy(np.ascontiguousarray(split.targets))
        cuda = device.type == "cuda"
        if on_device:
            images, targets = images.to(device), targets.to(device)
        elif cuda:
            images, targets = images.pin_memory(), targets.pin_memory()
        self.images, self.targets = images, targets
        self.on_device = on_device or not cuda

    @property
    def nbytes(self) -> int:
        return self.images.numel() * self.images.element_size()

    def __len__(self) -> int:
        return len(self.order)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for positions in self.order:
            index = torch.from_numpy(np.ascontiguousarray(positions))
            if self.on_device:
                index = index.to(self.images.device, non_blocking=True)
                yield self.images.index_select(0, index), self.targets.index_select(0, index)
            else:  # pinned host memory: gather into a pinned buffer, copy without blocking
                batch = torch.empty(
                    (len(index), *self.images.shape[1:]), dtype=self.images.dtype, pin_memory=True
                )
                torch.index_select(self.images, 0, index, out=batch)
                yield (
                    batch.to(self.device, non_blocking=True),
                    self.targets.index_select(0, index).to(self.device, non_blocking=True),
                )
