"""Scratch space: the temporary files and folders a run works in, and nothing left of them.

Every scratch name carries the run's process id and start time (``logflow-tables-4711.
98765-x1y2``), so that what a run killed with SIGKILL left behind can be told from what a
run still going is using: the next run removes the first kind (:func:`sweep`), in the
scratch folder (``$TMPDIR``, or ``--tmp-dir``) and in the folders it writes into.

How much room a run needs there: about 0.4 GB per GB of text read (the rows the trees are
built from, spilled, and the tables built from them); an export needs about 0.25 GB per GB
more in its output folder, for the new set beside the one it replaces
(``benchmarks/scratch.py`` measures both).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from logflow.errors import OutputError, WriteError, os_error, why

PREFIX = "logflow-"
# logflow-<purpose>-<pid>.<start>-<random>, or hidden in an output folder: .logflow-...
_NAME = re.compile(r"^\.?logflow-[a-z]+-(?P<pid>\d+)\.(?P<start>\d+)-")
# Where scratch goes when --tmp-dir does not say: the platform's, $TMPDIR first.
_chosen: Path | None = None
_swept: set[Path] = set()


def _start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (Linux), or None when the
    system does not say (a Mac) or there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may hold spaces: count fields after it.
    return int(stat.rsplit(")", 1)[1].split()[19])


def _run_id() -> str:
    pid = os.getpid()
    start = _start_time(pid)
    return f"{pid}.{start if start is not None else int(time.time())}"


RUN = _run_id()
"""This process's part of every scratch name: its pid and start time."""


def use(folder: Path | None) -> None:
    """Put scratch in ``folder`` (``--tmp-dir``) instead of ``$TMPDIR``; None: the default."""
    global _chosen
    if folder is not None and not folder.is_dir():
        msg = f"{folder}: no such folder for temporary files (--tmp-dir)"
        raise OutputError(msg)
    _chosen = folder


def base() -> Path:
    """The folder scratch goes in."""
    return _chosen if _chosen is not None else Path(tempfile.gettempdir())


def folder(purpose: str, *, within: Path | None = None, hidden: bool = False) -> Path:
    """A new scratch folder for ``purpose``, in :func:`base` or ``within`` a folder; what
    killed runs left there is removed first."""
    where = within if within is not None else base()
    sweep(where)
    with writing_scratch(where):
        dot = "." if hidden else ""
        return Path(tempfile.mkdtemp(prefix=f"{dot}{PREFIX}{purpose}-{RUN}-", dir=where))


def file(purpose: str, *, within: Path, suffix: str = "") -> Path:
    """A new hidden scratch file ``within`` a folder (one a result is written in, to be
    renamed into place); what killed runs left there is removed first."""
    sweep(within)
    handle, name = tempfile.mkstemp(prefix=f".{PREFIX}{purpose}-{RUN}-", suffix=suffix, dir=within)
    os.close(handle)
    return Path(name)


def sweep(where: Path) -> list[Path]:
    """Remove what runs that are gone left in ``where`` (once a run per folder); the paths
    removed."""
    where = where.resolve()
    if where in _swept:
        return []
    _swept.add(where)
    removed = []
    with contextlib.suppress(OSError):
        for path in where.iterdir():
            found = _NAME.match(path.name)
            if found and not _running(int(found["pid"]), int(found["start"])):
                _remove(path)
                removed.append(path)
    return removed


def _running(pid: int, start: int) -> bool:
    """Whether the run that named a scratch path so is still going."""
    if pid == os.getpid():
        return str(start) == RUN.split(".")[1]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    started = _start_time(pid)
    # Where the system tells when a process started, a pid used again is another process.
    return started is None or started == start


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def writing_scratch(where: Path | None = None) -> Iterator[None]:
    """Turn a failure to write scratch (in ``where``) into an :class:`OutputError` that
    says so, and what to do."""
    try:
        yield
    except Exception as exc:
        error = exc.error if isinstance(exc, WriteError) else os_error(exc)
        if error is None:
            raise
        where = where or base()
        elsewhere = "give --tmp-dir a folder with room"
        reason = why(error, where, elsewhere=elsewhere)
        if elsewhere not in reason:
            reason += f"; {elsewhere}"
        raise OutputError(f"cannot write temporary files in {where}: {reason}") from None
