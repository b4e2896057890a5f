"""tune()'s defaults: the sampler and early-termination policy it uses when none is given, and a
sweep's known-good first trial (Azure's defaults, wherever the search space allows them).

The defaults follow the multi-fidelity benchmark (``benchmarks/multifidelity.py``;
``benchmarks/RESULTS.md``, section "Multi-fidelity search on recorded curves", 10 seeds, two
recorded curve files). Sampler: Bayesian (joint GP over configuration x log-resource), whose
median regret is at or below random search's without termination, with MedianStopping and with
Hyperband on both files at 10x and 25x one full training, except two differences under 0.001
(with Hyperband: the ResNets at 10x, MetaQNN at 25x). Policy: Hyperband with every bracket,
first rung at about a ninth of the epochs (chosen on the policies benchmark, where a sweep is
bounded by its trial count, as tune()'s is by default). The combinations that did better on the
epoch-budgeted benchmark are not the default because they need the budget to pay off: promotion
ASHA promotes nobody from a rung fewer than 3 trials reached, so a small trial-bounded sweep can
end with no trial trained to the end, and ASHA from report 1 loses accuracy when the saved
epochs are not spent on more trials (3.65% on the ResNets in the policies benchmark).
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
