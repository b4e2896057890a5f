"""Exceptions and warnings of the search-space language.

All errors are ``ValueError`` subclasses, so ``except ValueError`` catches every invalid input.
"""

from __future__ import annotations


class DistributionError(ValueError):
    """A distribution's arguments are invalid, or its text/dict form does not parse."""


class SearchSpaceError(ValueError):
    """A search space (or a concrete configuration) is invalid."""


class LogUniformBoundsWarning(UserWarning):
    """``loguniform`` bounds look like values although they are natural-log exponents."""


class InactiveParameterWarning(UserWarning):
    """A parameter is set in a space where its condition can never hold."""
