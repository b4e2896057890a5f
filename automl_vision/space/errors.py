"""Exceptions and warnings of the search-space language.

All errors are ``ValueError`` subclasses, so ``except ValueError`` catches every invalid input;
``short_repr`` is how an error line quotes the value it refuses.
"""

from __future__ import annotations

import reprlib
from typing import Any

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 3, 80, 80, 80


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to about ``limit`` characters: an error line quotes what it refuses
    without echoing a whole file (a huge YAML value, a list built from aliases)."""
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DistributionError(ValueError):
    """A distribution's arguments are invalid, or its text/dict form does not parse."""


class SearchSpaceError(ValueError):
    """A search space (or a concrete configuration) is invalid."""


class LogUniformBoundsWarning(UserWarning):
    """``loguniform`` bounds look like values although they are natural-log exponents."""


class InactiveParameterWarning(UserWarning):
    """A parameter is set in a space where its condition can never hold."""
