"""Batches of decoded images: a seeded, shardable batch order and a ``DataLoader`` around it.

Each item the loader yields is one whole batch, ``(B×S×S×3 uint8 images, targets)``, read from
the decoded (memory-mapped) array; augmentation happens afterwards on the batch's device
(``transforms.py``). The order of an epoch is ``default_rng([seed, epoch]).permutation``, so it
depends on neither the number of workers nor the device. With several processes (data-parallel
training) each rank takes every ``world``-th position of the same order, padded by wrapping
around so that all ranks get the same number of batches. Training orders drop a last batch of a
single image (batch norm cannot train on one image); no other image is ever dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from automl_vision.data.dataset import DecodedSplit
from automl_vision.system import available_cpus

__all__ = ["BatchOrder", "available_cpus", "make_loader"]


class BatchOrder(Sampler[np.ndarray]):
    """Yields arrays of positions (into a ``DecodedSplit``), one per batch."""

    def __init__(
        self,
        n: int,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world: int = 1,
        drop_single: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size {batch_size} must be >= 1")
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.drop_single = drop_single
        self.rank, self.world = rank, world
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def per_rank(self) -> int:
        return math.ceil(self.n / self.world)

    @property
    def used(self) -> int:
        """Positions used per rank and epoch (a single-image last batch dropped if asked)."""
        n = self.per_rank
        single = self.drop_single and n > 1 and self.batch_size > 1 and n % self.batch_size == 1
        return n - 1 if single else n

    def __len__(self) -> int:
        return math.ceil(self.used / self.batch_size)

    def positions(self) -> np.ndarray:
        """This rank's positions for the current epoch, in order."""
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        else:
            order = np.arange(self.n)
        if self.world > 1:
            total = self.per_rank * self.world
            order = np.resize(order, total)[self.rank :: self.world]
        return order[: self.used]

    def __iter__(self) -> Iterator[np.ndarray]:
        order = self.positions()
        for start in range(0, len(order), self.batch_size):
            yield order[start : start + self.batch_size]


class _Batches(Dataset):
    """Reads one batch per item: rows of the decoded array and their targets."""

    def __init__(self, split: DecodedSplit) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, positions: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = self.split.indices[positions]
        images = np.asarray(self.split.images[rows])
        return torch.from_numpy(images), torch.from_numpy(self.split.targets[positions])


def make_loader(
    split: DecodedSplit, order: BatchOrder, *, workers: int, pin_memory: bool = False
) -> DataLoader:
    """A loader of whole batches; ``workers`` is capped by the CPUs available."""
    workers = min(max(0, workers), available_cpus())
    return DataLoader(
        _Batches(split),
        sampler=order,
        batch_size=None,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=pin_memory,
        prefetch_factor=2 if workers > 0 else None,
    )
