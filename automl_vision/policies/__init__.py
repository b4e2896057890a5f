"""Early-termination policies: when to stop a trial. Pure functions of the metric history."""

from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["Decision", "EarlyTerminationPolicy", "PrimaryMetricGoal"]
