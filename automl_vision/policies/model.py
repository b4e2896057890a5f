"""The configured-policy base: a frozen pydantic model that is also an ``EarlyTerminationPolicy``.

Each built-in policy is a pydantic model (validated, frozen, compared by value, picklable,
``to_dict()`` for the YAML form) with a positional constructor in HyperDrive's argument order.
Invalid arguments raise ``PolicyConfigError`` (a ``ValueError``) naming the policy and the field.

``decide`` here does the bookkeeping every policy shares (goal parsing, the trial's report count,
"no reports yet") and hands the rest to ``_decide``.
"""

from __future__ import annotations

import abc
import math
import numbers
import operator
from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.policies.common import is_evaluation_point, schedule_points
from automl_vision.policies.window import JudgingWindow
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "Count",
    "Flag",
    "NonNegativeCount",
    "PolicyConfigError",
    "PolicyModel",
    "integer",
    "real",
]


class PolicyConfigError(ValueError):
    """An early-termination policy's arguments (or its YAML/dict form) are invalid."""


def integer(value: Any, minimum: int) -> int:
    """``value`` as an int ``>= minimum``; bools, floats and strings are rejected."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"must be an integer >= {minimum}, got {value!r}")
    number = operator.index(value)
    if number < minimum:
        raise ValueError(f"must be an integer >= {minimum}, got {number}")
    return number


def real(value: Any) -> float:
    """``value`` as a finite float; bools and strings are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {number}")
    return number


def flag(value: Any) -> bool:
    """``value`` as a bool; only true/false are accepted."""
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


Flag = Annotated[bool, BeforeValidator(flag)]
Count = Annotated[int, BeforeValidator(lambda v: integer(v, 1))]
NonNegativeCount = Annotated[int, BeforeValidator(lambda v: integer(v, 0))]


def _message(policy: str, err: ValidationError) -> str:
    parts = []
    for error in err.errors():
        cause = error.get("ctx", {}).get("error")
        text = str(cause) if cause is not None else error["msg"]
        field = ".".join(str(part) for part in error["loc"])
        parts.append(f"{field} {text}" if field else text)
    return f"{policy}: " + "; ".join(parts)


class PolicyModel(BaseModel, EarlyTerminationPolicy):
    """Base of the built-in policies: pydantic fields + the shared part of ``decide``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_name: ClassVar[str]  # the ``type`` of the YAML/dict form
    #: our options beyond Azure's, left out of ``to_dict`` while at their default (the Azure
    #: shape stays as it was)
    _OPT_IN: ClassVar[tuple[str, ...]] = ("schedule_aware", "promotion", "rung_system")

    def __init__(self, **fields: Any) -> None:
        try:
            super().__init__(**fields)
        except ValidationError as err:
            raise PolicyConfigError(_message(type(self).__name__, err)) from None

    def to_dict(self) -> dict[str, Any]:
        """The YAML/dict form (``type`` plus the fields that are set); ``policy_from_dict``
        turns it back into an equal policy."""
        data = self.model_dump(mode="json", exclude_none=True)
        fields = type(self).model_fields
        for name in self._OPT_IN:
            if name in data and data[name] == fields[name].default:
                del data[name]
        return {"type": self.type_name, **data}

    def decide(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str] = (),
        *,
        window: JudgingWindow | None = None,
    ) -> Decision:
        """See ``EarlyTerminationPolicy.decide``; ``window`` is the trial's judging window,
        used when the policy is ``schedule_aware`` (see ``policies/window.py``)."""
        goal = PrimaryMetricGoal.parse(goal)
        n = len(history.get(trial_id, ()))
        if n == 0:
            return Decision(False, f"{trial_id!r} has no reports yet")
        if window is not None and getattr(self, "schedule_aware", False) and not window.is_empty:
            return self._decide_in_window(trial_id, n, history, goal, finished, window)
        return self._decide(trial_id, n, history, goal, finished)

    def decide_with(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
        window: JudgingWindow | None,
    ) -> Decision:
        return self.decide(trial_id, history, goal, finished, window=window)

    def _decide_in_window(
        self,
        trial_id: str,
        n: int,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
        window: JudgingWindow,
    ) -> Decision:
        """Evaluation points on misleading reports are judged where ``window`` moves them."""
        move = window.move(n)
        if move is not None and self._is_point(trial_id, n):
            return Decision(False, f"report {n}: {move.describe()}")
        moved = [p for p in window.sources(n) if self._is_point(trial_id, p)]
        if not moved:
            return self._decide(trial_id, n, history, goal, finished)
        decision = self._judge_point(trial_id, n, history, goal, finished, moved[0])
        first = window.move(moved[0])
        assert first is not None
        sources = ", ".join(str(p) for p in moved)
        plural = "s" if len(moved) > 1 else ""
        return Decision(
            decision.stop,
            f"{decision.reason}; decision{plural} moved from report{plural} {sources} to report "
            f"{n}: {first.because}",
            pause=decision.pause,
        )

    def _is_point(self, trial_id: str, n: int) -> bool:
        """Whether report ``n`` is one of this policy's evaluation points for ``trial_id``."""
        return True

    def _judge_point(
        self,
        trial_id: str,
        n: int,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
        moved_from: int | None = None,
    ) -> Decision:
        """The decision at report ``n`` judged as an evaluation point (``moved_from``: the
        evaluation point whose decision was moved to ``n``)."""
        return self._decide(trial_id, n, history, goal, finished)

    @abc.abstractmethod
    def _decide(
        self,
        trial_id: str,
        n: int,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
    ) -> Decision:
        """``decide`` for a trial with ``n >= 1`` reports and a parsed goal."""


class IntervalPolicy(PolicyModel):
    """A policy judged at report counts that are multiples of ``evaluation_interval`` and at
    least ``delay_evaluation`` (Bandit, MedianStopping, TruncationSelection; each declares the
    two fields with its own defaults). A NaN value at an evaluation point stops the trial."""

    evaluation_interval: int
    delay_evaluation: int
    schedule_aware: Flag = False

    def evaluation_points(self, max_reports: int) -> list[int]:
        return schedule_points(max_reports, self.evaluation_interval, self.delay_evaluation)

    def _is_point(self, trial_id: str, n: int) -> bool:
        return is_evaluation_point(n, self.evaluation_interval, self.delay_evaluation)

    def _decide(
        self,
        trial_id: str,
        n: int,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
    ) -> Decision:
        if not self._is_point(trial_id, n):
            return Decision(
                False,
                f"report {n} is not an evaluation point (evaluation_interval="
                f"{self.evaluation_interval}, delay_evaluation={self.delay_evaluation})",
            )
        return self._judge_point(trial_id, n, history, goal, finished)

    def _judge_point(
        self,
        trial_id: str,
        n: int,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
        moved_from: int | None = None,
    ) -> Decision:
        value = float(history[trial_id][n - 1])
        if math.isnan(value):
            return Decision(True, f"stopped at report {n}: the value is NaN")
        return self._judge(trial_id, n, value, history, goal, finished)

    @abc.abstractmethod
    def _judge(
        self,
        trial_id: str,
        n: int,
        value: float,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
    ) -> Decision:
        """The decision at evaluation point ``n`` for the trial's (non-NaN) ``value``."""
