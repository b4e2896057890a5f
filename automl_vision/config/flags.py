"""The ``tune`` command's flags, derived from the sweep's options: one flag per option of
``SweepOptions``, written as its ``Option`` says (``--max-trials 6``, ``--timeout-minutes 30``,
``--default-trial/--no-default-trial``, ``--resources-per-trial cpu=2,gpu=0.25``), plus a flag
for single keys of a mapping option (``--pretrained``). Each flag's value is checked when the
command line is parsed by the option's own check (``SweepOptions.check``), so a bad flag gets
the keyword's line (argparse then exits 2 with it). A flag left out leaves the option to the job
file (``-c``) or to its default.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from automl_vision.config.options import SweepOptions
from automl_vision.config.surfaces import Form, Option, flag_value

__all__ = ["add_option_flags", "options_from_flags"]


def _checked(name: str, option: Option) -> Callable[[str], Any]:
    """argparse's ``type`` of the option's flag: its text as the option's value, checked (in
    the library's units: minutes become seconds)."""

    def parse(text: str) -> Any:
        try:
            value = SweepOptions.check(name, flag_value(option, name, text))
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return value * 60 if option.minutes and value is not None else value

    parse.__name__ = name  # argparse names the type in some messages
    return parse


def _add(group: Any, name: str, option: Option) -> None:
    flag = option.flag_name(name)
    if option.form is Form.SWITCH:
        group.add_argument(
            flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=option.help
        )
        return
    if option.form is Form.LIST:  # each value is checked with the others, as one option
        group.add_argument(
            flag, dest=name, nargs="+", default=None, metavar=option.metavar, help=option.help
        )
        return
    group.add_argument(
        flag, dest=name, type=_checked(name, option), default=None,
        metavar=option.metavar or name.upper(), help=option.help,
    )  # fmt: skip


def add_option_flags(parser: argparse.ArgumentParser) -> None:
    """Add a flag for every sweep option (and for the single keys some mapping options have)."""
    group = parser.add_argument_group("sweep options (a flag wins over the job file)")
    for name, option in SweepOptions.surfaces().items():
        _add(group, name, option)
        for key, text in option.key_flags.items():
            group.add_argument(
                f"--{key.replace('_', '-')}", dest=key, metavar=key.upper(), help=text
            )


def options_from_flags(args: argparse.Namespace, base: Mapping[str, Any]) -> dict[str, Any]:
    """The options the flags give, over ``base`` (a job file's options)."""
    options = dict(base)
    for name, option in SweepOptions.surfaces().items():
        given = getattr(args, name, None)
        if given is not None:
            options[name] = given
        for key in option.key_flags:
            single = getattr(args, key, None)
            if single is not None:
                options[name] = {**dict(options.get(name) or {}), key: single}
    return options
