"""Values as people read them, as Polars expressions: clock times in the log's own offset,
offsets from the capture's start, durations in ms or s, lists joined, processes named.

Every table printed for people (:mod:`logflow.outputs.tables`), the trees and the summary
format their values here, so that a time reads the same wherever it is shown.
"""

from __future__ import annotations

import polars as pl

from logflow.analysis.clock import local_time


def clock(ts: pl.Expr, offset: pl.Expr) -> pl.Expr:
    """``09:41:07.123``: the time of day as the log printed it, to the millisecond."""
    return local_time(ts, offset).dt.strftime("%H:%M:%S%.3f")


def duration(seconds: pl.Expr) -> pl.Expr:
    """Seconds for people: ``0.4 ms``, ``180 ms``, ``2.35 s``, ``4m 08s``; null stays null."""
    ms = seconds * 1000
    whole_minutes = (seconds // 60).cast(pl.Int64)
    rest = (seconds - whole_minutes * 60).round(0).cast(pl.Int64)
    return (
        pl.when(seconds.abs() < 0.01)
        .then(ms.round(1).cast(pl.String) + " ms")
        .when(seconds.abs() < 1)
        .then(ms.round(0).cast(pl.Int64).cast(pl.String) + " ms")
        .when(seconds.abs() < 60)
        .then(seconds.round(2).cast(pl.String) + " s")
        .otherwise(whole_minutes.cast(pl.String) + "m " + rest.cast(pl.String).str.zfill(2) + "s")
    )


def size(n_bytes: pl.Expr) -> pl.Expr:
    """``512 B``, ``48.2 kB``, ``2.3 MB``: bytes in decimal units, as network tools count."""
    return (
        pl.when(n_bytes < 1000)
        .then(n_bytes.cast(pl.String) + " B")
        .when(n_bytes < 1_000_000)
        .then((n_bytes / 1000).round(1).cast(pl.String) + " kB")
        .otherwise((n_bytes / 1_000_000).round(1).cast(pl.String) + " MB")
    )


def since(ts: pl.Expr, start: pl.Expr) -> pl.Expr:
    """``+12.4 s``: how long after ``start`` (the capture's first event) ``ts`` came."""
    elapsed = (ts - start).dt.total_microseconds() / 1e6
    return pl.when(elapsed >= 0).then("+" + duration(elapsed)).otherwise(duration(elapsed))


def joined(items: pl.Expr) -> pl.Expr:
    """A list as ``a, b, c``; an empty list as nothing."""
    return items.list.join(", ").replace("", None)


def who(process: pl.Expr, pid: pl.Expr) -> pl.Expr:
    """``Weather[2317]``, or the process alone where no pid was logged."""
    name = process.fill_null("?")
    return pl.when(pid.is_not_null()).then(pl.format("{}[{}]", name, pid)).otherwise(name)


def name_of(process: str | None, pid: int | None) -> str:
    """``who`` for one row already in Python: ``Weather[2317]``, or the process alone."""
    return f"{process or '?'}[{pid}]" if pid is not None else (process or "?")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 file``, ``1,204 files``: a count with its noun, plural where it needs one."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"
