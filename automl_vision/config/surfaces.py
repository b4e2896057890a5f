"""How a sweep option is written outside Python: ``Option``, the metadata each sweep option
field carries (in its ``Annotated`` type), read by the job-file mapping (``job.py``) and the
command line (``flags.py``), which are derived from it.

An option's *type* (with its validation and its error messages) and its *default* are the
field's; the ``Option`` says what it means (``help``), where it sits in Azure's sweep-job YAML
(``yaml``, with the older names Azure also uses, ``yaml_aliases``), how its flag is written
(``form``, ``flag``), and whether both give minutes where the library counts seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from automl_vision.enums import ChoiceEnum

__all__ = ["NO_DEFAULT", "Form", "Option", "flag_value", "scalar"]

#: ``Option.job_default`` when a job file's default is the library's
NO_DEFAULT: Any = object()


class Form(ChoiceEnum):
    """How an option is written on the command line."""

    TEXT = "text"  # as written: a path, a name, an expression
    NUMBER = "number"  # a YAML scalar: 3 is a number, true a boolean, anything else the text
    SWITCH = "switch"  # --name / --no-name
    LIST = "list"  # one or more values after the flag
    PAIRS = "pairs"  # key=value,key=value (each value a YAML scalar)


@dataclass(frozen=True)
class Option:
    """Where a ``SweepSpec`` option is written outside Python, and what it means."""

    help: str
    #: its key in a sweep job, dotted inside Azure's sections (``limits.max_trials``)
    yaml: str
    form: Form = Form.TEXT
    #: the command-line flag, when not ``--`` and the name with dashes
    flag: str | None = None
    metavar: str | None = None
    #: the job file and the flag give minutes; the library, and ``yaml_seconds``, seconds
    minutes: bool = False
    yaml_seconds: str | None = None
    #: other keys Azure's job files use for it, in the same unit
    yaml_aliases: tuple[str, ...] = ()
    #: a job file's default where Azure's differs from the library's (``tune()``'s)
    job_default: Any = NO_DEFAULT
    #: flags for single keys of a mapping option (``--pretrained`` is ``training_options``'s
    #: ``pretrained``): key -> help
    key_flags: Mapping[str, str] = field(default_factory=dict)

    def flag_name(self, name: str) -> str:
        return self.flag or "--" + name.replace("_", "-")

    @property
    def section(self) -> str:
        """The job file's section that holds it ("" at the top level)."""
        return self.yaml.rpartition(".")[0]

    @property
    def key(self) -> str:
        """Its key inside that section."""
        return self.yaml.rpartition(".")[2]


def scalar(text: str) -> Any:
    """``text`` read as a job file reads a scalar: a number, a boolean or null where it is one,
    else the text itself."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return value if isinstance(value, (int, float, bool, str)) or value is None else text


def flag_value(option: Option, name: str, text: str) -> Any:
    """The option's value from the text its flag was given (before the option's check)."""
    if option.form is Form.NUMBER:
        return scalar(text)
    if option.form is Form.PAIRS:
        return pairs(option.flag_name(name), text, option.metavar)
    return text


def pairs(flag: str, text: str, example: str | None = None) -> dict[str, Any]:
    """``cpu=2,gpu=0.25`` -> ``{"cpu": 2, "gpu": 0.25}`` (values read as ``scalar``)."""
    items = [part.partition("=") for part in text.split(",") if part.strip()]
    if not items or any(not sep or not key.strip() for key, sep, _ in items):
        shape = example or "key=value,key=value"
        raise ValueError(f"{flag} must look like {shape}, got {text!r}")
    return {key.strip(): scalar(value.strip()) for key, _, value in items}
