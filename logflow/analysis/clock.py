"""The log's own clock: the wall-clock time a log printed for an instant, in the offset it
printed (``ts`` is UTC; ``utc_offset`` is what the log printed, null where it printed none
and its times were taken as UTC)."""

from __future__ import annotations

import polars as pl


def utc_offset(offset: pl.Expr) -> pl.Expr:
    """The duration of a printed offset: ``+0100`` is an hour; null (none printed) is zero."""
    offset = offset.fill_null("+0000")
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    hours = offset.str.slice(1, 2).cast(pl.Int64, strict=False).fill_null(0)
    minutes = offset.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
    return pl.duration(minutes=sign * (hours * 60 + minutes))


def local_time(ts: pl.Expr, offset: pl.Expr) -> pl.Expr:
    """The wall-clock time the log printed for ``ts``, as a naive datetime: the UTC instant
    moved by the log's offset (where it printed none, ``ts`` already is what it printed)."""
    return ts.dt.replace_time_zone(None) + utc_offset(offset)
