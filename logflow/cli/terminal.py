"""Where the command line's text goes: a terminal (its width, colour) or a pipe, and the
progress shown on stderr while a long parse runs."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
        self.bar = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            _Amount(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
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


@contextmanager
def progress(*, quiet: bool) -> Iterator[ParseProgress | None]:
    """Progress for a parse, on stderr when it is a terminal and ``quiet`` is not set."""
    if quiet or not is_terminal(sys.stderr):
        yield None
        return
    shown = ParseProgress()
    try:
        yield shown
    finally:
        shown.stop()


@contextmanager
def exports_progress(*, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Progress for a fleet's exports, ``(done, total)``: a bar on stderr when it is a
    terminal and ``quiet`` is not set, gone when they are all done."""
    if quiet or not is_terminal(sys.stderr):
        yield None
        return
    bar = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} exports"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task: list[TaskID] = []

    def show(done: int, total: int) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("exporting", total=total))
        bar.update(task[0], completed=done, total=total)

    try:
        yield show
    finally:
        bar.stop()
