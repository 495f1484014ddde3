"""The one error hierarchy of logflow; the CLI turns each into a one-line message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LogflowError(Exception):
    """Something the user can fix; its message says what and how."""


class InputError(LogflowError):
    """An input path that cannot be read as a log export."""


class GrammarLoadError(LogflowError):
    """A grammar file that is missing or does not compile."""


class FilterError(LogflowError):
    """A filter value that means nothing: a time, an outcome, a connection id."""


class OutputError(LogflowError):
    """A result that cannot be written where the user asked."""


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn a failure to write ``path`` into an :class:`OutputError` that names it."""
    try:
        yield
    except OSError as exc:
        msg = f"{path}: cannot write: {exc.strerror or exc}"
        raise OutputError(msg) from None
