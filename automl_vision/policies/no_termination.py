"""``NoTerminationPolicy``: every trial runs to completion."""

from __future__ import annotations

from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.policies.config import PolicyConfig
from automl_vision.policies.context import PolicyContext

__all__ = ["NoTerminationPolicy"]


class NoTerminationPolicy(PolicyConfig, EarlyTerminationPolicy):
    """Never stops a trial (the default when a sweep has no ``early_termination``)."""

    type_name = "no_termination"

    def __init__(self) -> None:
        super().__init__()

    def evaluation_points(self, max_reports: int) -> list[int]:
        return []

    def rule(self, context: PolicyContext) -> Decision:
        return Decision(False, f"report {context.n}: no early termination")
