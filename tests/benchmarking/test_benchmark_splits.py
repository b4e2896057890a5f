"""Each dataset's fixed split: which parts are drawn from the data and which are given, the
datasets tuning and retraining get (never a test image), the fingerprint, the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from automl_vision.benchmarking.spec import DatasetSpec, RetrainOn
from automl_vision.benchmarking.splits import fix_split
from automl_vision.data.sources import LabelledImages

N = 40


def _arrays(n: int = N, offset: int = 0):
    """``n`` distinct 8-pixel images (pixel value = index + offset) with multi-hot labels."""
    images = np.stack([np.full((8, 8, 3), i + offset, np.uint8) for i in range(n)])
    labels = np.zeros((n, 3), np.int64)
    for i in range(n):
        labels[i, i % 3] = 1
        labels[i, (i // 3) % 3] = 1
    return images, labels


def _split(test_size=0.25, validation_size=0.25, seed=0, **given):
    spec = DatasetSpec(data=_arrays(), **given)
    return fix_split("d", spec, test_size=test_size, validation_size=validation_size, seed=seed)


@pytest.mark.parametrize(
    ("given", "counts", "fractions"),
    [
        ({}, (20, 10, 10), {"train": 0.5, "validation": 0.25, "test": 0.25}),
        ({"test_data": _arrays(10, 100)}, (30, 10, 10), {"train": 0.75, "validation": 0.25}),
        ({"validation_data": _arrays(8, 100)}, (30, 8, 10), {"train": 0.75, "test": 0.25}),
        ({"validation_data": _arrays(8, 100), "test_data": _arrays(6, 150)}, (40, 8, 6), {}),
    ],
)
def test_the_parts_not_given_are_drawn_from_the_data(given, counts, fractions) -> None:
    split = _split(**given)
    found = (len(split.train), len(split.validation), len(split.test))
    assert sum(found) == sum(counts)  # stratification may move an image between drawn parts
    assert all(abs(a - b) <= 1 for a, b in zip(found, counts, strict=True)), found
    assert split.fractions == fractions
    every = np.concatenate([split.train, split.validation, split.test])
    assert sorted(every.tolist()) == list(range(len(split.images)))
    if "test_data" in given:  # a given part is the images read after the data, in order
        assert split.test.tolist() == list(range(len(split.images) - counts[2], len(split.images)))


def test_no_test_image_reaches_the_tuning_or_retraining_datasets() -> None:
    split = _split()
    test_pixels = {int(split.images.images[i][0, 0, 0]) for i in split.test}
    tuning = split.tuning_dataset()
    assert len(tuning.images) == len(split.train) + len(split.validation)
    assert not {int(image[0, 0, 0]) for image in tuning.images.images} & test_pixels
    assert len(tuning.train_indices) == len(split.train)
    assert tuning.class_names == split.class_names
    both = split.retraining_dataset(RetrainOn.TRAIN_VALIDATION)
    assert len(both.train_indices) == len(tuning.images)
    assert np.array_equal(both.validation_indices, tuning.validation_indices)
    assert split.retraining_dataset(RetrainOn.TRAIN).fingerprint == tuning.fingerprint
    assert len(split.test_inputs()) == len(split.test)
    assert split.test_targets().shape == (len(split.test), 3)


def test_the_fingerprint_covers_labels_split_and_seed_and_is_stable() -> None:
    base = _split().fingerprint
    assert _split().fingerprint == base
    assert _split(seed=1).fingerprint != base
    assert _split(test_size=0.2).fingerprint != base
    images, labels = _arrays()
    labels[0] = [1, 1, 1]
    changed = fix_split(
        "d", DatasetSpec(data=(images, labels)), test_size=0.25, validation_size=0.25, seed=0
    )
    assert changed.fingerprint != base


def test_a_class_only_the_test_data_has_is_refused() -> None:
    images, _ = _arrays(6, 100)
    labels = (("0", "new"), ("1",), ("2",), ("0",), ("1",), ("2",))
    extra = LabelledImages(images, labels, "test arrays", multilabel=True)
    with pytest.raises(ValueError, match="datasets.d.test_data: class 'new' appears only in"):
        _split(test_data=extra)
