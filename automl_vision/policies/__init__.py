"""Early-termination policies: when to stop a trial. Pure functions of the metric history.

``BanditPolicy``, ``MedianStoppingPolicy``, ``TruncationSelectionPolicy``, ``NoTerminationPolicy``
(HyperDrive's names and constructors), ``HyperbandPolicy`` (every bracket by default) and
``ASHAPolicy`` (one bracket), with rungs in epochs, schedule fraction or seconds
(``Resource``), all ``EarlyTerminationPolicy``; ``FrontAwarePolicy`` wraps one of
them for a sweep with objectives known before training (it keeps only the stops of trials that
another trial dominates). Each one answers
``judge(PolicyContext) -> Decision(stop, reason)`` (what the sweep calls), the same with loose
arguments as ``decide(trial_id, history, goal, finished=())``, and ``should_stop(...)``, its
boolean. ``policy_from_dict`` reads the YAML/dict and text forms.

May import the foundations (``trial``, ``enums``), ``pareto`` and ``curves`` only: no clocks, no
I/O, no torch.
"""

from automl_vision.policies.asha import ASHAPolicy, HyperbandPolicy, RungSystem
from automl_vision.policies.bandit import BanditPolicy
from automl_vision.policies.base import Decision, EarlyTerminationPolicy, Promotion
from automl_vision.policies.config import PolicyConfigError
from automl_vision.policies.context import PolicyContext
from automl_vision.policies.curve import CurvePolicy
from automl_vision.policies.from_dict import POLICY_TYPES, parse_policy, policy_from_dict
from automl_vision.policies.front import FrontAwarePolicy
from automl_vision.policies.median import MedianStoppingPolicy
from automl_vision.policies.no_termination import NoTerminationPolicy
from automl_vision.policies.resource import Resource, ResourceError
from automl_vision.policies.truncation import TruncationSelectionPolicy
from automl_vision.policies.window import JudgingWindow, Move
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "POLICY_TYPES",
    "ASHAPolicy",
    "BanditPolicy",
    "CurvePolicy",
    "Decision",
    "EarlyTerminationPolicy",
    "FrontAwarePolicy",
    "HyperbandPolicy",
    "JudgingWindow",
    "MedianStoppingPolicy",
    "Move",
    "NoTerminationPolicy",
    "PolicyConfigError",
    "PolicyContext",
    "PrimaryMetricGoal",
    "Promotion",
    "Resource",
    "ResourceError",
    "RungSystem",
    "TruncationSelectionPolicy",
    "parse_policy",
    "policy_from_dict",
]
