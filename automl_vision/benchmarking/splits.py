"""Each dataset's fixed train / validation / test split, and the datasets built from it.

The data is read once (``read_source``): ``data``, then the given ``validation_data`` and
``test_data``, in that order; the indices of the split refer to that order. The parts that are
not given are drawn from ``data`` by ``iterative_split`` (stratified for multilabel) with
``split_seed``:

- neither given: ``(1 - test_size - validation_size, validation_size, test_size)`` of ``data``;
- ``test_data`` given: ``(1 - validation_size, validation_size)`` of ``data``;
- ``validation_data`` given: ``(1 - test_size, test_size)`` of ``data``;
- both given: ``data`` is the training set.

The split's fingerprint covers the images' content, every label, the task, the class names,
the fractions, the seed and the three index lists; ``split.json`` records it with the lists.

Tuning gets ``tuning_dataset()``: an ``ImageDataset`` holding only the training and
validation images, so no test image or label reaches a sweep or a threshold. A class that only
a given test set carries is refused (no method could learn it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.benchmarking.spec import DatasetSpec, RetrainOn
from automl_vision.data.cache import default_cache_dir, fingerprint_images
from automl_vision.data.dataset import ImageDataset, load_dataset
from automl_vision.data.sources import LabelledImages, concat, read_source
from automl_vision.data.stratify import iterative_split
from automl_vision.data.task import Task
from automl_vision.storage import write_atomically

__all__ = ["SPLIT_FILE", "FixedSplit", "fix_split", "recorded_split"]

SPLIT_FILE = "split.json"


@dataclass(frozen=True, eq=False)
class FixedSplit:
    """A dataset's images, task, class names and its fixed three-way split (see the module)."""

    name: str
    images: LabelledImages
    task: Task
    class_names: tuple[str, ...]
    targets: np.ndarray  # every image's encoded labels (class indices or multi-hot rows)
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    fractions: dict[str, float]  # the shares drawn from ``data`` ({} when all parts are given)
    seed: int
    fingerprint: str
    cache_dir: Path | None

    def _dataset(self, train: np.ndarray) -> ImageDataset:
        seen = np.union1d(self.train, self.validation)
        return ImageDataset(
            self.images.subset(seen),
            np.searchsorted(seen, train),
            np.searchsorted(seen, self.validation),
            task=self.task,
            class_names=self.class_names,
            cache_dir=self.cache_dir,
        )

    def tuning_dataset(self) -> ImageDataset:
        """The training and validation images only, split as fixed: what every sweep tunes on
        (and what ``retrain_on=train`` retrains on)."""
        return self._dataset(self.train)

    def retraining_dataset(self, on: RetrainOn) -> ImageDataset:
        """What the top configurations are retrained on: ``train`` is the tuning dataset;
        ``train_validation`` trains on both parts and keeps the validation images as the
        trainer's evaluation set (inside its training data: nothing is selected on them)."""
        if on is RetrainOn.TRAIN:
            return self.tuning_dataset()
        return self._dataset(np.union1d(self.train, self.validation))

    def test_inputs(self) -> list[Any]:
        """The test images as the predictor takes them (file paths or ``H×W×C`` arrays)."""
        images = self.images.images
        return [images[int(i)] for i in self.test]

    def test_targets(self) -> np.ndarray:
        return self.targets[self.test]

    def record(self) -> dict[str, Any]:
        """What ``split.json`` holds."""
        return {
            "version": 1,
            "dataset": self.name,
            "fingerprint": self.fingerprint,
            "task": self.task.value,
            "class_names": list(self.class_names),
            "fractions": self.fractions,
            "seed": self.seed,
            "images": len(self.images),
            "counts": {
                "train": len(self.train),
                "validation": len(self.validation),
                "test": len(self.test),
            },
            "train": self.train.tolist(),
            "validation": self.validation.tolist(),
            "test": self.test.tolist(),
        }

    def write(self, folder: Path) -> Path:
        """``folder/split.json``, atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        return write_atomically(folder / SPLIT_FILE, json.dumps(self.record(), indent=1))


def recorded_split(folder: Path) -> dict[str, Any] | None:
    """The ``split.json`` in ``folder`` (None when there is none or it does not parse)."""
    try:
        record = json.loads((folder / SPLIT_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _refuse_test_only_classes(name: str, known: set[str], test: LabelledImages) -> None:
    for i, label in enumerate(test.labels):
        extra = [c for c in label if c not in known]
        if extra:
            raise ValueError(
                f"datasets.{name}.test_data: class {extra[0]!r} appears only in the test data "
                f"(first at {test.name(i)}); no method could learn it. Add training images of "
                "it or remove it"
            )


def fix_split(
    name: str, spec: DatasetSpec, *, test_size: float, validation_size: float, seed: int
) -> FixedSplit:
    """Read dataset ``name`` once and fix its split (see the module docstring)."""

    def read(source: Any) -> LabelledImages:
        return read_source(
            source, spec.target_column_name, allow_outside_root=spec.allow_outside_root
        )

    data = read(spec.data)
    parts = [data]
    given_validation = given_test = None
    if spec.validation_data is not None:
        parts.append(read(spec.validation_data))
        start = sum(map(len, parts[:-1]))
        given_validation = np.arange(start, start + len(parts[-1]), dtype=np.int64)
    if spec.test_data is not None:
        test_part = read(spec.test_data)
        known = {c for part in parts for label in part.labels for c in label}
        _refuse_test_only_classes(
            name, known | {c for p in parts for c in p.class_names}, test_part
        )
        parts.append(test_part)
        start = sum(map(len, parts[:-1]))
        given_test = np.arange(start, start + len(parts[-1]), dtype=np.int64)
    images = concat(parts, data.origin) if len(parts) > 1 else data
    described = load_dataset(images, task=spec.task, cache=False)  # task and class names

    labels = data.labels
    if given_validation is None and given_test is None:
        fractions = {
            "train": 1.0 - test_size - validation_size,
            "validation": validation_size,
            "test": test_size,
        }
        train, validation, test = iterative_split(labels, tuple(fractions.values()), seed)
    elif given_test is not None and given_validation is None:
        fractions = {"train": 1.0 - validation_size, "validation": validation_size}
        train, validation = iterative_split(labels, tuple(fractions.values()), seed)
        test = given_test
    elif given_validation is not None and given_test is None:
        fractions = {"train": 1.0 - test_size, "test": test_size}
        train, test = iterative_split(labels, tuple(fractions.values()), seed)
        validation = given_validation
    else:
        fractions = {}
        train = np.arange(len(data), dtype=np.int64)
        validation, test = given_validation, given_test
    assert validation is not None and test is not None
    h = hashlib.blake2b(digest_size=16)
    h.update(fingerprint_images(images.images).encode())
    h.update(json.dumps([described.task.value, described.class_names, images.labels]).encode())
    h.update(json.dumps([fractions, seed]).encode())
    for part in (train, validation, test):
        h.update(np.asarray(part, dtype=np.int64).tobytes() + b"|")
    return FixedSplit(
        name=name,
        images=images,
        task=described.task,
        class_names=described.class_names,
        targets=described.targets(np.arange(len(images))),
        train=np.asarray(train, dtype=np.int64),
        validation=np.asarray(validation, dtype=np.int64),
        test=np.asarray(test, dtype=np.int64),
        fractions=fractions,
        seed=seed,
        fingerprint=h.hexdigest(),
        cache_dir=default_cache_dir(),
    )
