"""Where the command line's text goes: a terminal (its width, colour) or a pipe, and the
progress shown on stderr while a long parse or a fleet's exports run."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from logflow.outputs.tables import Screen


def is_terminal(stream: object) -> bool:
    """Whether ``stream`` is a terminal a person reads (tests stand in for one here)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def screen(color: bool | None) -> Screen:
    """Standard output as it is: a terminal's width, or None for a pipe; colour as asked,
    else on a terminal unless ``NO_COLOR`` (https://no-color.org) or ``TERM=dumb`` says no."""
    terminal = is_terminal(sys.stdout)
    if color is None:
        color = terminal and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    width = shutil.get_terminal_size().columns if terminal else None
    return Screen(width=width, color=color)


# A parse done sooner than this shows no progress at all: a bar that flashes says nothing.
SHOW_AFTER_S = 0.5


class _Amount(ProgressColumn):
    """Bytes and their rate while reading; events while building the trees."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes, self.rate = DownloadColumn(), TransferSpeedColumn()

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "bytes":
            return Text.assemble(self.bytes.render(task), " ", self.rate.render(task))
        return Text(f"{task.completed:,.0f}/{task.total or 0:,.0f} events")


class ParseProgress:
    """:class:`logflow.pipeline.Progress` on stderr: bytes read of the total, with rate and
    time left (of a pipe: bytes and rate), then the trees built as a step of their own."""

    def __init__(self) -> None:
        self.bar = _bar(_Amount())
        self.read: TaskID | None = None
        self.built: TaskID | None = None
        self.since = time.monotonic()

    def reading(self, done: int, total: int | None) -> None:
        if time.monotonic() - self.since < SHOW_AFTER_S:
            return
        if self.read is None:
            self.bar.start()
            self.read = self.bar.add_task("reading", total=total, unit="bytes")
        self.bar.update(self.read, completed=done)

    def building(self, done: int, total: int) -> None:
        if time.monotonic() - self.since < SHOW_AFTER_S:
            return
        if self.built is None:
            self.bar.start()
            if self.read is not None:
                self.bar.update(self.read, completed=self.bar.tasks[self.read].total)
            self.built = self.bar.add_task("building trees", total=total, unit="events")
        self.bar.update(self.built, completed=done)

    def stop(self) -> None:
        self.bar.stop()


class ExportsProgress:
    """A fleet's progress on stderr, ``(done, total)`` exports, with the time left."""

    def __init__(self) -> None:
        self.bar = _bar(TextColumn("{task.completed:,.0f}/{task.total:,.0f} exports"))
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("exporting", total=total)
        self.bar.update(self.task, completed=done, total=total)

    def stop(self) -> None:
        self.bar.stop()


Shown = TypeVar("Shown", ParseProgress, ExportsProgress)


@contextmanager
def progress(shown: Callable[[], Shown], *, quiet: bool) -> Iterator[Shown | None]:
    """``shown()`` (:class:`ParseProgress`, :class:`ExportsProgress`) on stderr when it is a
    terminal and ``quiet`` is not set, else None; the bar goes when the work is done."""
    if quiet or not is_terminal(sys.stderr):
        yield None
        return
    bar = shown()
    try:
        yield bar
    finally:
        bar.stop()


def _bar(amount: ProgressColumn) -> Progress:
    """A progress bar on stderr: what is done, how far, ``amount``, the time left."""
    return Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        amount,
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
