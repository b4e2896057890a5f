"""The configuration of the built-in policies: ``PolicyConfig``, a frozen pydantic mixin.

Each built-in policy combines ``PolicyConfig`` with ``EarlyTerminationPolicy``: its arguments are
pydantic fields (validated, frozen, compared by value, picklable, ``to_dict()`` for the YAML
form) and its constructor takes them positionally in HyperDrive's argument order. Invalid
arguments raise ``PolicyConfigError`` (a ``ValueError``) naming the policy and the field. Also
the field types the policies share (``Count``, ``NonNegativeCount``, ``Flag``).
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

__all__ = [
    "Count",
    "Flag",
    "NonNegativeCount",
    "PolicyConfig",
    "PolicyConfigError",
    "integer",
    "real",
]


class PolicyConfigError(ValueError):
    """An early-termination policy's arguments (or its YAML/dict form) are invalid."""


def integer(value: Any, minimum: int) -> int:
    """``value`` as an int ``>= minimum``; bools, floats and strings are rejected."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ValueError(f"must be an integer >= {minimum}, got {value!r}")
    number = operator.index(value)
    if number < minimum:
        raise ValueError(f"must be an integer >= {minimum}, got {number}")
    return number


def real(value: Any) -> float:
    """``value`` as a finite float; bools and strings are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {number}")
    return number


def flag(value: Any) -> bool:
    """``value`` as a bool; only true/false are accepted."""
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


Flag = Annotated[bool, BeforeValidator(flag)]
Count = Annotated[int, BeforeValidator(lambda v: integer(v, 1))]
NonNegativeCount = Annotated[int, BeforeValidator(lambda v: integer(v, 0))]


def _message(policy: str, err: ValidationError) -> str:
    parts = []
    for error in err.errors():
        cause = error.get("ctx", {}).get("error")
        text = str(cause) if cause is not None else error["msg"]
        field = ".".join(str(part) for part in error["loc"])
        parts.append(f"{field} {text}" if field else text)
    return f"{policy}: " + "; ".join(parts)


class PolicyConfig(BaseModel):
    """The configuration side of a built-in policy, combined with ``EarlyTerminationPolicy``
    (``class BanditPolicy(PolicyConfig, EarlyTerminationPolicy)``); not a policy by itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_name: ClassVar[str]  # the ``type`` of the YAML/dict form
    #: our options beyond Azure's, left out of ``to_dict`` while at their default (the Azure
    #: shape stays as it was)
    _OPT_IN: ClassVar[tuple[str, ...]] = (
        "schedule_aware",
        "promotion",
        "rung_system",
        "resource",
    )

    def __init__(self, **fields: Any) -> None:
        try:
            super().__init__(**fields)
        except ValidationError as err:
            raise PolicyConfigError(_message(type(self).__name__, err)) from None

    def to_dict(self) -> dict[str, Any]:
        """The YAML/dict form (``type`` plus the fields that are set); ``policy_from_dict``
        turns it back into an equal policy."""
        data = self.model_dump(mode="json", exclude_none=True)
        fields = type(self).model_fields
        for name in self._OPT_IN:
            if name in data and data[name] == fields[name].default:
                del data[name]
        return {"type": self.type_name, **data}
