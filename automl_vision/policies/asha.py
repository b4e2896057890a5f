"""``HyperbandPolicy``: asynchronous successive halving (ASHA) in one or more brackets.

Report counts are the resource (epochs). Bracket ``b`` (``0 <= b < brackets``) starts at
``r_b = min_resource * reduction_factor**b`` and has rungs at ``r_b * reduction_factor**k``
(k = 0, 1, ...) strictly below ``max_resource`` (a trial at ``max_resource`` has used its whole
budget, so there is nothing left to save; with ``max_resource=None`` the rungs never end).
``brackets=1`` is plain ASHA.

Promotion rule (ASHA's, without pausing trials, as in Li et al. 2020 / Optuna): when a trial's
report count reaches a rung of its bracket, let ``m`` be the number of trials of that bracket
that reached the rung so far (this one included; running, stopped or finished) and
``k = max(1, floor(m / reduction_factor))``. The trial continues if it is in the top ``k`` by
value at the rung, ties in its favour (it stops only if ``k`` or more trials are strictly
better; NaN ranks last). The first trial at a rung always continues, and so does the best one.
No waiting: the decision uses the trials that reached the rung so far. Between rungs, trials
continue.

Bracket assignment (Hyperband's budget split, deterministic): bracket ``b`` gets weight
``w_b = ceil(B * eta**(B-1-b) / (B - b))`` for ``B = brackets`` (most trials in the aggressive
brackets, so that every bracket uses about the same number of epochs). The weights are laid out
as one repeating sequence that interleaves the brackets (bracket ``b`` at positions
``(j + 1/2) / w_b``, j < w_b, merged in order, ties to the lower bracket; for B=2, eta=3 it is
``0, 1, 0, 1, 0``). A trial whose id ends in digits (``trial_0007``) takes the sequence entry at
that index modulo its length; any other id takes the entry at ``crc32(id)`` modulo the length.
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from collections.abc import Collection, Mapping, Sequence
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator

from automl_vision.policies.base import Decision
from automl_vision.policies.common import count_better, fmt, kth_best, ordinal
from automl_vision.policies.model import Count, PolicyModel, integer
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "HyperbandPolicy",
    "bracket_sequence",
    "bracket_weights",
    "promotion_count",
    "rung_schedule",
]

ReductionFactor = Annotated[int, BeforeValidator(lambda v: integer(v, 2))]

_TRAILING_DIGITS = re.compile(r"(\d+)$")


def rung_schedule(
    min_resource: int, reduction_factor: int, max_resource: int | None, limit: int
) -> list[int]:
    """``min_resource * reduction_factor**k`` below ``max_resource`` and at most ``limit``."""
    out = []
    rung = min_resource
    while rung <= limit and (max_resource is None or rung < max_resource):
        out.append(rung)
        rung *= reduction_factor
    return out


def promotion_count(reached: int, reduction_factor: int) -> int:
    """How many of the ``reached`` trials at a rung continue: ``max(1, reached // eta)``."""
    return max(1, reached // reduction_factor)


def bracket_weights(brackets: int, reduction_factor: int) -> list[int]:
    """Hyperband's number of trials per bracket, bracket 0 (the most aggressive) first."""
    return [
        -(-brackets * reduction_factor ** (brackets - 1 - b) // (brackets - b))
        for b in range(brackets)
    ]


@functools.lru_cache(maxsize=64)
def bracket_sequence(brackets: int, reduction_factor: int) -> tuple[int, ...]:
    """The repeating bracket sequence that trial indices walk through (interleaved weights)."""
    points = [
        (Fraction(2 * j + 1, 2 * weight), b)
        for b, weight in enumerate(bracket_weights(brackets, reduction_factor))
        for j in range(weight)
    ]
    return tuple(b for _, b in sorted(points))


def _is_power(ratio: int, base: int) -> bool:
    while ratio % base == 0:
        ratio //= base
    return ratio == 1


class HyperbandPolicy(PolicyModel):
    """Successive halving at rungs ``min_resource * eta**k``; ``brackets > 1`` is Hyperband."""

    type_name = "hyperband"

    min_resource: Count = 1
    max_resource: Count | None = None
    reduction_factor: ReductionFactor = 3
    brackets: Count = 1

    def __init__(
        self,
        min_resource: int = 1,
        max_resource: int | None = None,
        reduction_factor: int = 3,
        brackets: int = 1,
    ) -> None:
        super().__init__(
            min_resource=min_resource,
            max_resource=max_resource,
            reduction_factor=reduction_factor,
            brackets=brackets,
        )

    @model_validator(mode="after")
    def _resources(self) -> Any:
        if self.max_resource is None:
            return self
        if self.min_resource > self.max_resource:
            raise ValueError(
                f"min_resource must be <= max_resource, got min_resource={self.min_resource} "
                f"> max_resource={self.max_resource}"
            )
        last = self.bracket_min_resource(self.brackets - 1)
        if last > self.max_resource:
            raise ValueError(
                f"brackets={self.brackets} is too many: the last bracket would start at "
                f"min_resource * reduction_factor**{self.brackets - 1} = {last} > "
                f"max_resource={self.max_resource}"
            )
        return self

    # -- schedule ------------------------------------------------------------------------------
    def bracket_min_resource(self, bracket: int) -> int:
        """Where ``bracket``'s first rung is: ``min_resource * reduction_factor**bracket``."""
        return self.min_resource * self.reduction_factor**bracket

    def rungs(self, bracket: int = 0, max_reports: int | None = None) -> list[int]:
        """The rungs of ``bracket`` (report counts), up to ``max_reports`` when given."""
        if not 0 <= bracket < self.brackets:
            raise ValueError(f"bracket must be in [0, {self.brackets - 1}], got {bracket}")
        limit = max_reports if max_reports is not None else self.max_resource
        if limit is None:
            raise ValueError("rungs(): give max_reports when max_resource is None")
        start = self.bracket_min_resource(bracket)
        return rung_schedule(start, self.reduction_factor, self.max_resource, limit)

    def evaluation_points(self, max_reports: int) -> list[int]:
        return sorted({r for b in range(self.brackets) for r in self.rungs(b, max_reports)})

    def bracket_of(self, trial_id: str) -> int:
        """The bracket of ``trial_id`` (see the module docstring); always 0 for ASHA."""
        if self.brackets == 1:
            return 0
        sequence = bracket_sequence(self.brackets, self.reduction_factor)
        name = str(trial_id)
        match = _TRAILING_DIGITS.search(name)
        position = int(match.group(1)) if match else zlib.crc32(name.encode("utf-8"))
        return sequence[position % len(sequence)]

    def _is_rung(self, n: int, bracket: int) -> bool:
        start = self.bracket_min_resource(bracket)
        if n < start or n % start or (self.max_resource is not None and n >= self.max_resource):
            return False
        return _is_power(n // start, self.reduction_factor)

    # -- decision ------------------------------------------------------------------------------
    def _decide(
        self,
        trial_id: str,
        n: int,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
    ) -> Decision:
        bracket = self.bracket_of(trial_id)
        where = f" of bracket {bracket}" if self.brackets > 1 else ""
        if not self._is_rung(n, bracket):
            return Decision(False, f"report {n} is not a rung{where}")
        value = float(history[trial_id][n - 1])
        if math.isnan(value):
            return Decision(True, f"stopped at rung {n}{where}: the value is NaN")
        at_rung = [
            float(values[n - 1])
            for other, values in history.items()
            if len(values) >= n and (other == trial_id or self.bracket_of(other) == bracket)
        ]
        m = len(at_rung)
        k = promotion_count(m, self.reduction_factor)
        cutoff = kth_best(at_rung, k, goal)
        detail = (
            f"cut-off = the {ordinal(k)} best of {m} trial{'s' if m != 1 else ''} at report {n}; "
            f"top max(1, {m} // {self.reduction_factor}) = {k} continue"
        )
        if count_better(value, at_rung, goal) >= k:
            return Decision(
                True,
                f"stopped at rung {n}{where}: {fmt(value)} is worse than {fmt(cutoff)} ({detail})",
            )
        return Decision(
            False, f"rung {n}{where}: {fmt(value)} is not worse than {fmt(cutoff)} ({detail})"
        )
