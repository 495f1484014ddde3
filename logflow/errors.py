"""The one error hierarchy of logflow; the CLI turns each into a one-line message."""

from __future__ import annotations


class LogflowError(Exception):
    """Something the user can fix; its message says what and how."""


class InputError(LogflowError):
    """An input path that cannot be read as a log export."""


class GrammarLoadError(LogflowError):
    """A grammar file that is missing or does not compile."""


class OutputError(LogflowError):
    """A result that cannot be written where the user asked."""
