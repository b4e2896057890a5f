"""The command line's argparse parser: every mistake is one line and exit 2, and an unknown
option names the command and suggests the closest option it has
(``automl-vision tune: unknown option --max-trails; did you mean --max-trials?``)."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from typing import Any, NoReturn

from automl_vision.cli.common import EXIT_USAGE, one_line

__all__ = ["CommandParser"]


class CommandParser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line, as every other error of the command line
    (a ``tune`` usage line would list every sweep option), and exit 2. Its commands' parsers
    are of this class too (argparse makes a subparser of its parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, CommandParser] = {}

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_USAGE, f"automl-vision: error: {one_line(message)} (see {self.prog} --help)\n"
        )

    def add_subparsers(self, **kwargs: Any) -> Any:
        action = super().add_subparsers(**kwargs)
        self.commands = action.choices  # filled as each command's parser is added
        return action

    def parse_command_line(self, argv: Sequence[str]) -> argparse.Namespace:
        """``parse_args``, where arguments no command takes are refused by the command they
        were given to, with the closest option it has."""
        args, unknown = self.parse_known_args(argv)
        if unknown:
            where = list(argv).index(unknown[0]) if unknown[0] in argv else len(argv)
            self.command_for(argv[:where]).refuse_unknown(unknown)
        return args

    def command_for(self, argv: Sequence[str]) -> CommandParser:
        """The parser of the last (sub)command ``argv`` names (this one when none)."""
        parser = self
        for token in argv:
            if token in parser.commands:
                parser = parser.commands[token]
        return parser

    def option_names(self) -> list[str]:
        """Every option string this parser takes (``--max-trials``, ``-c``, ...)."""
        return sorted(self._option_string_actions)  # argparse keeps no public list of them

    def refuse_unknown(self, unknown: Sequence[str]) -> NoReturn:
        """Exit 2 with one line naming the first unknown option and its closest match."""
        options = [token for token in unknown if token.startswith("-") and token != "-"]
        if not options:
            self.exit(
                EXIT_USAGE,
                f"{self.prog}: unexpected argument {unknown[0]} (see {self.prog} --help)\n",
            )
        given = options[0].split("=", 1)[0]
        close = difflib.get_close_matches(given, self.option_names(), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else f" (see {self.prog} --help)"
        self.exit(EXIT_USAGE, f"{self.prog}: unknown option {given}{hint}\n")
