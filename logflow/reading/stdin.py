"""Standard input that can be ended from outside: a stream of ``log stream`` has no end of
its own, so the command line ends it at the first Ctrl-C (:func:`end`) and logflow goes on
with what it read.

The reader waits for data a moment at a time instead of blocking in ``read``, so that a
signal handler needs only to set a flag: what was read stays read, whenever it comes.
"""

from __future__ import annotations

import io
import os
import select
import sys
import threading
from typing import BinaryIO

# How long a wait for data lasts before the flag is looked at again.
POLL_SECONDS = 0.1
_ended = threading.Event()


def end() -> None:
    """End standard input: its reader sees the end of the data at its next read."""
    _ended.set()


def ended() -> bool:
    """Whether :func:`end` ended standard input."""
    return _ended.is_set()


def standard_input() -> BinaryIO:
    """Standard input's bytes, ending when the data does or :func:`end` says so."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return sys.stdin.buffer  # not a file (a test's), so nothing to wait on
    return io.BufferedReader(_EndableInput(fd), buffer_size=1 << 20)


class _EndableInput(io.RawIOBase):
    """A file descriptor read once data is there, or seen to end once :func:`end` is
    called."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not _ended.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], POLL_SECONDS)
            except (OSError, ValueError):
                ready = [self.fd]  # a descriptor select cannot wait on: just read
            if ready:
                data = os.read(self.fd, len(buffer))
                buffer[: len(data)] = data
                return len(data)
        return 0
