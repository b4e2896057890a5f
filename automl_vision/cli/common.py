"""What every command shares: the exit statuses and the error a command-line mistake raises."""

from __future__ import annotations

__all__ = ["EXIT_INTERRUPTED", "EXIT_NO_VALUE", "EXIT_USAGE", "UsageError"]

EXIT_USAGE = 2
EXIT_NO_VALUE = 3
EXIT_INTERRUPTED = 130


class UsageError(ValueError):
    """A command-line mistake (reported like every other ValueError: one line, exit 2)."""
