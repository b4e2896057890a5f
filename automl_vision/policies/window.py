"""Schedule-aware judging: where a trial's learning curve is known to mislead, and where a
decision due there is taken instead. Pure; report counts throughout (report 1 first).

A ``JudgingWindow`` says two things about one trial, both known before it runs (the sweep
derives them from the trial's learning-rate schedule, ``planning/judging.py``):

- ``warmup``: reports ``1..warmup`` come from learning-rate warm-up, where the curve says little
  about the final value.
- ``drops``: the first report trained at each lowered learning rate (a ``step`` schedule), in
  increasing order. Before a drop the curve is about to jump, and by how much differs from trial
  to trial, so rankings just before a drop predict rankings after it poorly.

The rule (``JudgingWindow.move``): a decision due during warm-up is taken at the first report
after it (``warmup + 1``); a decision due in the second half of a learning-rate plateau that ends
in a drop is taken at the drop's report. A plateau runs from the previous drop (or the first
report after warm-up) to the report before the drop; of its ``L`` reports the last
``ceil(L * before_drop)`` are moved (``before_drop=0.5``, the default: the second half;
``1.0``: no decision at all before a drop). Where the report a decision moves to is itself one
that moves (the first report after warm-up, or a drop's report, just before the next drop), the
decision moves on with it. Other reports are judged where they are. A policy
with ``schedule_aware=True`` applies this to each of its evaluation points (its rungs, its
Bandit/Median/Truncation intervals); the decision's reason says from which report to which the
decision was moved.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

__all__ = ["JudgingWindow", "Move"]


@dataclass(frozen=True)
class Move:
    """A decision due at ``source`` is taken at ``target`` instead, ``because``."""

    source: int
    target: int
    because: str

    def describe(self) -> str:
        return f"decision moved from report {self.source} to report {self.target}: {self.because}"


@dataclass(frozen=True)
class JudgingWindow:
    """The misleading stretch of one trial's curve: warm-up reports and learning-rate drops."""

    warmup: int = 0
    drops: tuple[int, ...] = ()
    before_drop: float = 0.5  # the fraction of a plateau, at its end, judged after the drop

    def __post_init__(self) -> None:
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or self.warmup < 0:
            raise ValueError(f"JudgingWindow: warmup must be an integer >= 0, got {self.warmup!r}")
        drops = tuple(self.drops)
        if any(isinstance(d, bool) or not isinstance(d, int) for d in drops):
            raise ValueError(f"JudgingWindow: drops must be integers, got {drops!r}")
        if any(d < 2 for d in drops) or any(a >= b for a, b in itertools.pairwise(drops)):
            raise ValueError(
                f"JudgingWindow: drops must be increasing report counts >= 2, got {drops!r}"
            )
        object.__setattr__(self, "drops", drops)
        if isinstance(self.before_drop, bool) or not 0 < self.before_drop <= 1:
            raise ValueError(
                f"JudgingWindow: before_drop must be in (0, 1], got {self.before_drop!r}"
            )

    @property
    def is_empty(self) -> bool:
        return self.warmup == 0 and not self.drops

    def move(self, n: int) -> Move | None:
        """Where a decision due at report ``n`` is taken, or None to take it at ``n``."""
        if n <= self.warmup:
            target = self.warmup + 1
            after = self.move(target)  # the first report after warm-up may precede a drop
            if after is not None:
                target = after.target
            span = f"report {n} is" if self.warmup == 1 else f"reports 1-{self.warmup} are"
            return Move(n, target, f"{span} in the learning-rate warm-up")
        start = self.warmup + 1
        for drop in self.drops:
            if drop <= start:
                continue
            if n < drop:
                first = drop - math.ceil((drop - start) * self.before_drop - 1e-9)
                if n >= first:
                    after = self.move(drop)  # the drop's report may itself precede a drop
                    return Move(
                        n,
                        drop if after is None else after.target,
                        f"reports {first}-{drop - 1} precede the learning-rate drop at report "
                        f"{drop}",
                    )
                return None
            start = drop
        return None

    def sources(self, n: int) -> list[int]:
        """The reports below ``n`` whose decisions move to ``n``."""
        return [p for p in range(1, n) if (m := self.move(p)) is not None and m.target == n]
