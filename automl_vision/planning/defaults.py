"""tune()'s defaults: the sampler and early-termination policy it uses when none is given, and a
sweep's known-good first trial (Azure's defaults, wherever the search space allows them).

The defaults follow the multi-fidelity benchmarks (``benchmarks/RESULTS.md``, section
"Multi-fidelity search on recorded curves": real learning curves replayed as a search).
Sampler: Bayesian (joint GP over configuration x log-resource), at or below random search's
median regret without termination, with MedianStopping and with Hyperband on both curve files.
Policy: Hyperband with every bracket, each bracket ranking its own trials, first rung at about a
ninth of the epochs. tune() sweeps are bounded by a trial count (20 by default), and in the
trial-bounded benchmark (``benchmarks/multifidelity_trials.py``, 20 and 60 trials) this has the
lowest summed regret of the combinations that stop trials early, with 40-60% of the epochs.
With an epoch budget instead, Hyperband with shared rungs from report 1 measured best (and at or
below every peer at 10 seeds), but with 20 trials it is too aggressive (0.034 vs 0.025 regret on
the ResNets); with the same first rung shared and per-bracket rungs were a wash in both settings,
so the default kept its rung system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from automl_vision.policies import EarlyTerminationPolicy, HyperbandPolicy
from automl_vision.sampling.base import Suggestion
from automl_vision.space import Distribution, ParameterSpace, azure_defaults, choice

__all__ = ["DEFAULT_SAMPLING", "default_configuration", "default_policy", "default_suggestion"]

DEFAULT_SAMPLING = "bayesian"


def default_policy(max_epochs: int) -> tuple[EarlyTerminationPolicy, str]:
    """The early-termination policy for trials of at most ``max_epochs`` reports, and the line
    the plan says about it: Hyperband with every bracket, first rung at about a ninth of the
    epochs (the policies benchmark's choice of first rung)."""
    min_resource = max(1, round(max_epochs / 9))
    policy = HyperbandPolicy(min_resource=min_resource, max_resource=max(max_epochs, min_resource))
    said = (
        f"early termination: HyperbandPolicy(min_resource={min_resource}, "
        f"max_resource={policy.max_resource}, reduction_factor=3, brackets='auto') = "
        f"{policy.bracket_count} bracket(s) (pass NoTerminationPolicy() for none)"
    )
    return policy, said


def default_configuration(space: ParameterSpace, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """One configuration of ``space``: each searched parameter takes ``defaults[name]`` when the
    distribution can produce it, else the first option of a choice or the distribution's median.
    Conditions are respected (inactive parameters are left out)."""
    config: dict[str, Any] = {}
    for name, spec in space.parameters.items():
        if not space.is_active(name, config):
            continue
        if not isinstance(spec, Distribution):
            config[name] = spec
            continue
        wanted = defaults.get(name)
        if wanted is not None and spec.support.contains(wanted):
            config[name] = wanted
        elif isinstance(spec, choice):
            config[name] = spec.options[0]
        else:
            config[name] = spec.from_unit(0.5)
    return config


def default_suggestion(spaces: Sequence[ParameterSpace], multilabel: bool) -> Suggestion:
    """The first sub-space's default configuration, with Azure's defaults for its model."""
    space = spaces[0]
    model = space.fixed.get("model_name")
    if model is None and isinstance(space.parameters.get("model_name"), choice):
        model = space.parameters["model_name"].options[0]
    defaults = azure_defaults(model, multilabel=multilabel)
    return Suggestion(default_configuration(space, defaults), 0)
