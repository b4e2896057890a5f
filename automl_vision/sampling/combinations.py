"""Enumerating the configurations of a finite space (grid sampling, small discrete spaces).

Order: parameters in the space's order (``ParameterSpace`` order: as declared, with a
conditional parameter's parent moved before it), the last parameter varying fastest, options in
the order they were given. A
parameter left inactive by the values chosen for its parents takes no value, so
``optimizer=choice('sgd', 'adam')`` with ``momentum=choice(0.8, 0.9)`` (sgd only) has three
configurations, not four.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from automl_vision.sampling.configs import config_key
from automl_vision.space import Distribution, Kind, ParameterSpace

__all__ = [
    "count_combinations",
    "finite_values",
    "iter_combinations",
    "union_combinations",
]

ValuesOf = Callable[[str, Distribution], Sequence[Any]]


def finite_values(dist: Distribution, limit: int) -> tuple[Any, ...] | None:
    """Every value ``dist`` can produce, in increasing unit position; None if not finite or
    more than ``limit`` values."""
    support = dist.support
    if support.kind is Kind.CATEGORICAL:
        return tuple(support.options) if len(support.options) <= limit else None
    if not support.discrete or not support.bounded:
        return None
    q = support.q if support.q is not None else 1.0
    first, last = round(support.low / q), round(support.high / q)
    if last - first + 1 > limit:
        return None
    values: list[Any] = []
    for k in range(first, last + 1):
        # round-trip through the distribution so values have its exact type and rounding
        value = dist.from_unit(dist.to_unit(k * q))
        if not values or value != values[-1]:
            values.append(value)
    return tuple(values)


def _parents(space: ParameterSpace) -> set[str]:
    return {cond.parent for cond in space.conditions.values()}


def _options(space: ParameterSpace, name: str, values_of: ValuesOf) -> Sequence[Any]:
    spec = space[name]
    return values_of(name, spec) if isinstance(spec, Distribution) else (spec,)


def iter_combinations(space: ParameterSpace, values_of: ValuesOf) -> Iterator[dict[str, Any]]:
    """Every configuration of ``space`` (active parameters only), in the documented order.

    ``values_of(name, distribution)`` lists the values to use for a distribution.
    """
    names = list(space)
    config: dict[str, Any] = {}

    def walk(i: int) -> Iterator[dict[str, Any]]:
        if i == len(names):
            yield dict(config)
            return
        name = names[i]
        if not space.is_active(name, config):
            yield from walk(i + 1)
            return
        for value in _options(space, name, values_of):
            config[name] = value
            yield from walk(i + 1)
        del config[name]

    yield from walk(0)


def count_combinations(space: ParameterSpace, values_of: ValuesOf) -> int:
    """How many configurations ``iter_combinations`` yields, without listing them all."""
    names = list(space)
    parents = _parents(space)

    def count(i: int, config: dict[str, Any]) -> int:
        if i == len(names):
            return 1
        name = names[i]
        if not space.is_active(name, config):
            return count(i + 1, config)
        options = _options(space, name, values_of)
        if name in parents:  # children's activity depends on the value: branch
            return sum(count(i + 1, {**config, name: v}) for v in options)
        return len(options) * count(i + 1, config)

    return count(0, {})


def union_combinations(
    spaces: Sequence[ParameterSpace], limit: int
) -> list[tuple[int, dict[str, Any]]] | None:
    """Every configuration of a finite union of spaces as ``(space_index, config)``, each once
    (the first sub-space that has it wins); None when a space is not finite or the union
    has more than ``limit`` configurations."""

    cache: dict[Distribution, tuple[Any, ...] | None] = {}

    def values_of(name: str, dist: Distribution) -> Sequence[Any]:
        if dist not in cache:
            cache[dist] = finite_values(dist, limit)
        values = cache[dist]
        if values is None:
            raise _NotFinite
        return values

    try:
        if sum(count_combinations(space, values_of) for space in spaces) > limit:
            return None
    except _NotFinite:
        return None
    out: list[tuple[int, dict[str, Any]]] = []
    seen: set[Any] = set()
    for index, space in enumerate(spaces):
        for config in iter_combinations(space, values_of):
            key = config_key(config)
            if key not in seen:
                seen.add(key)
                out.append((index, config))
    return out


class _NotFinite(Exception):
    """A distribution has infinitely (or too) many values."""
