"""How the ``aprende`` command reports a mistake: ``UsageError``, one line on stderr, exit 2."""

from __future__ import annotations

from aprende.config import ConfigError

PROG = "aprende"
EXIT_USAGE = 2


class UsageError(ConfigError):
    """A mistake in how the command was called (a path, a file's content): one line, exit 2."""


def one_line(error: Exception) -> str:
    """The message of ``error`` with its white space (newlines included) folded to single spaces."""
    return " ".join(str(error).split())
