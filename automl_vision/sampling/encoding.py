"""The unit-cube encoding a surrogate model works in, for one space or a union of spaces.

Columns:

- one indicator column per sub-space when there are several (which sub-space a point is in);
- one column per numeric distribution: its CDF value ``to_unit(value)`` in [0, 1], so log-scale
  distributions are log-scaled and normal ones are spread by their CDF. Discrete ones (integer,
  quantized) can only sit at the unit positions of their values;
- one-hot columns for each ``choice``.

A parameter that is inactive for a point (its condition is off, or it belongs to another
sub-space) takes a constant (0.5 for numeric columns, all zeros for one-hot columns), so it adds
no distance between two points that both lack it: it is not a dimension for them. Sub-spaces
share a column when they have the same parameter with the same distribution.

``canonicalize`` maps arbitrary points of the cube (candidates of an optimizer) to encodings of
real configurations, vectorized; ``decode`` turns one encoded row into a configuration and
``encode`` does the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_vision.sampling.combinations import finite_values
from automl_vision.space import Distribution, Kind, ParameterSpace

__all__ = ["UnitEncoder"]

INACTIVE = 0.5
# discrete numeric distributions with at most this many values get a lookup table
_TABLE_LIMIT = 100_000


@dataclass(frozen=True)
class _Numeric:
    name: str
    dist: Distribution
    column: int
    values: tuple[Any, ...] | None  # discrete with a table: the values in unit order
    positions: np.ndarray | None  # ... and their unit positions
    continuous: bool

    def snap(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Unit positions of real values near ``u``, and indices into ``values`` (if a table)."""
        if self.continuous:
            return np.clip(u, 0.0, 1.0), None
        if self.positions is not None:
            edges = 0.5 * (self.positions[1:] + self.positions[:-1])
            index = np.searchsorted(edges, u)
            return self.positions[index], index
        snapped = [self.dist.to_unit(self.dist.from_unit(float(v))) for v in np.clip(u, 0, 1)]
        return np.asarray(snapped, dtype=float), None

    def value_at(self, u: float) -> Any:
        if self.positions is not None and self.values is not None:
            _, index = self.snap(np.array([u]))
            return self.values[int(index[0])]
        return self.dist.from_unit(min(max(u, 0.0), 1.0))


@dataclass(frozen=True)
class _Categorical:
    name: str
    dist: Distribution
    start: int
    options: tuple[Any, ...]

    @property
    def columns(self) -> slice:
        return slice(self.start, self.start + len(self.options))


_Dim = _Numeric | _Categorical


def _make_dim(name: str, dist: Distribution, start: int) -> _Dim:
    support = dist.support
    if support.kind is Kind.CATEGORICAL:
        return _Categorical(name, dist, start, tuple(support.options))
    if not support.discrete:
        return _Numeric(name, dist, start, None, None, True)
    values = finite_values(dist, _TABLE_LIMIT)
    if values is None:
        return _Numeric(name, dist, start, None, None, False)
    positions = np.array([dist.to_unit(v) for v in values], dtype=float)
    return _Numeric(name, dist, start, values, positions, False)


def _width(dim: _Dim) -> int:
    return len(dim.options) if isinstance(dim, _Categorical) else 1


class UnitEncoder:
    """Encodes configurations of a union of spaces as rows of the unit cube (see module doc)."""

    def __init__(self, spaces: Sequence[ParameterSpace]) -> None:
        self.spaces = list(spaces)
        self.n_space_columns = len(self.spaces) if len(self.spaces) > 1 else 0
        shared: dict[tuple[str, Distribution], _Dim] = {}
        self.dims: list[dict[str, _Dim]] = []
        width = self.n_space_columns
        for space in self.spaces:
            dims: dict[str, _Dim] = {}
            for name, dist in space.distributions.items():
                key = (name, dist)
                if key not in shared:
                    shared[key] = _make_dim(name, dist, width)
                    width += _width(shared[key])
                dims[name] = shared[key]
            self.dims.append(dims)
        self.width = width
        self._base = np.full(width, INACTIVE)
        for dim in shared.values():
            if isinstance(dim, _Categorical):
                self._base[dim.columns] = 0.0
        self._base[: self.n_space_columns] = 0.0

    # -- single configurations -----------------------------------------------------------------
    def encode(self, config: Mapping[str, Any], space_index: int) -> np.ndarray:
        row = self._base.copy()
        if self.n_space_columns:
            row[space_index] = 1.0
        for name, dim in self.dims[space_index].items():
            if name not in config:
                continue
            if isinstance(dim, _Categorical):
                row[dim.start + dim.dist.index(config[name])] = 1.0
            else:
                row[dim.column] = dim.dist.to_unit(config[name])
        return row

    def decode(self, row: np.ndarray, space_index: int) -> dict[str, Any]:
        space = self.spaces[space_index]
        dims = self.dims[space_index]
        config: dict[str, Any] = {}
        for name in space:
            if not space.is_active(name, config):
                continue
            dim = dims.get(name)
            if dim is None:
                config[name] = space[name]
            elif isinstance(dim, _Categorical):
                config[name] = dim.options[int(np.argmax(row[dim.columns]))]
            else:
                config[name] = dim.value_at(float(row[dim.column]))
        return config

    # -- batches -----------------------------------------------------------------------------
    def random_rows(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` raw uniform points of the cube (canonicalize them for a sub-space)."""
        return rng.random((count, self.width))

    def numeric_columns(self, space_index: int) -> list[int]:
        return [d.column for d in self.dims[space_index].values() if isinstance(d, _Numeric)]

    def categorical_dims(self, space_index: int) -> list[_Categorical]:
        return [d for d in self.dims[space_index].values() if isinstance(d, _Categorical)]

    def active_numeric_columns(self, row: np.ndarray, space_index: int) -> list[int]:
        """The numeric columns of the parameters that the encoded ``row`` keeps active."""
        config = self.decode(row, space_index)
        dims = self.dims[space_index]
        return [
            dim.column for name, dim in dims.items() if isinstance(dim, _Numeric) and name in config
        ]

    def canonicalize(self, raw: np.ndarray, space_index: int) -> np.ndarray:
        """Encodings of the configurations that the raw points stand for.

        Numeric columns are snapped to the positions of real values, the largest entry of a
        one-hot block wins, and inactive parameters take their constant.
        """
        raw = np.atleast_2d(np.asarray(raw, dtype=float))
        count = len(raw)
        out = np.tile(self._base, (count, 1))
        if self.n_space_columns:
            out[:, space_index] = 1.0
        space = self.spaces[space_index]
        dims = self.dims[space_index]
        conditions = space.conditions
        parents = {c.parent for c in conditions.values()}
        active: dict[str, np.ndarray] = {}
        values: dict[str, np.ndarray] = {}  # decoded values of parameters that are parents
        for name in space:
            mask = self._active_mask(name, space, conditions, active, values, count)
            active[name] = mask
            dim = dims.get(name)
            if dim is None:
                if name in parents:
                    values[name] = _objects([space[name]] * count)
                continue
            if isinstance(dim, _Categorical):
                index = np.argmax(raw[:, dim.columns], axis=1)
                block = np.zeros((count, len(dim.options)))
                block[np.arange(count), index] = 1.0
                out[:, dim.columns] = np.where(mask[:, None], block, 0.0)
                if name in parents:
                    values[name] = _objects(dim.options)[index]
            else:
                snapped, index = dim.snap(raw[:, dim.column])
                out[:, dim.column] = np.where(mask, snapped, INACTIVE)
                if name in parents:
                    values[name] = _objects([dim.value_at(float(u)) for u in snapped])
        return out

    @staticmethod
    def _active_mask(
        name: str,
        space: ParameterSpace,
        conditions: Mapping[str, Any],
        active: Mapping[str, np.ndarray],
        values: Mapping[str, np.ndarray],
        count: int,
    ) -> np.ndarray:
        cond = conditions.get(name)
        if cond is None:
            return np.ones(count, dtype=bool)
        if cond.parent not in space:
            return np.full(count, cond.default in cond.values, dtype=bool)
        parent_active = active[cond.parent]
        parent_values = values[cond.parent]
        holds = np.array([v in cond.values for v in parent_values], dtype=bool)
        # an inactive parent is absent from the configuration: its default decides
        holds = np.where(parent_active, holds, cond.default in cond.values)
        # and the parent's own conditions must hold too (is_active walks up the chain)
        return holds & parent_active if cond.parent in conditions else holds


def _objects(items: Sequence[Any]) -> np.ndarray:
    """A 1-D object array (tuples stay elements, not rows)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out
