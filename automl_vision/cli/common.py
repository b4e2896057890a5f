"""What every command shares: the exit statuses, the error a command-line mistake raises, and
``one_line``: every refusal is one line on stderr."""

from __future__ import annotations

__all__ = ["EXIT_INTERRUPTED", "EXIT_NO_VALUE", "EXIT_USAGE", "UsageError", "one_line"]

EXIT_USAGE = 2
EXIT_NO_VALUE = 3
EXIT_INTERRUPTED = 130


class UsageError(ValueError):
    """A command-line mistake (reported like every other ValueError: one line, exit 2)."""


def one_line(message: object) -> str:
    """``message`` on one line: the library gives one line per problem (several bad options, a
    changed sweep's differences); the command line joins them with "; "."""
    return "; ".join(line.strip() for line in str(message).splitlines() if line.strip())
