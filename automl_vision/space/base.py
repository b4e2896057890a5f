"""The sampler-facing form of a search space: named parameters with conditions.

``ParameterSpace`` is what samplers consume. It is built from a plain ``dict`` (to tune anything),
from an ``ImageClassificationSearchSpace`` (``to_parameter_space()``), and a sweep's space is a
list of them (a trial draws from one). Parameters are kept parents-first, so a sampler that walks
them in order always knows whether a conditional parameter is active.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_vision.space.distributions import Distribution, _same
from automl_vision.space.errors import SearchSpaceError
from automl_vision.space.parse import looks_like_distribution, parse_distribution

__all__ = ["Condition", "ParameterSpace", "as_parameter_spaces"]


@dataclass(frozen=True)
class Condition:
    """A parameter is active only while ``parent`` takes one of ``values``.

    ``default`` is the parent's value when a configuration does not set it (e.g. Azure's
    default optimizer ``sgd`` when ``optimizer`` is not searched).
    """

    parent: str
    values: frozenset[Any]
    default: Any = None

    def holds(self, config: Mapping[str, Any]) -> bool:
        return config.get(self.parent, self.default) in self.values


def _coerce(name: str, value: Any) -> Any:
    """Strings shaped like ``name(...)`` and mappings with a ``type`` key are distributions."""
    try:
        if isinstance(value, str) and looks_like_distribution(value):
            return parse_distribution(value)
        if isinstance(value, Mapping) and "type" in value:
            return parse_distribution(value)
    except ValueError as err:
        raise SearchSpaceError(f"{name}: {err}") from None
    return value


class ParameterSpace:
    """An ordered mapping of parameter names to fixed values or distributions, with conditions."""

    __slots__ = ("_conditions", "_parameters", "label")

    def __init__(
        self,
        parameters: Mapping[str, Any],
        conditions: Mapping[str, Condition] | None = None,
        *,
        label: str = "",
    ) -> None:
        if not isinstance(parameters, Mapping):
            raise SearchSpaceError(
                f"a parameter space is a mapping of names to values or distributions, "
                f"got {type(parameters).__name__}"
            )
        params = {}
        for name, value in parameters.items():
            if not isinstance(name, str) or not name:
                raise SearchSpaceError(f"parameter names must be non-empty strings, got {name!r}")
            params[name] = _coerce(name, value)
        conds = {k: v for k, v in (conditions or {}).items() if k in params}
        self._parameters = _parents_first(params, conds)
        self._conditions = conds
        self.label = label

    # -- read access -------------------------------------------------------------------------
    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._parameters)

    @property
    def conditions(self) -> dict[str, Condition]:
        return dict(self._conditions)

    @property
    def distributions(self) -> dict[str, Distribution]:
        return {k: v for k, v in self._parameters.items() if isinstance(v, Distribution)}

    @property
    def fixed(self) -> dict[str, Any]:
        return {k: v for k, v in self._parameters.items() if not isinstance(v, Distribution)}

    def __iter__(self):
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __contains__(self, name: object) -> bool:
        return name in self._parameters

    def __getitem__(self, name: str) -> Any:
        return self._parameters[name]

    # -- conditions --------------------------------------------------------------------------
    def is_active(self, name: str, config: Mapping[str, Any]) -> bool:
        """Whether ``name`` matters for ``config`` (its condition holds, recursively)."""
        seen: set[str] = set()
        while name in self._conditions and name not in seen:
            seen.add(name)
            cond = self._conditions[name]
            if not cond.holds(config):
                return False
            name = cond.parent
        return True

    def inactive(self, config: Mapping[str, Any]) -> frozenset[str]:
        """The parameters of this space that ``config`` leaves inactive."""
        return frozenset(n for n in self._parameters if not self.is_active(n, config))

    def active_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` without the parameters it leaves inactive."""
        off = self.inactive(config)
        return {k: v for k, v in config.items() if k not in off}

    # -- sampling and membership -------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One random configuration: active parameters only, parents decided first."""
        config: dict[str, Any] = {}
        for name, value in self._parameters.items():
            if not self.is_active(name, config):
                continue
            config[name] = value.sample(rng) if isinstance(value, Distribution) else value
        return config

    def contains(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` could have been drawn from this space (active parameters exactly)."""
        expected = {n for n in self._parameters if self.is_active(n, config)}
        if set(config) != expected:
            return False
        for name in expected:
            spec = self._parameters[name]
            if isinstance(spec, Distribution):
                if not spec.support.contains(config[name]):
                    return False
            elif not _same(spec, config[name]):
                return False
        return True

    # -- text --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain mapping with distributions in their text form."""
        return {
            k: str(v) if isinstance(v, Distribution) else v for k, v in self._parameters.items()
        }

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ParameterSpace)
            and self._parameters == other._parameters
            and self._conditions == other._conditions
        )

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        label = f"{self.label}: " if self.label else ""
        body = ", ".join(f"{k}={v!r}" for k, v in self._parameters.items())
        return f"ParameterSpace({label}{body})"


def _parents_first(params: dict[str, Any], conds: Mapping[str, Condition]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in stack:
            raise SearchSpaceError(f"conditions form a cycle: {' -> '.join((*stack, name))}")
        cond = conds.get(name)
        if cond is not None and cond.parent in params:
            visit(cond.parent, (*stack, name))
        ordered[name] = params[name]

    for name in params:
        visit(name, ())
    return ordered


def as_parameter_spaces(space: Any) -> list[ParameterSpace]:
    """Normalize a search space argument to a non-empty list of ``ParameterSpace``.

    Accepts an ``ImageClassificationSearchSpace`` (or anything with ``to_parameter_space()``),
    a ``ParameterSpace``, a plain ``dict`` of values/distributions, or a list of those.
    """
    items: Iterable[Any] = space if isinstance(space, (list, tuple)) else [space]
    out: list[ParameterSpace] = []
    for i, item in enumerate(items):
        if isinstance(item, ParameterSpace):
            out.append(item)
        elif hasattr(item, "to_parameter_space"):
            out.append(item.to_parameter_space())
        elif isinstance(item, Mapping):
            out.append(ParameterSpace(item, label=f"search_space[{i}]"))
        else:
            raise SearchSpaceError(
                f"search_space[{i}]: expected a search space or a dict of parameters, "
                f"got {type(item).__name__}"
            )
    if not out:
        raise SearchSpaceError("the search space is empty: give at least one space")
    return out
