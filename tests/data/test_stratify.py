"""Iterative stratification (``data/stratify.py``): every label in every part where it can be,
part sizes on target, label shares closer to the whole than a random split, seeded, errors."""

from __future__ import annotations

import numpy as np
import pytest

from automl_vision.data import iterative_split

SEEDS = range(6)


def _common(n: int) -> list[tuple[str, ...]]:
    return [("common",)] * n


def _synthetic(n: int, seed: int) -> list[tuple[str, ...]]:
    """Multilabel images: eight labels of falling prevalence, drawn independently (some images
    carry none)."""
    prevalence = np.array([0.5, 0.35, 0.25, 0.15, 0.1, 0.06, 0.04, 0.03])
    hot = np.random.default_rng(seed).random((n, len(prevalence))) < prevalence
    return [tuple(f"l{c}" for c in np.flatnonzero(row)) for row in hot]


def _counts(labels, part) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in part:
        for name in labels[i]:
            out[name] = out.get(name, 0) + 1
    return out


def _check_partition(parts, n: int) -> None:
    assert all(p.dtype == np.int64 for p in parts)
    assert all((np.diff(p) > 0).all() for p in parts)  # sorted, no repeats
    joined = np.concatenate(parts)
    assert len(joined) == n and set(joined.tolist()) == set(range(n))  # disjoint, covering


PRESENCE = [
    # (case, labels, fractions)
    ("3 images of a rare label, 3 parts: one each",
     _common(60) + [("common", "rare")] * 3, (0.6, 0.2, 0.2)),
    ("3 images, skewed fractions: still one each",
     _common(60) + [("common", "rare")] * 3, (0.8, 0.1, 0.1)),
    ("2 images of a label, 3 parts: two different parts",
     _common(40) + [("common", "pair")] * 2, (0.6, 0.2, 0.2)),
    ("1 image: one part",
     [*_common(40), ("common", "single")], (0.6, 0.2, 0.2)),
    ("multiclass, classes of 3, 5, 10, 40",
     [("a",)] * 3 + [("b",)] * 5 + [("c",)] * 10 + [("d",)] * 40, (0.6, 0.2, 0.2)),
    ("rare labels sharing images",
     [*_common(50), ("r1", "r2"), ("r1",), ("r1",), ("r2",), ("r2", "r3"), ("r3",), ("r3",)],
     (0.6, 0.2, 0.2)),
    ("4 parts: labels of 4 and 3 images",
     _common(60) + [("four",)] * 4 + [("three",)] * 3, (0.4, 0.2, 0.2, 0.2)),
    ("2 parts, single-label pairs",
     [(f"c{i}",) for i in range(10) for _ in range(2)], (0.5, 0.5)),
    ("synthetic multilabel", _synthetic(300, 0), (0.6, 0.2, 0.2)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("labels", "fractions"), [c[1:] for c in PRESENCE], ids=[c[0] for c in PRESENCE]
)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_label_reaches_every_part_it_can(labels, fractions, seed) -> None:
    """A label with at least as many images as parts is in every part; one with fewer is in
    as many different parts as it has images."""
    parts = iterative_split(labels, fractions, seed)
    _check_partition(parts, len(labels))
    total = _counts(labels, range(len(labels)))
    per_part = [_counts(labels, part) for part in parts]
    for name, n in total.items():
        holding = sum(1 for counts in per_part if counts.get(name, 0) > 0)
        assert holding == min(n, len(parts)), (name, n, [c.get(name, 0) for c in per_part])


SIZES = [
    # (case, labels, fractions): balanced input, sizes within 1 of fractions × N
    ("multiclass 5 × 20", [(f"c{i % 5}",) for i in range(100)], (0.6, 0.2, 0.2)),
    ("multiclass 20 × 7, shares round one way", [(f"c{i % 20}",) for i in range(140)],
     (0.5, 0.3, 0.2)),
    ("odd N", [(f"c{i % 3}",) for i in range(101)], (0.6, 0.2, 0.2)),
    ("synthetic multilabel", _synthetic(300, 1), (0.7, 0.15, 0.15)),
    ("synthetic multilabel, 4 parts", _synthetic(257, 2), (0.4, 0.3, 0.2, 0.1)),
    ("no labels at all", [()] * 10, (0.6, 0.2, 0.2)),
    ("labelled and unlabelled", [("a",)] * 20 + [()] * 11, (0.5, 0.5)),
]  # fmt: skip


@pytest.mark.parametrize(("labels", "fractions"), [c[1:] for c in SIZES], ids=[c[0] for c in SIZES])
@pytest.mark.parametrize("seed", SEEDS)
def test_part_sizes_are_within_one_image_of_their_fractions(labels, fractions, seed) -> None:
    """The guaranteed tolerance for balanced input: |size − fraction × N| < 1, the sizes
    summing to N (largest remainder rounding)."""
    parts = iterative_split(labels, fractions, seed)
    _check_partition(parts, len(labels))
    for part, fraction in zip(parts, fractions, strict=True):
        assert abs(len(part) - fraction * len(labels)) < 1, [len(p) for p in parts]


@pytest.mark.parametrize("seed", SEEDS)
def test_single_labels_give_an_ordinary_stratified_split(seed) -> None:
    """Each class's count in each part is within one image of its share of that class."""
    labels = [("a",)] * 7 + [("b",)] * 13 + [("c",)] * 25 + [("d",)] * 55
    fractions = (0.6, 0.2, 0.2)
    parts = iterative_split(labels, fractions, seed)
    for part, fraction in zip(parts, fractions, strict=True):
        counts = _counts(labels, part)
        for name, n in _counts(labels, range(len(labels))).items():
            assert abs(counts.get(name, 0) - fraction * n) <= 1, (name, counts)


def test_unlabelled_images_go_where_images_are_still_wanted() -> None:
    """Labelled images fill their parts evenly first; the unlabelled ones make up the sizes."""
    labels = [("a",)] * 10 + [()] * 10
    train, test = iterative_split(labels, (0.75, 0.25), seed=0)
    assert (len(train), len(test)) == (15, 5)
    assert sum(i < 10 for i in test) in (2, 3)  # a: 2.5 of its 10 wanted in test


def test_the_split_is_a_function_of_the_seed() -> None:
    labels = _synthetic(200, 3)
    first = iterative_split(labels, (0.6, 0.2, 0.2), seed=7)
    again = iterative_split(labels, (0.6, 0.2, 0.2), seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    others = [iterative_split(labels, (0.6, 0.2, 0.2), seed=s) for s in range(8, 12)]
    assert all(any(not np.array_equal(a, b) for a, b in zip(first, o, strict=True)) for o in others)


def _divergence(hot: np.ndarray, parts) -> float:
    """Label distribution divergence: the mean over parts and labels of |share in part − share
    overall| (Sechidis et al.'s LD, with shares in place of odds)."""
    overall = hot.mean(axis=0)
    return float(np.mean([np.abs(hot[p].mean(axis=0) - overall) for p in parts]))


def test_label_shares_stay_closer_to_the_whole_than_a_random_split() -> None:
    fractions = (0.6, 0.2, 0.2)
    stratified, random = [], []
    for seed in range(10):
        labels = _synthetic(300, 100 + seed)
        names = sorted({name for label in labels for name in label})
        hot = np.array([[name in label for name in names] for label in labels], dtype=float)
        parts = iterative_split(labels, fractions, seed)
        stratified.append(_divergence(hot, parts))
        order = np.random.default_rng(seed).permutation(len(labels))
        cuts = np.cumsum([len(p) for p in parts])[:-1]
        random.append(_divergence(hot, np.split(order, cuts)))
    assert np.mean(stratified) < 0.25 * np.mean(random), (np.mean(stratified), np.mean(random))


ERRORS = [
    # (case, n images, fractions, words in the message)
    ("one part", 10, (1.0,), "at least two"),
    ("a zero fraction", 10, (0.0, 1.0), "each in (0, 1)"),
    ("a negative fraction", 10, (-0.1, 1.1), "each in (0, 1)"),
    ("sum above 1", 10, (0.5, 0.6), "summing to 1"),
    ("sum just off 1", 10, (0.5, 0.5 + 1e-6), "summing to 1"),
    ("not a number", 10, (float("nan"), 0.5), "each in (0, 1)"),
    ("not numbers", 10, ("a", "b"), "each in (0, 1)"),
    ("a part rounds to no image", 10, (0.96, 0.02, 0.02), "part 2 of 3 empty"),
    ("fewer images than parts", 2, (1 / 3, 1 / 3, 1 / 3), "part 1 of 3 would be empty"),
    ("no images", 0, (0.5, 0.5), "part 1 of 2 empty"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("n", "fractions", "words"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_bad_fractions_are_one_error_naming_them(n, fractions, words) -> None:
    with pytest.raises(ValueError, match="fractions=") as err:
        iterative_split([("a",)] * n, fractions, seed=0)
    assert words in str(err.value)


def test_fractions_summing_to_one_up_to_rounding_are_accepted() -> None:
    parts = iterative_split([("a",)] * 30, (0.1, 0.2, 0.7), seed=0)
    assert [len(p) for p in parts] == [3, 6, 21]
    assert [len(p) for p in iterative_split([("a",)] * 30, (1 / 3,) * 3, seed=0)] == [10] * 3


def test_labels_must_be_tuples_of_names() -> None:
    with pytest.raises(ValueError, match=r"labels\[1\]"):
        iterative_split([("a",), "b", ("c",)], (0.5, 0.5), seed=0)
