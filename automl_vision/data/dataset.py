"""``ImageDataset``: labelled images split into training and validation, with a fingerprint.

``load_dataset(data, ...)`` reads any supported source (``sources.py``), infers or checks the task,
fixes the class names, splits (a given validation source, or a seeded stratified split), and
returns an ``ImageDataset``. Decoding happens later, at the size a trainer asks for
(``decode(size)``), through the decoded-image cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from automl_vision.data.cache import (
    DecodedImages,
    decode_images,
    default_cache_dir,
    fingerprint_images,
)
from automl_vision.data.sources import LabelledImages, concat, read_source
from automl_vision.data.split import stratified_split
from automl_vision.data.task import Task

__all__ = ["CorruptImageWarning", "DecodedSplit", "ImageDataset", "load_dataset"]

log = logging.getLogger("automl_vision.data")


class CorruptImageWarning(UserWarning):
    """Some images could not be decoded and are left out."""


def _natural_key(name: str) -> tuple[Any, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


@dataclass(frozen=True)
class DecodedSplit:
    """One part (training or validation) of a decoded dataset, ready for batching.

    ``images`` is the shared decoded array (memory-mapped when cached) and ``indices`` the rows
    of this part, corrupt images already left out; ``targets`` are class indices (multiclass,
    ``int64``) or multi-hot rows (multilabel, ``float32``), aligned with ``indices``.
    """

    images: np.ndarray
    indices: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)


class ImageDataset:
    """Images with labels, a task, class names, and a train/validation split.

    ``fingerprint`` is stable across processes and runs: it covers the images' content, the
    labels, the task, the class names and the split, so two trials see the same data exactly
    when their fingerprints are equal.
    """

    def __init__(
        self,
        images: LabelledImages,
        train_indices: np.ndarray,
        validation_indices: np.ndarray,
        *,
        task: Task,
        class_names: tuple[str, ...],
        cache_dir: Path | None,
    ) -> None:
        self.images = images
        self.train_indices = np.asarray(train_indices, dtype=np.int64)
        self.validation_indices = np.asarray(validation_indices, dtype=np.int64)
        self.task = task
        self.class_names = class_names
        self.cache_dir = cache_dir
        index = {name: i for i, name in enumerate(class_names)}
        self._targets = _encode(images.labels, index, task)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def multilabel(self) -> bool:
        return self.task is Task.MULTILABEL

    @functools.cached_property
    def content_fingerprint(self) -> str:
        """The images' content alone (the decoded-image cache key)."""
        return fingerprint_images(self.images.images)

    @functools.cached_property
    def fingerprint(self) -> str:
        """Images, labels, task, class names and split, as one hex digest."""
        h = hashlib.blake2b(digest_size=16)
        h.update(self.content_fingerprint.encode())
        h.update(json.dumps([self.task.value, self.class_names, self.images.labels]).encode())
        h.update(self.train_indices.tobytes())
        h.update(self.validation_indices.tobytes())
        return h.hexdigest()

    def class_counts(self) -> np.ndarray:
        """Training images per class (for multilabel: images carrying each label)."""
        targets = self._targets[self.train_indices]
        if self.multilabel:
            return targets.sum(axis=0).astype(np.int64)
        return np.bincount(targets, minlength=self.num_classes).astype(np.int64)

    def targets(self, indices: np.ndarray) -> np.ndarray:
        return self._targets[indices]

    def decode(self, size: int) -> tuple[DecodedSplit, DecodedSplit]:
        """(training, validation) decoded at ``size``; corrupt images warned about and dropped."""
        decoded = decode_images(
            self.images.images,
            size,
            fingerprint=self.content_fingerprint,
            cache_dir=self.cache_dir,
        )
        self._warn_failed(decoded)
        return self._part(decoded, self.train_indices), self._part(decoded, self.validation_indices)

    def _part(self, decoded: DecodedImages, indices: np.ndarray) -> DecodedSplit:
        keep = indices[~np.isin(indices, list(decoded.failed))]
        return DecodedSplit(decoded.array, keep, self._targets[keep])

    def _warn_failed(self, decoded: DecodedImages) -> None:
        if not decoded.failed:
            return
        if len(decoded.failed) == len(self.images):
            first = next(iter(decoded.failed))
            raise ValueError(
                f"{self.images.origin}: none of the {len(self.images)} images could be read "
                f"(first: {self.images.name(first)}: {decoded.failed[first]})"
            )
        listed = "; ".join(
            f"{self.images.name(i)} ({reason})" for i, reason in sorted(decoded.failed.items())
        )
        warnings.warn(
            f"{len(decoded.failed)} of {len(self.images)} images could not be read and are "
            f"skipped: {listed}",
            CorruptImageWarning,
            stacklevel=3,
        )
        for part, indices in (
            ("training", self.train_indices),
            ("validation", self.validation_indices),
        ):
            if np.isin(indices, list(decoded.failed)).all():
                raise ValueError(f"{self.images.origin}: no readable image left in the {part} set")
        self._check_classes(set(decoded.failed))

    def _check_classes(self, failed: set[int]) -> None:
        """A class whose training images are all unreadable can never be learned: refuse it."""
        targets = self._targets[self.train_indices]
        for c, name in enumerate(self.class_names):
            has = targets[:, c] > 0 if self.multilabel else targets == c
            carriers = [int(i) for i in self.train_indices[has]]
            if carriers and all(i in failed for i in carriers):
                where = self.images.name(carriers[0])
                folder = str(Path(where).parent) if not self.images.in_memory else where
                raise ValueError(
                    f"{self.images.origin}: class {name!r} has no readable training image "
                    f"(all {len(carriers)} could not be decoded, e.g. {where}; folder {folder}); "
                    "fix or remove those files"
                )

    def check_images(self) -> dict[int, str]:
        """Find unreadable image files before any training (``PIL`` ``verify``, no decoding).

        Raises when no image, or no training image of some class, is readable; warns about the
        others and returns {index: reason}. In-memory arrays are always readable.
        """
        if self.images.in_memory:
            return {}
        failed = probe_files(self.images.images)  # type: ignore[arg-type]
        if failed:
            self._warn_failed(DecodedImages(np.empty((0, 1, 1, 3), np.uint8), failed, None))
        return failed

    def __repr__(self) -> str:
        return (
            f"ImageDataset({self.images.origin!r}, task={self.task.value}, "
            f"classes={self.num_classes}, train={len(self.train_indices)}, "
            f"validation={len(self.validation_indices)})"
        )


def _probe(path: Path) -> str:
    try:
        with Image.open(path) as image:
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        return f"{type(err).__name__}: {err}"
    return ""


def probe_files(paths: Sequence[Path]) -> dict[int, str]:
    """{index: reason} of the image files that PIL cannot open and verify."""
    with ThreadPoolExecutor(min(8, max(1, len(paths)))) as pool:
        reasons = list(pool.map(_probe, paths))
    return {i: reason for i, reason in enumerate(reasons) if reason}


def _encode(labels: tuple[tuple[str, ...], ...], index: dict[str, int], task: Task) -> np.ndarray:
    if task is Task.MULTICLASS:
        return np.asarray([index[label[0]] for label in labels], dtype=np.int64)
    out = np.zeros((len(labels), len(index)), dtype=np.float32)
    for row, label in enumerate(labels):
        out[row, [index[name] for name in label]] = 1.0
    return out


def _infer_task(images: LabelledImages, task: Task | str | None) -> Task:
    if task is None:
        inferred = Task.MULTILABEL if images.multilabel else Task.MULTICLASS
        return _check_multiclass(images, inferred)
    task = Task.parse(task)
    return _check_multiclass(images, task)


def _check_multiclass(images: LabelledImages, task: Task) -> Task:
    if task is Task.MULTICLASS:
        for i, label in enumerate(images.labels):
            if len(label) != 1:
                raise ValueError(
                    f"{images.origin}: task is multiclass but {images.name(i)} has "
                    f"{len(label)} labels {list(label)}; every image needs exactly one"
                )
    return task


def _refuse_validation_only_classes(train: LabelledImages, validation: LabelledImages) -> None:
    """A label that only the validation data carries could never be learned: refuse it."""
    known = {name for label in train.labels for name in label} | set(train.class_names)
    for i, label in enumerate(validation.labels):
        extra = [name for name in label if name not in known]
        if extra:
            raise ValueError(
                f"{validation.origin}: class {extra[0]!r} appears only in the validation data "
                f"(first at {validation.name(i)}); the training data {train.origin} has no image "
                "of it, so no trial could learn it. Add training images of it or remove it"
            )


def load_dataset(
    data: Any,
    *,
    task: Task | str | None = None,
    validation: Any = None,
    validation_size: float = 0.2,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    cache: bool = True,
    label_column: str = "label",
    allow_outside_root: bool = False,
) -> ImageDataset:
    """Read ``data`` (and ``validation`` if given) into an ``ImageDataset``.

    ``data``/``validation``: an image folder, an MLTable folder, a JSONL or CSV file, an
    ``(images, labels)`` pair of arrays, or ``LabelledImages``. ``task``: ``"multiclass"`` or
    ``"multilabel"``, inferred from the source's syntax when None. Without ``validation``, a
    seeded stratified split keeps ``validation_size`` of the images for validation.
    ``cache_dir``: where decoded images are cached (``default_cache_dir()`` when None);
    ``cache=False`` decodes in memory instead. ``label_column``: the JSONL/MLTable key (or CSV
    header column) of the labels, Azure's ``target_column_name``. ``allow_outside_root``: read
    images that a JSONL, MLTable or CSV file names outside its folder, or that an image folder's
    symbolic links lead to outside it; refused by default (``OutsideDataRootError``, before
    anything outside is looked at).
    """
    if isinstance(data, ImageDataset):
        return data
    train_part = read_source(data, label_column, allow_outside_root=allow_outside_root)
    if validation is None:
        images = train_part
        train_idx, val_idx = stratified_split(images.labels, validation_size, seed)
    else:
        val_part = read_source(validation, label_column, allow_outside_root=allow_outside_root)
        images = concat([train_part, val_part], train_part.origin)
        train_idx = np.arange(len(train_part), dtype=np.int64)
        val_idx = np.arange(len(train_part), len(images), dtype=np.int64)
    resolved = _infer_task(images, task)
    if validation is not None:
        _refuse_validation_only_classes(train_part, val_part)
    names = {name for label in images.labels for name in label} | set(images.class_names)
    class_names = (
        images.class_names
        if images.class_names and set(images.class_names) >= names
        else tuple(sorted(names, key=_natural_key))
    )
    if len(class_names) < 2 and resolved is Task.MULTICLASS:
        raise ValueError(
            f"{images.origin}: a multiclass dataset needs at least 2 classes, found "
            f"{list(class_names)}"
        )
    if not class_names:
        raise ValueError(f"{images.origin}: no labels found")
    directory = None if not cache else Path(cache_dir or default_cache_dir()).expanduser()
    dataset = ImageDataset(
        images, train_idx, val_idx, task=resolved, class_names=class_names, cache_dir=directory
    )
    log.debug("loaded %r", dataset)
    return dataset
