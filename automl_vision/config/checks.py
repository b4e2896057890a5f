"""Checks of the sweep options' names and numbers: an unknown keyword (with a close match
suggested) and numbers (coerced the way pydantic's lax mode does: ``"3"`` -> 3; ``"3.5"``,
booleans, NaN and infinities are refused), each error naming the option and what is allowed."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from automl_vision.space.errors import short_repr

__all__ = ["check_keywords", "checked_number"]

_INT = TypeAdapter(int)
_FLOAT = TypeAdapter(float)


def check_keywords(given: Iterable[str], allowed: Iterable[str], where: str) -> None:
    """Refuse a keyword that ``where`` does not take, suggesting the closest allowed one."""
    allowed = sorted(allowed)
    for name in given:
        if name in allowed:
            continue
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
        raise TypeError(f"{where}() got an unexpected keyword argument {name!r}{hint}")


def checked_number(
    name: str,
    value: Any,
    kind: type[int] | type[float],
    *,
    minimum: float | None = None,
    exclusive: bool = False,
    maximum: float | None = None,
) -> Any:
    """``value`` as ``kind`` (None stays None), within the bounds (``exclusive``: both are
    excluded), or a ``ValueError`` naming ``name`` and what is allowed."""
    if value is None:
        return None
    what = "an integer" if kind is int else "a number"
    if isinstance(value, bool):
        raise ValueError(f"{name} must be {what}, got {short_repr(value)}")
    try:
        number = (_INT if kind is int else _FLOAT).validate_python(value)
    except ValidationError:
        raise ValueError(f"{name} must be {what}, got {short_repr(value)}") from None
    if kind is float and not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {short_repr(value)}")
    below = minimum is not None and (number <= minimum if exclusive else number < minimum)
    above = maximum is not None and (number >= maximum if exclusive else number > maximum)
    if (below or above) and minimum is not None and maximum is not None:
        bounds = f"({minimum:g}, {maximum:g})" if exclusive else f"[{minimum:g}, {maximum:g}]"
        raise ValueError(f"{name} must be in {bounds}, got {short_repr(value)}")
    got = short_repr(value)
    if below:
        raise ValueError(f"{name} must be {'>' if exclusive else '>='} {minimum:g}, got {got}")
    if above:
        raise ValueError(f"{name} must be {'<' if exclusive else '<='} {maximum:g}, got {got}")
    return number
