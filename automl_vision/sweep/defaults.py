"""A sweep's known-good first trial: Azure's defaults, wherever the search space allows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from automl_vision.sampling.base import Suggestion
from automl_vision.space import Distribution, ParameterSpace, azure_defaults, choice

__all__ = ["default_configuration", "default_suggestion"]


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
