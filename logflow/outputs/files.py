"""Writing results whole or not at all, whatever stops the run.

A single file (:func:`replacing`) is written beside its name and renamed into place. A set
of files that belong together, an export's tables (:class:`OutputSet`), is written into a
scratch folder inside the folder it goes to, then moved into place with signals held off;
a journal written before the first move and removed after the last lets the next run finish
the moves a SIGKILL cut short (:func:`finish_moves`). So the folder holds the complete
previous set or the complete new one, never a mix and never a partial file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from logflow import scratch
from logflow.errors import Interrupted, writing
from logflow.testing import pause_at

# Written in the folder before the first move, removed after the last.
JOURNAL = ".logflow-journal"


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; it becomes ``path`` when the block ends,
    and is removed if the block fails (an interrupt included). Failures to write name
    ``path``."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = scratch.file("partial", within=path.parent, suffix=f".{path.name}")
    readable(partial)
    try:
        with writing(path):
            yield partial
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# Read once, on import: the umask is read only by setting it, and threads that set it at once
# (a dataset's exports are written side by side) could leave it 0 for the whole process.
UMASK = _umask()


def readable(path: Path) -> None:
    """Make a file made by mkstemp (which only its owner reads) as readable as any new file."""
    path.chmod(0o666 & ~UMASK)


class OutputSet:
    """Files that belong together, written into a scratch folder inside ``folder`` and moved
    into place at once by :meth:`commit`; on leaving the ``with`` block uncommitted (a
    failure, an interrupt), the scratch is removed and ``folder`` is as it was.

    ``replaces``: the names of files of an earlier set that this one replaces, removed when
    it is moved in even when this set has no file of that name (a set of CSV tables
    replaces one of Parquet tables). Call :func:`finish_moves` first: a set a killed run
    left half-moved is the one this replaces.
    """

    def __init__(self, folder: Path, *, replaces: Iterable[str] = ()) -> None:
        self.folder = folder
        self.replaces = set(replaces)
        self.names: list[str] = []
        self.committed = False
        self.scratch = scratch.folder("set", within=folder, hidden=True)

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def path(self, name: str) -> Path:
        """Where to write the set's file ``name``; it is in the set from now on."""
        if name not in self.names:
            self.names.append(name)
        path = self.scratch / name
        path.parent.mkdir(parents=True, exist_ok=True)  # (a name may hold a folder)
        return path

    def commit(self) -> None:
        """Move every file of the set into place, and remove the files it replaces."""
        for name in self.names:
            readable(self.scratch / name)
        journal = {
            "scratch": self.scratch.name,
            "files": self.names,
            "remove": sorted(self.replaces - set(self.names)),
        }
        with signals_held():
            with writing(self.folder / JOURNAL):
                written = self.scratch / JOURNAL
                written.write_text(json.dumps(journal) + "\n", encoding="utf-8")
                os.replace(written, self.folder / JOURNAL)
            finish_moves(self.folder)
            self.committed = True


def finish_moves(folder: Path) -> bool:
    """Finish the moves of a set that a killed run left half-moved into ``folder``, if
    any: the journal says which; True if there were some."""
    journal_path = folder / JOURNAL
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    # Every file was whole in the scratch before the journal was written: move forward.
    source = folder / journal["scratch"]
    with writing(folder):
        for number, name in enumerate(journal["files"]):
            if number == 1:
                pause_at("move")  # with one file moved: a SIGKILL here cuts the moves
            if (source / name).exists():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(source / name, folder / name)
        for name in journal["remove"]:
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(source, ignore_errors=True)
        journal_path.unlink()
    return True


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends; then the first that came acts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda n, _: came.append(n)) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if came:
        _act_on(came[0], previous[came[0]])


def _act_on(signum: int, handler: object) -> None:
    """What the handler set before would have done with signal ``signum``."""
    if callable(handler):
        handler(signum, sys._getframe())
    elif handler == signal.SIG_DFL:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Interrupted(signum)
