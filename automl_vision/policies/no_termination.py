"""``NoTerminationPolicy``: every trial runs to completion."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from automl_vision.policies.base import Decision
from automl_vision.policies.model import PolicyModel
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["NoTerminationPolicy"]


class NoTerminationPolicy(PolicyModel):
    """Never stops a trial (the default when a sweep has no ``early_termination``)."""

    type_name = "no_termination"

    def __init__(self) -> None:
        super().__init__()

    def evaluation_points(self, max_reports: int) -> list[int]:
        return []

    def _decide(
        self,
        trial_id: str,
        n: int,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
    ) -> Decision:
        return Decision(False, f"report {n}: no early termination")
