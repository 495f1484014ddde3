"""The library entry points: paths in, the events table out.

Stages, each in its own module: :mod:`~logflow.inputs` (paths to numbered lines),
:mod:`~logflow.records` (lines to records), :mod:`~logflow.events` (records to events),
:mod:`~logflow.tree` (events to connection trees), :mod:`~logflow.diagnose` (races, proxy
failures, path changes).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from logflow.diagnose import path_changes, proxy_failures, races
from logflow.events import to_events
from logflow.inputs import Skipped, Text, lines_frame, read_texts
from logflow.records import group_records
from logflow.schema import CFNETWORK_KINDS, EVENT_SCHEMA, NETWORK_KINDS, OTHER, UNPARSED
from logflow.tree import connections


@dataclass(frozen=True)
class Parsed:
    """Every record of the inputs, and what it took to read them."""

    records: pl.DataFrame
    """All records, Network events or not: the columns of ``EVENT_SCHEMA``, and ``problem``
    (why a record is unparsed)."""
    lines_read: int
    decode_errors: int
    sources: tuple[str, ...]
    skipped: tuple[Skipped, ...] = ()
    """Files met in folders and not read, with the reason."""

    @functools.cached_property
    def _connections(self) -> pl.DataFrame:
        # Every diagnosis builds on the connections table: build it once per parse.
        return connections(self.events(keep_other=True)).collect()

    def connections(self) -> pl.LazyFrame:
        """The connections table (:func:`logflow.tree.connections`), CFNetwork tasks linked."""
        return self._connections.lazy()

    def races(self) -> pl.LazyFrame:
        """The races table (:func:`logflow.diagnose.races`)."""
        return races(self.connections())

    def proxy_failures(self) -> pl.LazyFrame:
        """The proxy failures table (:func:`logflow.diagnose.proxy_failures`)."""
        return proxy_failures(self.events(), self.connections())

    def path_changes(self) -> pl.LazyFrame:
        """The path changes table (:func:`logflow.diagnose.path_changes`)."""
        return path_changes(self.events())

    def events(self, *, keep_other: bool = False) -> pl.LazyFrame:
        """The events table: Network-framework events, plus other and unparsed records if asked."""
        kinds = NETWORK_KINDS
        if keep_other:
            kinds = (*NETWORK_KINDS, *CFNETWORK_KINDS, OTHER, UNPARSED)
        return self.records.lazy().filter(pl.col("kind").is_in(kinds)).select(*EVENT_SCHEMA)


def parse(paths: Iterable[str | Path]) -> Parsed:
    """Read and parse every input; raises :class:`~logflow.errors.InputError` for bad input."""
    texts, skipped = read_texts(paths)
    return parse_texts(texts, skipped=skipped)


def parse_texts(texts: list[Text], *, skipped: Iterable[Skipped] = ()) -> Parsed:
    """Parse texts already in memory (``Text("name", "...", 0)``), as :func:`parse` does."""
    lines = lines_frame(texts)
    return Parsed(
        records=to_events(group_records(lines)).collect(),
        lines_read=lines.height,
        decode_errors=sum(t.decode_errors for t in texts),
        sources=tuple(t.source for t in texts),
        skipped=tuple(skipped),
    )


def read(paths: Iterable[str | Path] | str | Path, *, keep_other: bool = False) -> pl.LazyFrame:
    """The events table of the given exports, as a ``LazyFrame``.

    Parameters
    ----------
    paths
        Files, folders (their log files), ``"-"`` for standard input; gzip'd files are fine.
    keep_other
        Keep records of other subsystems and unparsed records too (``kind`` tells them apart).

    Examples
    --------
    >>> events = read("sample_logs/logshow-default-race.log")  # doctest: +SKIP
    >>> events.filter(pl.col("conn_id") == "C8.1.2").collect()  # doctest: +SKIP
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return parse(paths).events(keep_other=keep_other)
