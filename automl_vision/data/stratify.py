"""Iterative stratification: split labelled images into parts that keep every label's share.

``iterative_split(labels, fractions, seed)`` splits N images into ``len(fractions)`` parts (for
example ``(0.6, 0.2, 0.2)``: train, validation, test). It follows Sechidis, Tsoumakas and
Vlahavas (2011), "On the stratification of multi-label data":

1. Each part j *wants* ``fractions[j] × N`` images in all, and ``fractions[j] × n(λ)`` of the
   n(λ) images carrying label λ.
2. Repeatedly take the label with the fewest images not yet placed (ties: label name order).
   Hand each of its unplaced images to the part that most wants that label; ties go to the part
   that wants the most images in all, then to a part drawn with ``default_rng(seed)``. The
   image's labels and the part's overall demand are then counted as given to that part.
3. Images without labels go last, each to the part that wants the most images in all (ties
   drawn as above).

Three additions, so that small and rare labels behave:

- **Presence first.** Before demand, a part that holds no image of the label yet comes first.
  A label with at least as many images as parts therefore lands in every part (three images,
  three parts: one each, whatever the fractions), and one with fewer images lands in as many
  different parts as it has images (two images, three parts: two parts, never the same one).
  In multilabel data an image may already have been placed by a rarer label it also carries;
  the guarantee then holds as long as the label's unplaced images still suffice.
- **Seeded order.** The paper leaves open the order in which a label's images are handed out;
  here it is one permutation drawn from ``default_rng(seed)``, so no file order (say, images
  sorted by date) decides which images go first.
- **Sizes.** The greedy pass keeps label shares but lets sizes drift (each label rounds its own
  share). The target sizes are ``fractions × N`` rounded by largest remainder (ties: earlier
  part), each within 1 of ``fractions[j] × N`` (a part rounded to no image gets one, taken
  from the largest part). While a part holds more than its target, one
  image moves from it to a part holding fewer: among the images whose every label the giving
  part holds at least twice (so no part loses a label), the one whose labels the giving part
  has most in excess and the receiving part most lacks (ties drawn). The sizes then equal the
  targets exactly, unless presence forbids it (many rare labels each pinned to a small part),
  in which case they are as close as such moves reach.

Single-label tuples make this an ordinary stratified split: each class is shared out on its
own, every class with at least as many images as parts reaches every part, and each class's
count in a part is within about one image of its share. The result depends only on the
labels, the fractions and the seed.

Refused, with one ``ValueError`` naming ``fractions``: fewer than two fractions, one outside
(0, 1), a sum other than 1 (within 1e-9), and a part that would be empty — ``fractions[j] × N``
below one half, or fewer images than parts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["iterative_split"]

log = logging.getLogger(__name__)

#: demands closer than this are a tie (they are sums of fractions and whole numbers)
_TIE = 1e-9


def iterative_split(
    labels: Sequence[tuple[str, ...]], fractions: Sequence[float], seed: int
) -> list[np.ndarray]:
    """Split the images whose labels are ``labels`` into parts of ``fractions`` of them.

    ``labels[i]``: image i's labels (one for multiclass, any number, none included, for
    multilabel). ``fractions``: at least two, each in (0, 1), summing to 1. Returns one sorted
    ``int64`` index array per fraction, in their order; disjoint, together every index. A bad
    ``fractions`` or a part that would be empty is one ``ValueError``.
    """
    wanted = _check_fractions(fractions)
    n = len(labels)
    for j, share in enumerate(wanted):
        if share * n < 0.5:
            raise ValueError(
                f"fractions={tuple(fractions)} would leave part {j + 1} of {len(wanted)} empty "
                f"with {n} images ({share} × {n} rounds to no image); give more images or a "
                "larger fraction (every part needs at least one image)"
            )
    targets = _target_sizes(n, wanted)
    split = _Split(_label_rows(labels), wanted, np.random.default_rng(seed))
    split.hand_out()
    split.balance(targets)
    parts = [np.flatnonzero(split.part_of == j).astype(np.int64) for j in range(len(wanted))]
    for j, part in enumerate(parts):
        if not len(part):
            raise ValueError(
                f"fractions={tuple(fractions)}: part {j + 1} of {len(wanted)} would be empty "
                f"with these {len(labels)} images; give more images or larger fractions"
            )
    return parts


def _check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    allowed = "give at least two fractions, each in (0, 1), summing to 1 (e.g. (0.6, 0.2, 0.2))"
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise ValueError(f"fractions={fractions!r} is not allowed: {allowed}") from None
    if (
        len(values) < 2
        or not all(math.isfinite(f) and 0.0 < f < 1.0 for f in values)
        or abs(math.fsum(values) - 1.0) > 1e-9
    ):
        raise ValueError(f"fractions={fractions!r} is not allowed: {allowed}")
    return values


def _target_sizes(n: int, fractions: tuple[float, ...]) -> np.ndarray:
    """``fractions × n`` rounded to whole numbers summing to ``n`` (largest remainder; ties:
    earlier part), each at least 1 (taken from the largest part)."""
    exact = np.asarray(fractions) * n
    sizes = np.floor(exact + _TIE).astype(np.int64)
    order = sorted(range(len(fractions)), key=lambda j: (-(exact[j] - sizes[j]), j))
    for j in order[: n - int(sizes.sum())]:
        sizes[j] += 1
    for j in np.flatnonzero(sizes == 0):
        sizes[j] += 1
        sizes[int(np.argmax(sizes))] -= 1
    return sizes


def _label_rows(labels: Sequence[tuple[str, ...]]) -> list[np.ndarray]:
    """Each image's distinct labels as column indices (columns in label name order)."""
    for i, label in enumerate(labels):
        if isinstance(label, str) or not all(isinstance(name, str) for name in label):
            raise ValueError(
                f"labels[{i}] is {label!r}; each image's labels must be a tuple of label names"
            )
    names = sorted({name for label in labels for name in label})
    column = {name: c for c, name in enumerate(names)}
    return [np.asarray(sorted({column[n] for n in label}), dtype=np.int64) for label in labels]


class _Split:
    """The state of one split: where each image went and what each part still wants."""

    def __init__(
        self, rows: list[np.ndarray], fractions: tuple[float, ...], rng: np.random.Generator
    ) -> None:
        self.rows = rows
        self.rng = rng
        n = len(rows)
        n_labels = 1 + max((int(r.max()) for r in rows if r.size), default=-1)
        self.lengths = np.asarray([r.size for r in rows], dtype=np.int64)
        self.occurrences = np.concatenate([*rows, np.empty(0, np.int64)])
        self.owner = np.repeat(np.arange(n), self.lengths)  # the image of each occurrence
        totals = np.bincount(self.occurrences, minlength=n_labels).astype(float)
        share = np.asarray(fractions)
        self.part_of = np.full(n, -1, dtype=np.int64)
        self.demand = share * n  # images each part still wants
        self.label_demand = np.outer(share, totals)  # per part and label
        self.held = np.zeros((len(fractions), n_labels), dtype=np.int64)
        self.unplaced = totals.astype(np.int64)
        self.order = rng.permutation(n)

    # -- the greedy pass (the paper's algorithm, presence first) -------------------------------
    def hand_out(self) -> None:
        carriers: list[list[int]] = [[] for _ in range(len(self.unplaced))]
        for i in self.order:
            for c in self.rows[i]:
                carriers[c].append(int(i))
        while (self.unplaced > 0).any():
            live = np.flatnonzero(self.unplaced > 0)
            label = int(live[np.argmin(self.unplaced[live])])  # fewest; ties: name order
            for i in carriers[label]:
                if self.part_of[i] < 0:
                    self._place(i, self._choose(label))
        for i in self.order:
            if self.part_of[i] < 0:  # no labels
                self._place(int(i), self._choose(None))

    def _choose(self, label: int | None) -> int:
        """The part that most wants ``label`` (lacking it first), then the most images."""
        keys = [self.demand]
        if label is not None:
            keys = [(self.held[:, label] == 0).astype(float), self.label_demand[:, label], *keys]
        candidates = np.arange(len(self.demand))
        for key in keys:
            values = key[candidates]
            candidates = candidates[values >= values.max() - _TIE]
            if len(candidates) == 1:
                return int(candidates[0])
        return int(self.rng.choice(candidates))

    def _place(self, i: int, part: int) -> None:
        self.part_of[i] = part
        self.demand[part] -= 1
        self.label_demand[part, self.rows[i]] -= 1
        self.held[part, self.rows[i]] += 1
        self.unplaced[self.rows[i]] -= 1

    # -- the size repair -----------------------------------------------------------------------
    def balance(self, targets: np.ndarray) -> None:
        """Move images from parts above their target size to parts below it (module doc)."""
        while True:
            excess = np.bincount(self.part_of, minlength=len(targets)) - targets
            if excess.max() <= 0:
                return
            moved = False
            givers = [int(j) for j in np.argsort(-excess, kind="stable") if excess[j] > 0]
            takers = [int(j) for j in np.argsort(excess, kind="stable") if excess[j] < 0]
            for giver in givers:
                for taker in takers:
                    image = self._best_move(giver, taker)
                    if image is not None:
                        self._unplace(image)
                        self._place(image, taker)
                        moved = True
                        break
                if moved:
                    break
            if not moved:
                log.debug("part sizes %s stay off their targets %s: rare labels", excess, targets)
                return

    def _best_move(self, giver: int, taker: int) -> int | None:
        """The image of ``giver`` best moved to ``taker``, or None when every one of its images
        carries a label ``giver`` holds only once."""
        n = len(self.part_of)
        alone = self.held[giver, self.occurrences] < 2
        blocked = np.bincount(self.owner, weights=alone, minlength=n) > 0
        wants = self.label_demand[:, self.occurrences]
        gain = wants[taker] - wants[giver]  # the taker lacks it, the giver has it in excess
        score = np.bincount(self.owner, weights=gain, minlength=n)
        movable = np.flatnonzero((self.part_of == giver) & ~blocked)
        if not len(movable):
            return None
        best = score[movable]
        tied = movable[best >= best.max() - _TIE]
        return int(self.rng.choice(tied))

    def _unplace(self, i: int) -> None:
        part = self.part_of[i]
        self.part_of[i] = -1
        self.demand[part] += 1
        self.label_demand[part, self.rows[i]] += 1
        self.held[part, self.rows[i]] -= 1
        self.unplaced[self.rows[i]] += 1
