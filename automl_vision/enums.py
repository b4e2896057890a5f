"""Enums that accept their values' names at the public boundary, in any case."""

from __future__ import annotations

import enum
from typing import TypeVar

__all__ = ["ChoiceEnum"]

E = TypeVar("E", bound="ChoiceEnum")


class ChoiceEnum(str, enum.Enum):
    """A string enum with ``parse``: the member, or its value in any case and spacing.

    ``parse(value, field)`` raises one ``ValueError`` naming ``field`` and the allowed values;
    ``hint`` adds what else is accepted (e.g. "a Sampler or").
    """

    @classmethod
    def parse(cls: type[E], value: E | str, field: str = "", hint: str = "") -> E:
        if isinstance(value, cls):
            return value
        key = value.strip().lower() if isinstance(value, str) else value
        for member in cls:
            if member.value == key:
                return member
        name = field or cls.__name__
        allowed = ", ".join(repr(m.value) for m in cls)
        raise ValueError(f"{name}={value!r} is not allowed; {name} must be {hint}one of {allowed}")

    def __str__(self) -> str:
        return self.value
