"""The library entry points: paths in, the events table and the diagnoses out.

Stages, each in its own module: :mod:`~logflow.inputs` (paths to blocks of numbered lines),
:mod:`~logflow.records` (lines to records), :mod:`~logflow.events` (records to events),
:mod:`~logflow.tree` (events to connection trees), :mod:`~logflow.diagnose` (races, proxy
failures, path changes).

This module runs them. The first three work a chunk of whole records at a time, one chunk
per core at once; of each chunk it keeps the counts, the events if asked (in memory, or
written to Parquet as they come) and the rows the trees are built from
(:mod:`~logflow.partition`). So memory stays flat however long the input, and the files of a
folder are read side by side. The trees and diagnoses are built at the end, a batch of whole
trees at a time.
"""

from __future__ import annotations

import io
import os
import shutil
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from logflow import scratch
from logflow.analysis.diagnose import (
    connection_path_changes,
    group_system_changes,
    link_pac_failures,
    listeners,
    proxy_failures,
    races,
)
from logflow.analysis.filters import Filters
from logflow.analysis.partition import SPILL_ROWS, TreeEvents
from logflow.analysis.tree import (
    NODE,
    PROCESS,
    client_attempts,
    connections,
    tls_stream_links,
    tree_events,
)
from logflow.engine import ENGINE
from logflow.errors import InputError, LogflowError, writing
from logflow.reading.events import to_events
from logflow.reading.inputs import (
    BLOCK_BYTES,
    MAX_RECORD_BYTES,
    Block,
    CutShort,
    Inputs,
    Skipped,
    Text,
    text_blocks,
)
from logflow.reading.records import UNKNOWN_ENVELOPE, cut_problem, group_records, record_chunks
from logflow.reading.redact import Redactor
from logflow.schema import (
    CFNETWORK_KINDS,
    EVENT_SCHEMA,
    NETWORK_KINDS,
    OTHER,
    UNPARSED,
    described_schema,
)
from logflow.testing import pause_at

# Records kept as examples of what did not parse.
MAX_EXAMPLES = 20

T = TypeVar("T")
R = TypeVar("R")


class Progress(Protocol):
    """Told how a parse is getting on: first the reading, then the building of the trees."""

    def reading(self, done: int, total: int | None) -> None:
        """``done`` bytes of the inputs read, of ``total`` (None: unknown, as of a pipe)."""

    def building(self, done: int, total: int) -> None:
        """The trees of ``done`` events built, of ``total``."""


Keep = Literal["records", "none"]


def event_kinds(*, keep_other: bool = False) -> tuple[str, ...]:
    """The kinds of record in the events table: Network's, or every kind with ``keep_other``."""
    if keep_other:
        return (*NETWORK_KINDS, *CFNETWORK_KINDS, OTHER, UNPARSED)
    return NETWORK_KINDS


@dataclass(frozen=True)
class Tables:
    """The connections table and the diagnoses, in Arrow files in ``folder``, a file a batch.

    The folder is removed with the last reference to this object: collect what you keep.
    """

    folder: Path

    def collect(self, name: str) -> pl.DataFrame:
        """Table ``name`` (one of :data:`TABLE_NAMES`), sorted, in memory."""
        files = pl.scan_ipc(sorted(self.folder.glob(f"{name}-*.arrow")))
        if name == "path_changes":
            return group_system_changes(files).collect(engine=ENGINE)
        table = files.collect(engine=ENGINE)
        if name == "connections":
            table = _link_client_attempts(_link_tls_streams(table))
        if name == "proxy_failures" and table["conn_id"].null_count():
            connections = self.collect("connections").lazy()
            table = link_pac_failures(table.lazy(), connections).collect(engine=ENGINE)
        return _sorted(table, TABLE_ORDER[name])


TABLE_NAMES = ("connections", "races", "proxy_failures", "path_changes", "listeners")
# How each table is sorted (path changes sort themselves when grouped).
TABLE_ORDER = {
    "connections": (*PROCESS, "first_ts", "first_line", "conn_id"),
    "races": (*PROCESS, "parent_id"),
    "proxy_failures": (*PROCESS, "ts", "conn_id"),
    "listeners": (*PROCESS, "listener_id"),
}


@dataclass(frozen=True)
class Parsed:
    """What the inputs held: counts, the events, and the trees built from them."""

    lines_read: int
    decode_errors: int
    sources: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    kind_counts: dict[str, int]
    """Records of each kind."""
    unparsed_examples: pl.DataFrame
    """The first unparsed records: ``source``, ``line_no``, ``reason``."""
    unknown_envelopes: int
    """Network events that came with an envelope no row shape knows."""
    unknown_envelope_examples: pl.DataFrame
    """The first of them: ``source``, ``line_no``, ``prefix``."""
    process_events: pl.DataFrame
    """Network events per process: ``source``, ``process``, ``pid``, ``events``, the first
    and last event's ``first_ts`` and ``last_ts``, and the ``utc_offset`` the log printed."""
    tables: Tables
    kept: pl.DataFrame | Path | None
    """Every record (in memory), the events written to a Parquet file, or nothing."""
    kept_other: bool = False
    """Whether the events written to a file include other and unparsed records."""
    control_chars: int = 0
    """Control characters in the text (NUL and the like), replaced with U+FFFD."""
    records_cut: int = 0
    """Records longer than ``max_record_bytes``: cut, and unparsed."""
    cut_short: tuple[CutShort, ...] = ()
    """The inputs read only up to a point (binary data after a text start), and where."""

    @property
    def captures(self) -> pl.DataFrame:
        """One row per input that held Network events: ``source``, ``events``, ``first_ts``,
        ``last_ts`` and the ``utc_offset`` its clock printed (null: none, its times are as
        printed), in the order read. A capture's start is where offsets like ``+30s`` count
        from."""
        return self.process_events.group_by("source", maintain_order=True).agg(_merged_spans())

    @property
    def records(self) -> pl.DataFrame:
        """All records, Network events or not: ``EVENT_SCHEMA`` and ``problem`` (why a record
        is unparsed). Only when parsed with ``keep="records"``."""
        if not isinstance(self.kept, pl.DataFrame):
            msg = "the records were not kept; parse with keep='records'"
            raise LogflowError(msg)
        return self.kept

    def events(self, filters: Filters | None = None, *, keep_other: bool = False) -> pl.LazyFrame:
        """The events table: Network-framework events, plus other and unparsed records if
        asked; only those ``filters`` keep (``Filters(conn="C8")``: C8's and its attempts')."""
        if isinstance(self.kept, Path):
            if keep_other and not self.kept_other:
                msg = f"{self.kept} holds Network events only; parse with keep_other=True"
                raise LogflowError(msg)
            events = pl.scan_parquet(self.kept)
        else:
            events = self.records.lazy().select(*EVENT_SCHEMA)
        events = events.filter(pl.col("kind").is_in(event_kinds(keep_other=keep_other)))
        if filters is None or not filters.picks_trees:
            return events
        return filters.events(events, self._collected("connections"), self.captures)

    def connections(self) -> pl.LazyFrame:
        """The connections table (:func:`logflow.analysis.tree.connections`), tasks linked."""
        return self._collected("connections")

    def races(self) -> pl.LazyFrame:
        """The races table (:func:`logflow.analysis.diagnose.races`)."""
        return self._collected("races")

    def proxy_failures(self) -> pl.LazyFrame:
        """The proxy failures table (:func:`logflow.analysis.diagnose.proxy_failures`)."""
        return self._collected("proxy_failures")

    def path_changes(self) -> pl.LazyFrame:
        """The path changes table (:func:`logflow.analysis.diagnose.path_changes`)."""
        return self._collected("path_changes")

    def listeners(self) -> pl.LazyFrame:
        """The listeners table (:func:`logflow.analysis.diagnose.listeners`)."""
        return self._collected("listeners")

    def require_network_events(self) -> Parsed:
        """This parse, if its inputs held any Network-framework event (or any record that
        did not parse, which may be one); else an :class:`~logflow.errors.InputError` saying
        how to get some."""
        if not any(self.kind_counts.get(kind) for kind in (*NETWORK_KINDS, UNPARSED)):
            where = self.sources[0] if len(self.sources) == 1 else f"{len(self.sources)} files"
            msg = (
                f"found no Network-framework records in {where}; export them on the Mac with "
                "log show --info --debug --predicate 'subsystem == \"com.apple.network\"'"
            )
            raise InputError(msg)
        return self

    def table(self, name: str, filters: Filters | None = None) -> pl.LazyFrame:
        """Table ``name`` (one of :data:`TABLE_NAMES`), only the rows ``filters`` keep:
        ``parsed.table("races", Filters(process="Weather"))``."""
        if name not in TABLE_NAMES:
            msg = f"no table {name!r}: the tables are {', '.join(TABLE_NAMES)}"
            if name == "events":
                msg += "; the events are parsed.events()"
            raise ValueError(msg)
        table = self._collected(name)
        if filters is None or not filters.picks_trees:
            return table
        if name == "connections":
            return filters.connections(table, self.captures)
        trees = filters.trees(self._collected("connections"), self.captures)
        return filters.table(name, table, trees, self.captures)

    def _collected(self, name: str) -> pl.LazyFrame:
        # Collected once, in memory: a frame that outlives this object needs no files.
        cache = self.__dict__.setdefault("_tables_collected", {})
        if name not in cache:
            cache[name] = self.tables.collect(name)
        return cache[name].lazy()


def parse(
    paths: Iterable[str | Path] | str | Path,
    *,
    keep: Keep = "records",
    events_file: Path | None = None,
    keep_other: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    block_bytes: int = BLOCK_BYTES,
    spill_rows: int = SPILL_ROWS,
    max_record_bytes: int = MAX_RECORD_BYTES,
    redact: Redactor | None = None,
    events_metadata: Callable[[Parsed], dict[str, str]] | None = None,
) -> Parsed:
    """Read and parse every input; raises :class:`~logflow.errors.InputError` for bad input.

    Parameters
    ----------
    keep
        ``"records"`` keeps every record in memory (:attr:`Parsed.records`), ``"none"`` keeps
        only the counts and the trees: what a summary of a huge export needs.
    events_file
        Write the events table to this Parquet file as it is parsed, instead of keeping it
        (``keep_other`` says which records it holds), its columns described
        (:func:`logflow.schema.described_schema`).
    events_metadata
        The events file's key-value metadata, of the parse it ends (which it is written
        with once the trees are built: the file is written once, never copied).
    workers
        Chunks parsed at once; one per core by default.
    block_bytes, spill_rows
        How much of a file is read at once, and how many tree rows are held in memory before
        they go to disk; tests and benchmarks set them. The results depend on none of
        ``workers``, ``block_bytes`` and ``spill_rows``, but for what is judged from a file's
        first block: its emptiness.
    max_record_bytes
        The longest record kept, in bytes (a line, or a record's lines together): a longer
        one is cut there and unparsed (:attr:`Parsed.records_cut`). A line is cut as it is
        read, so that a line of any length takes bounded memory.
    redact
        Parse the lines as this :class:`~logflow.reading.redact.Redactor` redacts them: every
        table, and the sources' names, hold pseudonyms, not identifiers. Files are read
        twice, the first time to learn the names to replace.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if redact is not None:
        redact.read_names(paths)
    inputs = Inputs(list(paths), block_bytes=block_bytes, max_record_bytes=max_record_bytes)
    return _parse_blocks(
        inputs.blocks(),
        measure=inputs.position if progress is not None else None,
        sources=inputs.sources,
        skipped=inputs.skipped,
        cut_short=inputs.cut_short,
        keep=keep,
        events_file=events_file,
        keep_other=keep_other,
        workers=workers,
        progress=progress,
        spill_rows=spill_rows,
        redact=redact,
        events_metadata=events_metadata,
    )


def parse_texts(texts: list[Text], *, skipped: Iterable[Skipped] = (), **options) -> Parsed:
    """Parse texts already in memory (``Text("name", "...", 0)``), as :func:`parse` does."""
    return _parse_blocks(
        text_blocks(texts), sources=[t.source for t in texts], skipped=list(skipped), **options
    )


def parse_chunk(chunk: Block) -> pl.DataFrame:
    """The records of a chunk of whole records (:func:`logflow.reading.records.record_chunks`)."""
    # Collected in between: to_events reads the records twice, and Polars would group twice.
    return _events(_records(chunk))


def _records(chunk: Block) -> pl.DataFrame:
    """A chunk's lines grouped into records, their envelopes read."""
    return group_records(chunk.frame(), max_record_bytes=chunk.max_record_bytes).collect(
        engine=ENGINE
    )


def _events(records: pl.DataFrame) -> pl.DataFrame:
    """The records with their messages read: kinds, connection ids and fields."""
    return to_events(records.lazy()).collect(engine=ENGINE)


def _parse_blocks(
    blocks: Iterator[Block],
    *,
    sources: list[str],
    skipped: list[Skipped],
    cut_short: list[CutShort] | None = None,
    keep: Keep = "records",
    events_file: Path | None = None,
    keep_other: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    measure: Callable[[], tuple[int, int | None]] | None = None,
    spill_rows: int = SPILL_ROWS,
    redact: Redactor | None = None,
    events_metadata: Callable[[Parsed], dict[str, str]] | None = None,
) -> Parsed:
    """Parse the blocks; ``measure`` says how much of the inputs is read, of how much."""
    if keep not in ("records", "none"):
        msg = f"keep must be 'records' or 'none', not {keep!r}"
        raise ValueError(msg)
    with TreeEvents(spill_rows=spill_rows) as trees:
        collector = _Collector(
            trees, keep=keep, events_file=events_file, keep_other=keep_other, workers=workers
        )
        try:
            chunks = record_chunks(blocks)
            work = collector.digest
            if redact is not None:
                work = lambda chunk: collector.digest(redact.block(chunk))  # noqa: E731
            # Three stages at once: this thread reads and cuts the chunks, the workers parse
            # and digest them, one more thread adds the digests up in order (writing the
            # events file and spilling the trees' rows as it goes).
            with _InOrder(collector.add, serial=_workers(workers) == 1) as adding:
                for number, digest in enumerate(_in_parallel(work, chunks, workers)):
                    adding.submit(digest)
                    if number == 0:
                        pause_at("read")
                    if progress is not None and measure is not None:
                        progress.reading(*measure())
            if redact is not None:  # (the inputs' names are known once they are read)
                sources, skipped, cut_short = _redacted_names(redact, sources, skipped, cut_short)
            parsed = collector.parsed(
                sources=tuple(sources),
                skipped=tuple(skipped),
                cut_short=tuple(cut_short or ()),
                progress=progress,
            )
            collector.finish(events_metadata(parsed) if events_metadata is not None else {})
        finally:
            collector.close()
        return parsed


def _redacted_names(
    redact: Redactor, sources: list[str], skipped: list[Skipped], cut_short: list[CutShort] | None
) -> tuple[list[str], list[Skipped], list[CutShort]]:
    """The inputs' names as the redacted tables give them (a path may hold a user name)."""
    return (
        [redact.text(source) for source in sources],
        [replace(s, path=redact.text(s.path)) for s in skipped],
        [replace(c, path=redact.text(c.path)) for c in cut_short or ()],
    )


def _workers(workers: int | None) -> int:
    return workers or os.cpu_count() or 1


def _in_parallel(work: Callable[[T], R], items: Iterable[T], workers: int | None) -> Iterator[R]:
    """``work`` on each item, ``workers`` at once, the results in the items' order."""
    workers = _workers(workers)
    if workers == 1:
        yield from map(work, items)
        return
    # Polars releases the GIL while it works, so threads use every core. One item more is
    # taken ahead than are being worked on, so that the next is ready when a worker is free;
    # no more, which bounds memory.
    with ThreadPoolExecutor(workers, thread_name_prefix="logflow") as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _InOrder:
    """``then`` on each item submitted, one at a time and in order, on a thread of its own
    (or on this one, ``serial``); at most :attr:`BACKLOG` items wait. Leaving the ``with``
    block waits for them all, and raises what ``then`` raised first."""

    BACKLOG = 2

    def __init__(self, then: Callable[[T], object], *, serial: bool = False) -> None:
        self.then = then
        self.pool = None if serial else ThreadPoolExecutor(1, thread_name_prefix="logflow-add")
        self.pending: deque[Future] = deque()

    def __enter__(self) -> _InOrder:
        return self

    def submit(self, item: T) -> None:
        if self.pool is None:
            self.then(item)
            return
        self.pending.append(self.pool.submit(self.then, item))
        while len(self.pending) > self.BACKLOG:
            self.pending.popleft().result()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.pool is None:
            return
        try:
            if kind is None:
                while self.pending:
                    self.pending.popleft().result()
        finally:
            for future in self.pending:
                future.cancel()
            self.pool.shutdown(wait=True)


@dataclass(frozen=True, eq=False)
class _Digest:
    """What is kept of one chunk (:meth:`_Collector.digest`)."""

    lines: int
    decode_errors: int
    control_chars: int
    records_cut: int
    kind_counts: dict[str, int]
    unparsed: pl.DataFrame
    """The first unparsed records, as :attr:`Parsed.unparsed_examples`."""
    unknown_envelopes: int
    unknown_envelope_examples: pl.DataFrame
    process_events: pl.DataFrame
    tree_rows: pl.DataFrame
    events: pa.Table | None
    """The rows of the events file."""
    records: pl.DataFrame | None
    """Every record, to keep in memory."""


class _Collector:
    """What is kept of each chunk's records: each chunk is parsed and digested on a worker
    thread (:meth:`digest`), and the digests are added up in input order (:meth:`add`)."""

    def __init__(
        self,
        trees: TreeEvents,
        *,
        keep: Keep,
        events_file: Path | None,
        keep_other: bool,
        workers: int | None = None,
    ) -> None:
        self.trees = trees
        self.workers = workers
        self.keep = keep
        self.events_file = events_file
        self.event_kinds = event_kinds(keep_other=keep_other)
        self.writer: pq.ParquetWriter | None = None
        self.records: list[pl.DataFrame] = []
        self.lines_read = 0
        self.decode_errors = 0
        self.control_chars = 0
        self.records_cut = 0
        self.kind_counts: dict[str, int] = {}
        self.examples: list[pl.DataFrame] = []
        self.n_examples = 0
        self.unknown_envelopes = 0
        self.unknown_examples: list[pl.DataFrame] = []
        self.process_events: list[pl.DataFrame] = []

    def digest(self, chunk: Block) -> _Digest:
        """Parse a chunk and cut what is kept of it; safe to run on several threads at once."""
        records = parse_chunk(chunk)
        unparsed = records.filter(pl.col("kind") == UNPARSED).head(MAX_EXAMPLES)
        unknown = records.filter(
            pl.col("kind").is_in(NETWORK_KINDS) & (pl.col("envelope") == UNKNOWN_ENVELOPE)
        )
        events = None
        if self.events_file is not None:
            events = (
                records.filter(pl.col("kind").is_in(self.event_kinds))
                .select(*EVENT_SCHEMA)
                .to_arrow()
            )
        return _Digest(
            lines=chunk.lines.len(),
            decode_errors=chunk.decode_errors,
            control_chars=chunk.control_chars,
            records_cut=records.select(
                (pl.col("problem") == cut_problem(chunk.max_record_bytes)).sum()
            ).item(),
            kind_counts=dict(records.group_by("kind").len().iter_rows()),
            unparsed=_compact(unparsed.select("source", "line_no", reason="problem")),
            unknown_envelopes=unknown.height,
            unknown_envelope_examples=_compact(
                unknown.head(MAX_EXAMPLES).select("source", "line_no", "prefix")
            ),
            process_events=_compact(
                records.filter(pl.col("kind").is_in(NETWORK_KINDS))
                .group_by(PROCESS, maintain_order=True)
                .agg(
                    events=pl.len(),
                    first_ts=pl.col("ts").min(),
                    last_ts=pl.col("ts").max(),
                    utc_offset=pl.col("utc_offset").drop_nulls().first(),
                )
            ),
            tree_rows=tree_events(records.lazy()).collect(engine=ENGINE),
            events=events,
            records=records if self.events_file is None and self.keep == "records" else None,
        )

    def add(self, digest: _Digest) -> None:
        """Add a chunk's digest to those of the chunks before it."""
        self.lines_read += digest.lines
        self.decode_errors += digest.decode_errors
        self.control_chars += digest.control_chars
        self.records_cut += digest.records_cut
        for kind, n in digest.kind_counts.items():
            self.kind_counts[kind] = self.kind_counts.get(kind, 0) + n
        if self.n_examples < MAX_EXAMPLES:
            self.examples.append(digest.unparsed)
            self.n_examples += digest.unparsed.height
        if self.unknown_envelopes < MAX_EXAMPLES:
            self.unknown_examples.append(digest.unknown_envelope_examples)
        self.unknown_envelopes += digest.unknown_envelopes
        self.process_events.append(digest.process_events)
        self.trees.add(digest.tree_rows)
        if digest.events is not None:
            self._write_events(digest.events)
        if digest.records is not None:
            self.records.append(digest.records)

    def _write_events(self, events: pa.Table) -> None:
        assert self.events_file is not None
        with writing(self.events_file):
            if self.writer is None:
                described = described_schema("events", events.schema)
                self.writer = pq.ParquetWriter(self._partial, described, compression="zstd")
            self.writer.write_table(events)

    @property
    def _partial(self) -> Path:
        """Where the events are written until the parse is done: a failed parse leaves no
        events file beside the tables of an earlier one."""
        assert self.events_file is not None
        return self.events_file.with_name(f".{self.events_file.name}.partial")

    def finish(self, metadata: dict[str, str]) -> None:
        """Close the events file, with ``metadata``, under its own name."""
        if self.writer is not None:
            assert self.events_file is not None
            with writing(self.events_file):
                self.writer.add_key_value_metadata(metadata)
                self.writer.close()
                self.writer = None
                self._partial.replace(self.events_file)

    def close(self) -> None:
        """Drop what a parse that failed half-way wrote."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self._partial.unlink(missing_ok=True)

    def parsed(
        self,
        *,
        sources: tuple[str, ...],
        skipped: tuple[Skipped, ...],
        cut_short: tuple[CutShort, ...] = (),
        progress: Progress | None = None,
    ) -> Parsed:
        kept: pl.DataFrame | Path | None = None
        if self.events_file is not None:
            kept = self.events_file
        elif self.keep == "records":
            kept = pl.concat(self.records)
        return Parsed(
            lines_read=self.lines_read,
            decode_errors=self.decode_errors,
            sources=sources,
            skipped=skipped,
            kind_counts=self.kind_counts,
            unparsed_examples=pl.concat(self.examples).head(MAX_EXAMPLES),
            unknown_envelopes=self.unknown_envelopes,
            unknown_envelope_examples=pl.concat(self.unknown_examples).head(MAX_EXAMPLES),
            process_events=pl.concat(self.process_events)
            .group_by(PROCESS, maintain_order=True)
            .agg(_merged_spans()),
            tables=_tables(self.trees, progress, self.workers),
            kept=kept,
            kept_other=self.event_kinds != NETWORK_KINDS,
            control_chars=self.control_chars,
            records_cut=self.records_cut,
            cut_short=cut_short,
        )


def _merged_spans() -> list[pl.Expr]:
    """Counts and spans of events (``events``, ``first_ts``, ``last_ts``, ``utc_offset``)
    of several parts, as one."""
    return [
        pl.col("events").sum(),
        pl.col("first_ts").min(),
        pl.col("last_ts").max(),
        pl.col("utc_offset").drop_nulls().first(),
    ]


def _tables(
    trees: TreeEvents, progress: Progress | None = None, workers: int | None = None
) -> Tables:
    """The connections table and the diagnoses, built a batch of whole trees at a time,
    ``workers`` batches at once.

    Each batch's tables go to Arrow files as it is built (their size grows with the input,
    not the memory); the tables read them back, sorted, when collected.
    """
    pause_at("trees")
    tables = Tables(scratch.folder("tables"))
    weakref.finalize(tables, shutil.rmtree, tables.folder, ignore_errors=True)

    def build(numbered: tuple[int, pl.LazyFrame]) -> int:
        number, batch = numbered
        rows, built = _batch_tables(batch)
        for name, table in zip(TABLE_NAMES, built, strict=True):
            table.write_ipc(tables.folder / f"{name}-{number:06d}.arrow")
        return rows

    with scratch.writing_scratch():
        done = 0
        for rows in _in_parallel(build, enumerate(trees.batches()), workers):
            done += rows
            if progress is not None:
                progress.building(done, trees.total_rows)
    return tables


def _link_tls_streams(conns: pl.DataFrame) -> pl.DataFrame:
    """Link each QUIC connection's TLS stream again over the whole table: the two are two
    trees, maybe built in two batches. Only the few rows that can be streams are joined."""
    links = tls_stream_links(conns.lazy()).collect(engine=ENGINE)
    rows = conns["conn_id"].is_in(links["conn_id"].implode()).arg_true()
    if rows.is_empty():
        return conns
    linked = (
        conns[rows]
        .select(NODE)
        .join(links, on=list(NODE), how="left", nulls_equal=True, maintain_order="left")
    )
    column = conns["tls_stream_of"].clone().scatter(rows, linked["tls_stream_of"])
    return conns.with_columns(column)


def _link_client_attempts(conns: pl.DataFrame) -> pl.DataFrame:
    """Link each inbound connection to the client attempt it came from over the whole table:
    a client and its server are two trees, often two files, maybe built in two batches."""
    rows = conns["inbound"].arg_true()
    if rows.is_empty():
        return conns
    links = client_attempts(conns.lazy()).collect(engine=ENGINE)
    # (A struct column cannot be scattered into: the table is joined, when a server's is in it.)
    return (
        conns.drop("client_attempt")
        .join(links, on=list(NODE), how="left", nulls_equal=True, maintain_order="left")
        .select(conns.columns)
    )


def _sorted(frame: pl.DataFrame, by: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` sorted by ``by`` (nulls last, ties in their order), a column at a time.

    Sorting a frame gathers every column at once, so for a moment it is in memory twice;
    gathering one column at a time, dropping each as it is done, keeps it there once.
    """
    order = frame.select(
        pl.int_range(pl.len()).sort_by(list(by), nulls_last=True, maintain_order=True)
    ).to_series()
    return pl.DataFrame([frame.drop_in_place(name).gather(order) for name in frame.columns])


def _batch_tables(batch: pl.LazyFrame) -> tuple[int, tuple[pl.DataFrame, ...]]:
    """The rows of one batch of trees, and its connections, races, proxy failures, path
    changes and listeners."""
    events, conns = _trees(batch)
    return events.height, (conns, *_diagnoses(events, conns))


def _trees(batch: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A batch's tree rows, and a row for each connection of its trees."""
    # Read once, used by every table; a spilled partition comes back in many small pieces.
    events = batch.collect(engine=ENGINE).rechunk()
    return events, connections(events.lazy()).collect(engine=ENGINE)


def _diagnoses(events: pl.DataFrame, conns: pl.DataFrame) -> tuple[pl.DataFrame, ...]:
    """A batch's races, proxy failures, path changes and listeners."""
    return (
        races(conns.lazy()).collect(engine=ENGINE),
        proxy_failures(events.lazy(), conns.lazy()).collect(engine=ENGINE),
        connection_path_changes(events.lazy()).collect(engine=ENGINE),
        listeners(events.lazy()).collect(engine=ENGINE),
    )


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of ``frame`` that holds only its own text.

    Polars' strings are views into shared buffers: a few rows kept from a large frame keep
    the large frame's text alive. Results kept until the end of a parse are copied, so that
    memory stays flat however many chunks and batches go by.
    """
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    buffer.seek(0)
    return pl.read_ipc(buffer)
