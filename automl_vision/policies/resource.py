"""The resource Hyperband/ASHA measure rungs in: ``Resource`` and a report's amount of it.

- ``EPOCHS`` (the default): the report count ``n`` (report ``n`` has used ``n`` units). Rungs
  are integers; this is the meaning the policies always had.
- ``FRACTION``: the fraction of the trial's learning-rate schedule done at the report
  (``Report.progress``, 0..1). Trials with schedules of different lengths are compared at the
  same point of their own schedules: a 20-report and a 100-report trial reach 1/9 at different
  report counts.
- ``SECONDS``: the trial's cumulative cost (``Report.cost``; the trainer's wall-clock seconds).

A trial reaches rung ``r`` at its FIRST report whose amount is ``>= r`` (with a relative
tolerance of ``1e-9``, so that ``(1/9) * 9`` reaches ``1``); it is judged there once, and its
value there is what others are ranked against. Reports without the field a unit needs are an
error (``ResourceError``) naming the unit and how reports carry it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from automl_vision.enums import ChoiceEnum
from automl_vision.trial import Report

__all__ = [
    "REL_TOL",
    "Resource",
    "ResourceError",
    "amount_text",
    "first_reaching",
    "parse_resource",
    "reaches",
    "resource_at",
    "resources_of",
    "unit_rungs",
]

#: relative tolerance of "reaches": float rungs such as ``(1/9) * 3**2`` still reach ``1``
REL_TOL = 1e-9


class Resource(ChoiceEnum):
    """What a Hyperband/ASHA rung counts (see the module docstring)."""

    EPOCHS = "epochs"  # the report count n
    FRACTION = "fraction"  # Report.progress: the fraction of the trial's schedule done
    SECONDS = "seconds"  # Report.cost: cumulative seconds

    @classmethod
    def _aliases(cls) -> Mapping[str, Any]:
        return {
            "epoch": cls.EPOCHS,
            "reports": cls.EPOCHS,
            "progress": cls.FRACTION,
            "schedule": cls.FRACTION,
            "cost": cls.SECONDS,
            "second": cls.SECONDS,
            "time": cls.SECONDS,
        }

    def __repr__(self) -> str:
        return repr(self.value)  # a policy's repr stays a valid constructor call


class ResourceError(ValueError):
    """A trial's reports lack what the policy's resource unit reads."""


_NEEDS = {
    Resource.FRACTION: (
        "progress",
        "(the fraction of the trial's schedule done); trainer reports carry it, optimize "
        "objectives pass report(step, value, progress=...)",
    ),
    Resource.SECONDS: (
        "cost",
        "(cumulative seconds); trainer reports carry it, optimize objectives pass "
        "report(step, value, cost=...)",
    ),
}


def parse_resource(value: Any) -> Resource:
    """``value`` as a ``Resource``; one ``ValueError`` listing the allowed units otherwise."""
    try:
        return Resource(value)
    except ValueError:
        raise ValueError(f"must be {Resource._allowed_text()}, got {value!r}") from None


def resource_at(report: Report | None, n: int, unit: Resource) -> float:
    """The amount of ``unit`` used at report ``n`` (1-based): ``n`` for ``EPOCHS`` (the report
    itself may then be None), ``report.progress`` for ``FRACTION``, ``report.cost`` for
    ``SECONDS``. Raises ``ResourceError`` when the report lacks the field."""
    if unit is Resource.EPOCHS:
        return float(n)
    field, how = _NEEDS[unit]
    value = None if report is None else getattr(report, field)
    if value is None:
        raise ResourceError(
            f"resource={unit.value!r} needs reports with {field} {how}; report {n} has none"
        )
    return float(value)


def resources_of(
    trial_id: str, reports: Mapping[str, Sequence[Report]], count: int, unit: Resource
) -> list[float]:
    """The amounts of ``unit`` at the first ``count`` reports of ``trial_id``."""
    if unit is Resource.EPOCHS:
        return [float(n) for n in range(1, count + 1)]
    own = reports.get(trial_id)
    if own is None or len(own) < count:
        field, how = _NEEDS[unit]
        have = 0 if own is None else len(own)
        raise ResourceError(
            f"resource={unit.value!r} needs reports with {field} {how}; the policy was given "
            f"{have} of trial {trial_id!r}'s {count} reports (PolicyContext.reports)"
        )
    try:
        return [resource_at(report, i + 1, unit) for i, report in enumerate(own[:count])]
    except ResourceError as err:
        raise ResourceError(f"trial {trial_id!r}: {err}") from None


def reaches(amount: float, rung: float) -> bool:
    """Whether ``amount`` has reached ``rung`` (``>=``, within ``REL_TOL``)."""
    return amount >= rung - REL_TOL * abs(rung)


def first_reaching(amounts: Sequence[float], rung: float) -> int | None:
    """The index of the first of ``amounts`` that reaches ``rung``, or None."""
    for i, amount in enumerate(amounts):
        if reaches(amount, rung):
            return i
    return None


def unit_rungs(start: float, reduction_factor: int, max_resource: float) -> list[float]:
    """``start * reduction_factor**k`` (k = 0, 1, ...) strictly below ``max_resource`` (one
    that reaches it has used the whole budget)."""
    out: list[float] = []
    k = 0
    while not reaches(start * reduction_factor**k, max_resource):
        out.append(start * reduction_factor**k)
        k += 1
    return out


def amount_text(amount: float, unit: Resource) -> str:
    """``amount`` for a reason or a plan: ``report 3``, ``fraction 0.1111``, ``120 s``."""
    if unit is Resource.EPOCHS:
        return f"report {int(amount)}"
    if unit is Resource.FRACTION:
        return f"fraction {amount:.4g}"
    return f"{amount:.4g} s"
