"""The YAML/dict and text forms of a policy: Azure's ``early_termination`` block, plus our own
types, and the one-line text of the command line (``bandit:slack_factor=0.2,delay_evaluation=5``).
Every way in (a keyword, a job file, a flag) parses a policy here and nowhere else.

```yaml
early_termination:            # Azure CLI v2 sweep job shape
  type: bandit                # bandit | median_stopping | truncation_selection
  slack_factor: 0.1           #   | hyperband | asha | curve | no_termination (alias: none)
  evaluation_interval: 1
  delay_evaluation: 5
```

Field names are the constructor arguments. ``type`` is matched ignoring case, ``_``/``-``/spaces
and a ``Policy`` suffix (``MedianStopping``, ``BanditPolicy``). ``asha`` is ``ASHAPolicy``,
``hyperband`` with one bracket; ``hyperband``'s ``brackets`` is ``auto`` (every bracket) unless
given. Both take ``resource: epochs | fraction | seconds`` (``policies/resource.py``; epochs
unless given, and then left out of the dict form). ``policy_from_dict(policy.to_dict())``
gives back an equal policy.

The text form is ``type`` or ``type:key=value,key=value``; each value is read as a YAML scalar
(``0.2`` a number, ``true`` a boolean, anything else the text itself).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import yaml

from automl_vision.policies.asha import ASHAPolicy, HyperbandPolicy
from automl_vision.policies.bandit import BanditPolicy
from automl_vision.policies.base import EarlyTerminationPolicy
from automl_vision.policies.config import PolicyConfigError
from automl_vision.policies.curve import CurvePolicy
from automl_vision.policies.interval import IntervalPolicy
from automl_vision.policies.median import MedianStoppingPolicy
from automl_vision.policies.no_termination import NoTerminationPolicy
from automl_vision.policies.truncation import TruncationSelectionPolicy

__all__ = ["POLICY_TYPES", "parse_policy", "policy_from_dict"]

POLICY_TYPES: dict[
    str, type[IntervalPolicy | HyperbandPolicy | NoTerminationPolicy | CurvePolicy]
] = {
    "bandit": BanditPolicy,
    "median_stopping": MedianStoppingPolicy,
    "truncation_selection": TruncationSelectionPolicy,
    "hyperband": HyperbandPolicy,
    "asha": ASHAPolicy,
    "no_termination": NoTerminationPolicy,
    "curve": CurvePolicy,
}
_ALIASES = {"none": "no_termination"}
# fields a type sets itself (with one bracket the rung system is moot)
_FIXED: dict[str, dict[str, Any]] = {"asha": {"brackets": 1, "rung_system": "per_bracket"}}


def _squash(name: str) -> str:
    squashed = re.sub(r"[^a-z0-9]", "", name.lower())
    return squashed.removesuffix("policy") or squashed


_BY_SQUASHED = {_squash(name): name for name in [*POLICY_TYPES, *_ALIASES]}


def _canonical_type(raw: Any) -> str:
    allowed = ", ".join([*POLICY_TYPES, *_ALIASES])
    if not isinstance(raw, str):
        raise PolicyConfigError(
            f"early_termination type must be a string, got {raw!r}; allowed: {allowed}"
        )
    name = _BY_SQUASHED.get(_squash(raw))
    if name is None:
        close = difflib.get_close_matches(raw.lower(), [*POLICY_TYPES, *_ALIASES], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise PolicyConfigError(f"unknown early_termination type {raw!r}{hint}; allowed: {allowed}")
    return _ALIASES.get(name, name)


def _allowed_keys(name: str) -> list[str]:
    cls = POLICY_TYPES[name]
    return [f for f in cls.model_fields if f not in _FIXED.get(name, {})]


def _scalar(text: str) -> Any:
    """A value of the text form: a YAML scalar where it is one, else the text as written."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, str)) or value is None else text


def parse_policy(text: str) -> dict[str, Any]:
    """The text form -> the mapping form: ``bandit:slack_factor=0.2,evaluation_interval=2`` ->
    ``{"type": "bandit", "slack_factor": 0.2, "evaluation_interval": 2}``."""
    name, _, rest = text.partition(":")
    policy: dict[str, Any] = {"type": name.strip()}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise PolicyConfigError(
                f"early_termination {text!r}: expected key=value after the type, got {item!r}"
            )
        policy[key.strip()] = _scalar(value.strip())
    return policy


def policy_from_dict(
    data: Mapping[str, Any] | str | EarlyTerminationPolicy | None,
) -> EarlyTerminationPolicy:
    """A policy from Azure's ``early_termination`` mapping (or ours), or its text form.

    ``None`` and ``{type: none}`` give ``NoTerminationPolicy``; a bare type name
    (``"median_stopping"``) means that type with its defaults, ``"bandit:slack_factor=0.2"``
    that type with those fields (``parse_policy``); a policy object is returned as is.

    >>> policy_from_dict({"type": "bandit", "slack_factor": 0.1, "delay_evaluation": 5})
    BanditPolicy(evaluation_interval=1, slack_factor=0.1, slack_amount=None, delay_evaluation=5)
    """
    if data is None:
        return NoTerminationPolicy()
    if isinstance(data, EarlyTerminationPolicy):
        return data
    if isinstance(data, str):
        data = parse_policy(data)
    if not isinstance(data, Mapping):
        raise PolicyConfigError(
            f"early_termination must be a mapping with a 'type' key (or null), got "
            f"{type(data).__name__} {data!r}"
        )
    if "type" not in data:
        raise PolicyConfigError(
            f"early_termination {dict(data)!r} has no 'type' key; allowed types: "
            f"{', '.join([*POLICY_TYPES, *_ALIASES])}"
        )
    name = _canonical_type(data["type"])
    allowed = _allowed_keys(name)
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key == "type":
            continue
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listed = ", ".join(allowed) if allowed else "none"
            raise PolicyConfigError(
                f"unknown key {key!r} for early_termination type {name!r}{hint}; "
                f"allowed keys: {listed}"
            )
        fields[str(key)] = value
    missing = [
        f
        for f, info in POLICY_TYPES[name].model_fields.items()
        if info.is_required() and f not in fields
    ]
    if missing:
        raise PolicyConfigError(
            f"early_termination type {name!r} needs {', '.join(missing)}; "
            f"allowed keys: {', '.join(allowed)}"
        )
    return POLICY_TYPES[name](**fields)
