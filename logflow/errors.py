"""The one error hierarchy of logflow; the CLI turns each into a one-line message."""

from __future__ import annotations

import errno
import os
import re
import signal
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


class DeviceError(InputError):
    """An export whose device cannot be told, or a devices file that cannot be read."""


class DatasetError(LogflowError):
    """A dataset folder (``export --dataset``) that is not one, or cannot be read."""


class EngineError(LogflowError):
    """An engine to run exports on that is not installed or cannot be reached."""


class WriteError(OutputError):
    """A file that could not be written: its ``path`` and the operating system's ``error``."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(f"{path}: cannot write: {why(error, path)}")
        self.path = path
        self.error = error


class Interrupted(BaseException):  # noqa: N818 (named as KeyboardInterrupt is)
    """SIGINT or SIGTERM stopped the run, cleanly: nothing half-written is left.

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` stops it on
    its way out. ``kept`` says what the run left as it was, for the one line the CLI prints.
    """

    def __init__(self, signum: int, kept: str = "") -> None:
        super().__init__(signum, kept)
        self.signum = signum
        self.kept = kept

    @property
    def name(self) -> str:
        """``SIGINT`` or ``SIGTERM``."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """What a shell reports for a process a signal stopped: 130 for SIGINT, 143 for
        SIGTERM."""
        return 128 + self.signum


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn a failure to write ``path`` into a :class:`WriteError` that names it."""
    try:
        yield
    except WriteError:
        raise
    except Exception as exc:
        error = os_error(exc)
        if error is None:
            raise
        raise WriteError(path, error) from None


# Polars reports a failed write as a ComputeError or an errno-less OSError, saying the
# OS error in its message.
_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def os_error(exc: BaseException) -> OSError | None:
    """The operating system's error behind ``exc``, with its errno where it has one; None
    when ``exc`` is not one."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc
    found = _OS_ERROR.search(str(exc)) if isinstance(exc, Exception) else None
    if found:
        number = int(found[1])
        return OSError(number, os.strerror(number))
    return exc if isinstance(exc, OSError) else None


def why(error: OSError, path: Path, *, elsewhere: str = "write elsewhere") -> str:
    """What went wrong writing ``path``; for a full disk, what to free, or ``elsewhere``."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full; free space on {_disk_of(path)}, or {elsewhere}"
    return error.strerror or str(error)


def _disk_of(path: Path) -> Path:
    """The mount point of the disk that holds ``path``."""
    folder = next((p for p in (path, *path.parents) if p.is_dir()), Path.cwd())
    mount = folder.absolute()
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    return mount
