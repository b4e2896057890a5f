"""Helpers shared by the samplers: configuration identity and which sub-space a trial came from.

Two configurations are the same when they set the same parameters to the same values, where
``True`` differs from ``1`` and ``'1'`` (as in the search-space language), but ``1`` equals
``1.0``. This is the project's one notion of "the same configuration": duplicate avoidance
(grid resume, no repeated proposals in discrete spaces), ``FixedConfigurations`` (the default
first trial: proposed unless the history already holds it) and reuse of finished trials
(``sweep.reuse.reuse_key``, which pairs it with the data's fingerprint) all compare through
``config_key``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from automl_vision.space import Distribution, ParameterSpace
from automl_vision.trial import Trial

__all__ = [
    "config_key",
    "from_unit_vector",
    "locate",
    "n_distributions",
    "seen_keys",
    "trial_config",
]


def _value_key(value: Any) -> Hashable:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", float(value))
    if isinstance(value, (list, tuple)):
        return ("t", tuple(_value_key(v) for v in value))
    if isinstance(value, str):
        return ("s", value)
    return ("o", repr(value))


def config_key(params: Mapping[str, Any]) -> frozenset[tuple[str, Hashable]]:
    """A hashable identity of a configuration (order of keys does not matter)."""
    return frozenset((name, _value_key(value)) for name, value in params.items())


def trial_config(trial: Trial) -> dict[str, Any]:
    """The trial's active parameters (those the record marks inactive are left out)."""
    return {k: v for k, v in trial.params.items() if k not in trial.inactive}


def seen_keys(trials: Iterable[Trial]) -> set[frozenset[tuple[str, Hashable]]]:
    """Keys of every configuration in ``trials``, whatever their status."""
    return {config_key(trial_config(t)) for t in trials}


def locate(
    params: Mapping[str, Any], spaces: Sequence[ParameterSpace], hint: int | None = None
) -> int | None:
    """Index of a sub-space that contains ``params`` (``hint`` first), or None if none does.

    Parameters that the sub-space would leave inactive are ignored, so a record that kept
    them still matches.
    """
    order = list(range(len(spaces)))
    if hint is not None and 0 <= hint < len(spaces):
        order.remove(hint)
        order.insert(0, hint)
    for index in order:
        space = spaces[index]
        if space.contains(space.active_config(params)):
            return index
    return None


def n_distributions(space: ParameterSpace) -> int:
    return sum(isinstance(space[name], Distribution) for name in space)


def from_unit_vector(space: ParameterSpace, u: Sequence[float]) -> dict[str, Any]:
    """The configuration whose ``j``-th distribution takes ``from_unit(u[j])``.

    Coordinates belong to distributions in space order whether or not they end up active, so
    a parameter's coordinate does not move when another one is switched off.
    """
    config: dict[str, Any] = {}
    j = 0
    for name in space:
        spec = space[name]
        if isinstance(spec, Distribution):
            coordinate = float(u[j])
            j += 1
            if space.is_active(name, config):
                config[name] = spec.from_unit(coordinate)
        elif space.is_active(name, config):
            config[name] = spec
    return config
