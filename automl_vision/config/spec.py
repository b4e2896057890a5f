"""``SweepSpec``: a sweep's options (``options.SweepOptions``, their one definition) and the
ways to build them: keywords (``SweepSpec(data=..., max_trials=...)``, what ``tune(data,
**options)`` does), a YAML sweep job (``from_yaml``, Azure's shape: ``job.py``) and the
command line (``from_cli``/``from_args``: the ``tune`` command, whose flags are derived from
the options: ``flags.py``).

The spec is frozen and validated when it is built: each bad option is one ``ValueError`` line
naming it and what is allowed, an unknown one a ``TypeError`` suggesting the closest name.
Nothing here reads data or imports torch; ``plan_sweep(spec)`` (``planning/plan.py``) resolves
it against the data and the machine.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from automl_vision.config.flags import add_option_flags, options_from_flags
from automl_vision.config.job import load_sweep_job
from automl_vision.config.options import DeviceChoice, OptionError, SweepOptions
from automl_vision.reporting.announce import announce

__all__ = ["DeviceChoice", "OptionError", "SweepSpec", "add_tune_arguments"]


class _Parser(argparse.ArgumentParser):
    """The ``tune`` arguments parsed for Python: a mistake is a ``ValueError``, not an exit."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def add_tune_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``tune`` command's arguments: the job file (``-c``) and a flag per sweep option."""
    parser.add_argument("-c", "--config", help="sweep job YAML (Azure CLI v2 shape)")
    add_option_flags(parser)


class SweepSpec(SweepOptions):
    """Everything a sweep is asked to do; see ``tune`` for what each option means."""

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> SweepSpec:
        """The spec of a YAML sweep job (Azure's CLI v2 shape, ``job.py``); ``overrides`` are
        keyword options that win over the file's (``data=`` replaces ``training_data``)."""
        options = cls.job_options(path)
        options.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**options)

    @classmethod
    def from_cli(cls, argv: Sequence[str]) -> SweepSpec:
        """The spec of ``automl-vision tune ARGS...`` (``argv`` without the ``tune``); a bad
        flag is a ``ValueError`` with argparse's line (``argument --max-trials: ...``)."""
        parser = _Parser(prog="automl-vision tune")
        add_tune_arguments(parser)
        return cls.from_args(parser.parse_args(list(argv)))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SweepSpec:
        """The spec of the parsed ``tune`` command line: a job file (``-c``) and/or flags; a
        flag that is given wins over the job file."""
        base = cls.job_options(args.config) if args.config else {}
        return cls(**options_from_flags(args, base))

    @classmethod
    def job_options(cls, path: str | Path) -> dict[str, Any]:
        """The options a YAML sweep job gives (validated as a job; its data paths checked), as
        keywords of the spec; the job's keys that mean nothing here are announced."""
        job = load_sweep_job(path)
        for key, why in job.ignored_keys.items():
            announce(f"note: {key!r} is ignored here: {why}")
        return job.spec_options()

    def replace(self, **changes: Any) -> SweepSpec:
        """A copy with ``changes`` (validated like the original)."""
        return type(self)(**{**self.options(), **changes})

    def options(self) -> dict[str, Any]:
        """The options as keywords (``SweepSpec(**spec.options()) == spec``)."""
        return {name: getattr(self, name) for name in type(self).model_fields}
