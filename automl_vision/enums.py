"""Enums that accept their values' names at the public boundary, in any case: the one way the
project parses an enum-like input (Python arguments, YAML fields, CLI flags, pydantic fields).

A ``ChoiceEnum`` member is found from its value in any case, with surrounding spaces, and with
or without ``-``/``_`` separators (``"Multi-Label"`` is ``multilabel``), or from one of the
class's ``_aliases()`` (``"max"`` for ``maximize``; Azure's task names for ``Task``). Calling the
class (``Task("MultiLabel")``) and pydantic validation go through the same lookup
(``_missing_``); ``parse(value, field)`` adds one ``ValueError`` naming the field and what is
allowed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["ChoiceEnum"]

E = TypeVar("E", bound="ChoiceEnum")


def _normal(text: str) -> str:
    return text.strip().lower().replace("-", "").replace("_", "")


class ChoiceEnum(str, enum.Enum):
    """A string enum with ``parse``: the member, or its value in any case and spacing.

    ``parse(value, field)`` raises one ``ValueError`` naming ``field`` and the allowed values;
    ``hint`` adds what else is accepted (e.g. "a Sampler or").
    """

    @classmethod
    def _aliases(cls) -> Mapping[str, Any]:
        """Other spellings: ``{alias: member}`` (compared like values)."""
        return {}

    @classmethod
    def _allowed_text(cls) -> str:
        return "one of " + ", ".join(repr(m.value) for m in cls)

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        loose = _normal(value)
        for member in cls:
            if _normal(member.value) == loose:
                return member
        for alias, member in cls._aliases().items():
            if _normal(alias) == loose:
                return member
        return None

    @classmethod
    def parse(cls: type[E], value: E | str, field: str = "", hint: str = "") -> E:
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            pass
        name = field or cls.__name__
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise ValueError(
            f"{name}={shown} is not allowed; {name} must be {hint}{cls._allowed_text()}"
        ) from None

    def __str__(self) -> str:
        return self.value

    def __hash__(self) -> int:
        # equal to its value (str's ==), so it hashes like it: ``"sgd" in {OptimizerKind.SGD}``
        return str.__hash__(self)
