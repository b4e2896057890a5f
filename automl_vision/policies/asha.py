"""``HyperbandPolicy`` and ``ASHAPolicy``: asynchronous successive halving in brackets.

Report counts are the resource (epochs) unless ``resource`` says otherwise: with
``resource="fraction"`` (the fraction of each trial's schedule done, ``Report.progress``) or
``"seconds"`` (its cumulative cost, ``Report.cost``), ``min_resource``/``max_resource`` are
amounts of that unit (floats allowed; for fraction ``max_resource`` is 1.0 unless given, for
seconds it must be given), the rungs are the same formulas in that unit, and a trial is judged
at a rung at its FIRST report whose amount reaches it (``>=``; once per rung; a report passing
several rungs is judged at each, lowest first, or with ``promotion`` pauses at the highest).
Each trial it is ranked against counts with its value at its own first report reaching that
rung. ``policies/resource.py`` reads the amounts; the rest of this docstring speaks in report
counts, which is the epoch case exactly. Bracket ``b`` (``0 <= b < B``) starts at
``r_b = min_resource * reduction_factor**b`` and has rungs at ``r_b * reduction_factor**k``
(k = 0, 1, ...) strictly below ``max_resource`` (a trial at ``max_resource`` has used its whole
budget, so there is nothing left to save; with ``max_resource=None`` the rungs never end).

Brackets: ``brackets="auto"`` (the default) runs every bracket Hyperband defines,
``B = floor(log_eta(max_resource / min_resource)) + 1``, as SageMaker's and Optuna's Hyperband
do; the last one starts at or below ``max_resource``. Without ``max_resource`` no bracket count
is defined, so ``"auto"`` means one bracket until the sweep fills ``max_resource`` in from the
trials' ``number_of_epochs`` (``with_max_resource``, which ``tune()`` calls). ``brackets=1`` is
plain ASHA, also available as ``ASHAPolicy(min_resource, max_resource, reduction_factor)``.

Promotion rule (ASHA's, without pausing trials, as in Li et al. 2020 / Optuna): when a trial's
report count reaches a rung of its bracket, let ``m`` be the number of trials of that bracket
that reached the rung so far (this one included; running, stopped or finished) and
``k = max(1, floor(m / reduction_factor))``. The trial continues if it is in the top ``k`` by
value at the rung, ties in its favour (it stops only if ``k`` or more trials are strictly
better; NaN ranks last). The first trial at a rung always continues, and so does the best one.
No waiting: the decision uses the trials that reached the rung so far. Between rungs, trials
continue.

Promotion variant (``promotion=True``; Li et al.'s promotion ASHA, Syne Tune's
``type="promotion"``): a trial reaching a rung always pauses (``Decision(stop=True,
pause=True)``); it keeps its checkpoint. Whenever a worker is free the sweep first asks
``promotion_rule(paused, context)`` (or ``promote(paused, history, goal)``): a trial paused at
report ``n`` is promotable if it is in the top ``k = floor(m / reduction_factor)`` (ties in its
favour, NaN never) of the ``m`` trials of its bracket that reached report ``n`` (those promoted
past it included), so nothing is promoted from a rung before ``reduction_factor`` trials reached
it. Of several promotable trials the one paused furthest goes first, then the best value, then
the smaller id. A promoted trial resumes from its checkpoint and runs to its next rung; only when
none is promotable does the sampler propose a new trial. Once no new trial can start (the sweep's
trial count is reached or the sampler is exhausted) no rung gets more trials, so
``closing=True`` uses the stopping variant's count, the top ``max(1, m // eta)``: the best
paused trial of every rung goes on, and the sweep ends with at least one trial trained to
``max_resource``. A sweep that ends
with paused trials records them as STOPPED at the report they reached.

Rung system (``rung_system``): ``"per_bracket"`` (the default; Li et al.'s and Optuna's
Hyperband) ranks a trial at a rung among the trials *of its own bracket* that reached it;
``"shared"`` (Syne Tune's default for its Hyperband) ranks it among *every* trial that reached
that report count, whatever its bracket. The brackets still decide where each trial is first
judged (its bracket's first rung), but every decision sees all the data at its report count, so
rungs fill up ``B`` times faster and promotions come sooner. With an epoch budget ``"shared"``
measured better on the recorded-curve search; in sweeps bounded by a trial count it did not, so
``tune()`` keeps ``"per_bracket"`` (``benchmarks/RESULTS.md``, ``planning/defaults.py``). With
one bracket (ASHA) both are the same rule.

With ``schedule_aware=True`` a rung on a misleading report (warm-up, just before a
learning-rate drop) is judged at the report ``policies/window.py`` moves it to.

Bracket assignment (Hyperband's budget split, deterministic, independent of how ids are
written): bracket ``b`` gets weight ``w_b = ceil(B * eta**(B-1-b) / (B - b))`` (most trials in
the aggressive brackets, so that every bracket uses about the same number of epochs). The
weights are laid out as one sequence that interleaves the brackets (bracket ``b`` at positions
``(j + 1/2) / w_b``, j < w_b, merged in order, ties to the lower bracket; for B=2, eta=3 it is
``0, 1, 0, 1, 0``). A trial takes the entry at ``H(id) mod len(sequence)``, where ``H`` is the
first 8 bytes of the BLAKE2b digest of the id: the id is an opaque key (``trial_0007``, ``7`` and
``run-x`` are treated alike, nothing is parsed out of it), so a bracket is a pure function of the
trial, stable across resumes and replays, and the brackets receive trials in proportion to
their weights.
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
from collections.abc import Collection
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, model_validator

from automl_vision.enums import ChoiceEnum
from automl_vision.policies.base import Decision, EarlyTerminationPolicy, Promotion
from automl_vision.policies.common import count_better, fmt, kth_best, ordinal, worse
from automl_vision.policies.config import Flag, PolicyConfig, integer, real
from automl_vision.policies.context import PolicyContext
from automl_vision.policies.resource import (
    Resource,
    amount_text,
    first_reaching,
    parse_resource,
    reaches,
    resources_of,
    unit_rungs,
)
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "ASHAPolicy",
    "HyperbandPolicy",
    "RungSystem",
    "auto_brackets",
    "bracket_sequence",
    "bracket_weights",
    "promotion_count",
    "promotion_top",
    "rung_schedule",
]

ReductionFactor = Annotated[int, BeforeValidator(lambda v: integer(v, 2))]


def _amount(value: Any) -> int | float:
    """A rung bound: an integer >= 1 stays an int; a finite real > 0 is a float (allowed only
    with ``resource`` ``fraction`` or ``seconds``, checked with the other fields)."""
    if not isinstance(value, bool) and hasattr(value, "__index__"):
        return integer(value, 1)
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        number = real(value)
        if number <= 0:
            raise ValueError(f"must be > 0, got {number}")
        return number
    raise ValueError(
        f"must be an integer >= 1 (with resource='fraction' or 'seconds': a number > 0), "
        f"got {value!r}"
    )


Amount = Annotated[int | float, BeforeValidator(_amount)]


class RungSystem(ChoiceEnum):
    """Whom a trial is ranked against at a rung (see the module docstring)."""

    PER_BRACKET = "per_bracket"  # the trials of its own bracket that reached the rung
    SHARED = "shared"  # every trial that reached the rung's report count

    def __repr__(self) -> str:
        return repr(self.value)  # a policy's repr stays a valid constructor call


def _rung_system(value: Any) -> RungSystem:
    try:
        return RungSystem(value)
    except ValueError:
        raise ValueError(f"must be {RungSystem._allowed_text()}, got {value!r}") from None


AUTO = "auto"


def _brackets(value: Any) -> Any:
    if isinstance(value, str):
        if value.strip().lower() == AUTO:
            return AUTO
        raise ValueError(f"must be 'auto' or an integer >= 1, got {value!r}")
    try:
        return integer(value, 1)
    except ValueError:
        raise ValueError(f"must be 'auto' or an integer >= 1, got {value!r}") from None


Brackets = Annotated[int | Literal["auto"], BeforeValidator(_brackets)]


def auto_brackets(min_resource: int, max_resource: int, reduction_factor: int) -> int:
    """``floor(log_eta(max_resource / min_resource)) + 1``, in exact integer arithmetic."""
    count, start = 1, min_resource * reduction_factor
    while start <= max_resource:
        count += 1
        start *= reduction_factor
    return count


def _position(trial_id: str, length: int) -> int:
    digest = hashlib.blake2b(str(trial_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % length


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


def promotion_top(reached: int, reduction_factor: int) -> int:
    """How many of the ``reached`` trials at a rung may be promoted from a pause:
    ``reached // eta`` (none until ``eta`` trials reached it; Li et al.'s rule)."""
    return reached // reduction_factor


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


class HyperbandPolicy(PolicyConfig, EarlyTerminationPolicy):
    """Successive halving at rungs ``min_resource * eta**k`` in every bracket Hyperband
    defines (``brackets="auto"``) or in ``brackets`` of them; ``brackets=1`` is ASHA."""

    type_name = "hyperband"

    min_resource: Amount = 1
    max_resource: Amount | None = None
    reduction_factor: ReductionFactor = 3
    brackets: Brackets = AUTO
    schedule_aware: Flag = False
    promotion: Flag = False
    rung_system: Annotated[RungSystem, BeforeValidator(_rung_system)] = RungSystem.PER_BRACKET
    resource: Annotated[Resource, BeforeValidator(parse_resource)] = Resource.EPOCHS

    def __init__(
        self,
        min_resource: float = 1,
        max_resource: float | None = None,
        reduction_factor: int = 3,
        brackets: int | str = AUTO,
        *,
        schedule_aware: bool = False,
        promotion: bool = False,
        rung_system: RungSystem | str = RungSystem.PER_BRACKET,
        resource: Resource | str = Resource.EPOCHS,
    ) -> None:
        super().__init__(
            min_resource=min_resource,
            max_resource=max_resource,
            reduction_factor=reduction_factor,
            brackets=brackets,
            schedule_aware=schedule_aware,
            promotion=promotion,
            rung_system=rung_system,
            resource=resource,
        )

    @model_validator(mode="before")
    @classmethod
    def _fraction_budget(cls, data: Any) -> Any:
        # with resource="fraction" the whole schedule (1.0) is the budget unless given
        if isinstance(data, dict) and data.get("max_resource") is None:
            try:
                unit = Resource(data.get("resource", Resource.EPOCHS))
            except ValueError:
                return data  # the field's validator says what is allowed
            if unit is Resource.FRACTION:
                return {**data, "max_resource": 1.0}
        return data

    @model_validator(mode="after")
    def _resources(self) -> Any:
        self._check_unit()
        if self.max_resource is None:
            return self
        if self.min_resource > self.max_resource:
            raise ValueError(
                f"min_resource must be <= max_resource, got min_resource={self.min_resource} "
                f"> max_resource={self.max_resource}"
            )
        last = self.bracket_min_resource(self.bracket_count - 1)
        if last > self.max_resource and (
            self.resource is Resource.EPOCHS or not reaches(self.max_resource, last)
        ):
            raise ValueError(
                f"brackets={self.brackets} is too many: the last bracket would start at "
                f"min_resource * reduction_factor**{self.brackets - 1} = {last} > "
                f"max_resource={self.max_resource}"
            )
        return self

    def _check_unit(self) -> None:
        unit = self.resource
        if unit is Resource.EPOCHS:
            for name in ("min_resource", "max_resource"):
                value = getattr(self, name)
                if value is not None and not isinstance(value, int):
                    raise ValueError(
                        f"{name} must be an integer >= 1, got {value} (fractional rungs need "
                        f"resource='fraction' or 'seconds')"
                    )
            return
        if self.schedule_aware:
            raise ValueError(
                f"schedule_aware=True needs resource='epochs', got resource={unit.value!r} "
                f"(rungs in {unit.value} are judged at the first report that reaches them)"
            )
        if unit is Resource.FRACTION:
            for name in ("min_resource", "max_resource"):
                value = getattr(self, name)
                if not 0 < value <= 1:
                    raise ValueError(
                        f"with resource='fraction' {name} must be in (0, 1] (a fraction of the "
                        f"trial's schedule), got {value}"
                    )
        if unit is Resource.SECONDS and self.max_resource is None:
            raise ValueError(
                "resource='seconds' needs max_resource: the most seconds one trial may train "
                "(e.g. one full training's seconds); pass max_resource=<seconds>"
            )

    # -- value semantics -----------------------------------------------------------------------
    def _key(self) -> tuple[Any, ...]:
        key: tuple[Any, ...] = (
            self.min_resource,
            self.max_resource,
            self.reduction_factor,
            self._bracket_key(),
            self.schedule_aware,
            self.promotion,
            self._rung_key(),
        )
        return key if self.resource is Resource.EPOCHS else (*key, self.resource)

    def _rung_key(self) -> RungSystem:
        # with one bracket both rung systems are the same rule
        return RungSystem.PER_BRACKET if self._bracket_key() == 1 else self.rung_system

    def _bracket_key(self) -> int | str:
        # "auto" without max_resource is not a number yet: it stays "auto" so that the sweep
        # filling max_resource in later gives the same policy as writing it out
        if self.brackets == AUTO and self.max_resource is None:
            return AUTO
        return self.bracket_count

    def __eq__(self, other: object) -> bool:
        """Equal when they decide alike: ``HyperbandPolicy(1, 27)`` equals
        ``HyperbandPolicy(1, 27, 3, 4)``, and ``ASHAPolicy(...)`` its ``brackets=1`` form."""
        if not isinstance(other, HyperbandPolicy):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(("hyperband", *self._key()))

    def with_max_resource(self, max_resource: int) -> HyperbandPolicy:
        """This policy with ``max_resource`` filled in (the sweep's most epochs) when unset."""
        if self.max_resource is not None:
            return self
        fields = {k: v for k, v in self.model_dump().items() if k in type(self).model_fields}
        fields["max_resource"] = max(int(max_resource), self.min_resource)
        return type(self)(**{k: v for k, v in fields.items() if k in self._init_fields()})

    @classmethod
    def _init_fields(cls) -> tuple[str, ...]:
        return (
            "min_resource",
            "max_resource",
            "reduction_factor",
            "brackets",
            "schedule_aware",
            "promotion",
            "rung_system",
            "resource",
        )

    # -- schedule ------------------------------------------------------------------------------
    @property
    def bracket_count(self) -> int:
        """How many brackets run: ``brackets``, or for ``"auto"`` every bracket Hyperband
        defines between ``min_resource`` and ``max_resource`` (1 without ``max_resource``)."""
        if self.brackets != AUTO:
            return int(self.brackets)
        if self.max_resource is None:
            return 1
        if self.resource is not Resource.EPOCHS:
            count = 1
            while reaches(self.max_resource, self.min_resource * self.reduction_factor**count):
                count += 1
            return count
        return auto_brackets(self.min_resource, self.max_resource, self.reduction_factor)

    def bracket_min_resource(self, bracket: int) -> Any:
        """Where ``bracket``'s first rung is: ``min_resource * reduction_factor**bracket`` (an
        int for epochs, a float in the unit otherwise)."""
        return self.min_resource * self.reduction_factor**bracket

    def rungs(self, bracket: int = 0, max_reports: int | None = None) -> list[Any]:
        """The rungs of ``bracket``: report counts up to ``max_reports`` when given; with
        ``resource`` fraction or seconds, amounts of that unit below ``max_resource``
        (``max_reports`` does not apply)."""
        if not 0 <= bracket < self.bracket_count:
            raise ValueError(f"bracket must be in [0, {self.bracket_count - 1}], got {bracket}")
        if self.resource is not Resource.EPOCHS:
            assert self.max_resource is not None  # validated: fraction and seconds have one
            start = self.bracket_min_resource(bracket)
            return unit_rungs(start, self.reduction_factor, self.max_resource)
        limit = max_reports if max_reports is not None else self.max_resource
        if limit is None:
            raise ValueError("rungs(): give max_reports when max_resource is None")
        start = self.bracket_min_resource(bracket)
        return rung_schedule(start, self.reduction_factor, self.max_resource, limit)

    def evaluation_points(self, max_reports: int) -> list[int]:
        """The report counts that may be judged; with fraction or seconds any report may be the
        first to reach a rung, so every report in ``1..max_reports``."""
        if self.resource is not Resource.EPOCHS:
            return list(range(1, max_reports + 1))
        return sorted({r for b in range(self.bracket_count) for r in self.rungs(b, max_reports)})

    def bracket_of(self, trial_id: str) -> int:
        """The bracket of ``trial_id`` (see the module docstring); always 0 for ASHA."""
        count = self.bracket_count
        if count == 1:
            return 0
        sequence = bracket_sequence(count, self.reduction_factor)
        return sequence[_position(trial_id, len(sequence))]

    def _is_rung(self, n: int, bracket: int) -> bool:
        start = self.bracket_min_resource(bracket)
        if n < start or n % start or (self.max_resource is not None and n >= self.max_resource):
            return False
        return _is_power(n // start, self.reduction_factor)

    # -- decision ------------------------------------------------------------------------------
    def _where(self, bracket: int) -> str:
        if self.bracket_count == 1:
            return ""
        if self.rung_system is RungSystem.SHARED:
            return f" of bracket {bracket} (rungs shared by all brackets)"
        return f" of bracket {bracket}"

    def _is_point(self, trial_id: str, n: int) -> bool:
        return self._is_rung(n, self.bracket_of(trial_id))

    def _at_report(self, context: PolicyContext) -> list[float]:
        """The values at report ``n`` of the trials ``context.trial_id`` is ranked against that
        reached it: those of its bracket, or with shared rungs every trial."""
        n, shared = context.n, self.rung_system is RungSystem.SHARED
        bracket = self.bracket_of(context.trial_id)
        return [
            float(values[n - 1])
            for other, values in context.reached(n).items()
            if shared or other == context.trial_id or self.bracket_of(other) == bracket
        ]

    def rule(self, context: PolicyContext) -> Decision:
        if self.resource is not Resource.EPOCHS:
            return self._rule_in_unit(context)
        n, goal = context.n, context.goal
        where = self._where(self.bracket_of(context.trial_id))
        if not self._is_point(context.trial_id, context.point):
            return Decision(False, f"report {n} is not a rung{where}")
        rung = f"rung {context.point}{where}"
        if context.moved_from is not None:
            rung += f" (at report {n})"
            if self.max_resource is not None and n >= self.max_resource:
                return Decision(False, f"{rung}: report {n} uses the whole budget, no decision")
        value = context.value
        if math.isnan(value):
            return Decision(True, f"stopped at {rung}: the value is NaN")
        return self._at_rung_decision(
            value, self._at_report(context), goal, rung, f"report {n}", each_first=False
        )

    def _at_rung_decision(
        self,
        value: float,
        at_rung: list[float],
        goal: PrimaryMetricGoal,
        label: str,
        place: str,
        *,
        each_first: bool,
    ) -> Decision:
        """The decision at a rung (``label`` in the reason) for a trial with ``value`` among
        the ``at_rung`` values (``place``: where they were reported; ``each_first``: each at its
        first report reaching the rung): pause (with promotion), or stop when at least
        ``max(1, m // eta)`` of them are strictly better, else continue."""
        m = len(at_rung)
        trials = f"{m} trial{'s' if m != 1 else ''} at {place}"
        if self.promotion:
            better = count_better(value, at_rung, goal)
            return Decision(
                True,
                f"paused at {label}: {fmt(value)}, {better} of {trials} better; promoted once "
                f"it is in the top m // {self.reduction_factor} of the m trials there",
                pause=True,
            )
        k = promotion_count(m, self.reduction_factor)
        cutoff = kth_best(at_rung, k, goal)
        first = ", each at its first report there" if each_first else ""
        detail = (
            f"cut-off = the {ordinal(k)} best of {trials}{first}; "
            f"top max(1, {m} // {self.reduction_factor}) = {k} continue"
        )
        if count_better(value, at_rung, goal) >= k:
            return Decision(
                True, f"stopped at {label}: {fmt(value)} is worse than {fmt(cutoff)} ({detail})"
            )
        return Decision(False, f"{label}: {fmt(value)} is not worse than {fmt(cutoff)} ({detail})")

    def promotion_rule(
        self, paused: Collection[str], context: PolicyContext, *, closing: bool = False
    ) -> Promotion | None:
        """Asynchronous successive halving's promotion (with ``promotion=True``): a trial
        paused at report ``n`` continues if it is in the top ``m // eta`` (ties in its favour)
        of the ``m`` trials of its bracket that reached report ``n``. Of several, the one paused
        furthest goes first, then the best value, then the smaller trial id.

        ``closing`` (no new trial can start, so no rung will get more trials): the top
        ``max(1, m // eta)``, the stopping variant's rule, so the best trial at every rung goes
        on even where fewer than ``eta`` trials reached it, and the sweep ends with at least
        one trial trained to ``max_resource``."""
        if not self.promotion:
            return None
        if self.resource is not Resource.EPOCHS:
            return self._promotion_in_unit(paused, context, closing=closing)
        goal = context.goal
        found: tuple[int, float, str, int, int] | None = None  # n, value, id, m, k
        for trial_id in sorted(paused):
            trial = context.about(trial_id)
            n = trial.n
            if n == 0 or math.isnan(trial.value):
                continue
            value = trial.value
            at_rung = self._at_report(trial)
            m = len(at_rung)
            k = (promotion_count if closing else promotion_top)(m, self.reduction_factor)
            if count_better(value, at_rung, goal) >= k:
                continue
            if found is None or n > found[0] or (n == found[0] and worse(found[1], value, goal)):
                found = (n, value, trial_id, m, k)
        if found is None:
            return None
        n, value, trial_id, m, k = found
        where = f"report {n}{self._where(self.bracket_of(trial_id))}"
        if closing:
            return Promotion(
                trial_id,
                f"promoted from {where} as the sweep closes (no new trial can start): "
                f"{fmt(value)} is in the top max(1, {m} // {self.reduction_factor}) = {k} of the "
                f"{m} trials at report {n}",
            )
        return Promotion(
            trial_id,
            f"promoted from {where}: {fmt(value)} is "
            f"in the top {m} // {self.reduction_factor} = {k} of the {m} trials at report {n}",
        )

    # -- rungs in fraction or seconds --------------------------------------------------------
    def _amounts(self, context: PolicyContext, trial_id: str) -> list[float]:
        count = len(context.history.get(trial_id, ()))
        return resources_of(trial_id, context.reports, count, self.resource)

    def _at_rung(self, context: PolicyContext, rung: float, bracket: int) -> list[float]:
        """The values of the trials ranked with ``context.trial_id`` (its bracket's, or with
        shared rungs every trial) that reached ``rung``, each at its first report reaching it."""
        shared = self.rung_system is RungSystem.SHARED
        out = []
        for other, values in context.history.items():
            if not (shared or other == context.trial_id or self.bracket_of(other) == bracket):
                continue
            index = first_reaching(self._amounts(context, other), rung)
            if index is not None:
                out.append(float(values[index]))
        return out

    def _rule_in_unit(self, context: PolicyContext) -> Decision:
        """``rule`` with rungs in fraction or seconds: report ``n`` is judged at every rung of
        the trial's bracket that it is the first report to reach (usually none or one)."""
        n, goal, unit = context.n, context.goal, self.resource
        bracket = self.bracket_of(context.trial_id)
        where = self._where(bracket)
        amounts = self._amounts(context, context.trial_id)
        now = amounts[n - 1]
        crossed = [
            rung
            for rung in self.rungs(bracket)
            if first_reaching(amounts, rung) == n - 1  # its first report there: judged once
        ]
        at = f"report {n}, {amount_text(now, unit)}"
        if not crossed:
            return Decision(False, f"{at}: reaches no new rung{where}")
        assert self.max_resource is not None
        if reaches(now, self.max_resource):
            return Decision(False, f"{at}: uses the whole budget, no decision")
        value = context.value
        reason = ""
        if self.promotion:
            crossed = crossed[-1:]  # a paused trial is ranked at the furthest rung it reached
        for rung in crossed:
            label = f"rung {amount_text(rung, unit)}{where} ({at})"
            if math.isnan(value):
                return Decision(True, f"stopped at {label}: the value is NaN")
            decision = self._at_rung_decision(
                value,
                self._at_rung(context, rung, bracket),
                goal,
                label,
                amount_text(rung, unit),
                each_first=True,
            )
            if decision.stop:
                return decision
            reason = decision.reason
        return Decision(False, reason)

    def _promotion_in_unit(
        self, paused: Collection[str], context: PolicyContext, *, closing: bool
    ) -> Promotion | None:
        """``promotion_rule`` with rungs in fraction or seconds: a paused trial is ranked at
        the highest rung its latest report reached; the furthest rung goes first."""
        goal, unit = context.goal, self.resource
        found: tuple[float, float, str, int, int] | None = None  # rung, value, id, m, k
        for trial_id in sorted(paused):
            trial = context.about(trial_id)
            if trial.n == 0 or math.isnan(trial.value):
                continue
            bracket = self.bracket_of(trial_id)
            now = self._amounts(trial, trial_id)[-1]
            reached = [rung for rung in self.rungs(bracket) if reaches(now, rung)]
            if not reached:
                continue
            rung, value = reached[-1], trial.value
            at_rung = self._at_rung(trial, rung, bracket)
            m = len(at_rung)
            k = (promotion_count if closing else promotion_top)(m, self.reduction_factor)
            if count_better(value, at_rung, goal) >= k:
                continue
            if (
                found is None
                or rung > found[0]
                or (rung == found[0] and worse(found[1], value, goal))
            ):
                found = (rung, value, trial_id, m, k)
        if found is None:
            return None
        rung, value, trial_id, m, k = found
        where = f"rung {amount_text(rung, unit)}{self._where(self.bracket_of(trial_id))}"
        top = (
            f"max(1, {m} // {self.reduction_factor})"
            if closing
            else f"{m} // {self.reduction_factor}"
        )
        why = " as the sweep closes (no new trial can start)" if closing else ""
        return Promotion(
            trial_id,
            f"promoted from {where}{why}: {fmt(value)} is in the top {top} = {k} of the {m} "
            f"trials that reached it",
        )


class ASHAPolicy(HyperbandPolicy):
    """``HyperbandPolicy`` with one bracket: asynchronous successive halving (ASHA)."""

    type_name = "asha"

    brackets: Literal[1] = 1

    def __init__(
        self,
        min_resource: float = 1,
        max_resource: float | None = None,
        reduction_factor: int = 3,
        *,
        schedule_aware: bool = False,
        promotion: bool = False,
        resource: Resource | str = Resource.EPOCHS,
    ) -> None:
        PolicyConfig.__init__(
            self,
            min_resource=min_resource,
            max_resource=max_resource,
            reduction_factor=reduction_factor,
            schedule_aware=schedule_aware,
            promotion=promotion,
            resource=resource,
        )

    @classmethod
    def _init_fields(cls) -> tuple[str, ...]:
        return (
            "min_resource",
            "max_resource",
            "reduction_factor",
            "schedule_aware",
            "promotion",
            "resource",
        )

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.pop("brackets", None)
        return data

    def __repr__(self) -> str:
        switches = "".join(
            f", {name}=True" for name in ("schedule_aware", "promotion") if getattr(self, name)
        )
        if self.resource is not Resource.EPOCHS:
            switches += f", resource={self.resource!r}"
        return (
            f"ASHAPolicy(min_resource={self.min_resource}, max_resource={self.max_resource}, "
            f"reduction_factor={self.reduction_factor}{switches})"
        )
