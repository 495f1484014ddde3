"""Keep the events the connection trees are built from, tree by tree, in memory or on disk.

The trees and every diagnosis read one connection tree at a time (a process's C8 and all
under it), never two. So the rows they need (:func:`logflow.analysis.tree.tree_events`) are kept per
tree: in memory while they are few, and once they pass :data:`SPILL_ROWS`, in Arrow IPC files
in a temporary folder, hashed by (source, process, pid, root id) into :data:`PARTITIONS`
partitions, so that no tree is ever split between two. The trees are then built a batch of
partitions at a time, and memory stays flat however long the input.

Each partition is one Arrow file, appended to at each spill, so a batch reads only its own.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa

from logflow import scratch
from logflow.reading.events import root_of
from logflow.schema import CONNECTION_KEY
from logflow.testing import pause_at

PARTITIONS = 64
# Rows held in memory before they go to disk: what about 270,000 `log show` lines leave.
SPILL_ROWS = 200_000
# Once on disk, the trees of about this many rows are built at once.
BATCH_ROWS = 100_000
# Spilled rows are LZ4-compressed: 4.6 times less disk (benchmarks/scratch.py: 0.38 GB per
# GB of text read, not 1.75) for about 2% more CPU time (1M lines, 3 alternating runs). On
# this thread: Arrow's pool, handed each column of 64 small pieces, took 0.5 to 1 CPU-second
# more per million lines (of about 2.5 for the spills) for no time gained, as every core is
# busy parsing meanwhile.
SPILL_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4", use_threads=False)

TREE = pl.struct(*CONNECTION_KEY[:-1], root=root_of(pl.col("conn_id")))


class TreeEvents:
    """The rows the trees are built from, added a chunk at a time, read back a batch at a time.

    Use it as a context manager: the spilled files are removed on exit.
    """

    def __init__(self, *, spill_rows: int = SPILL_ROWS) -> None:
        self.spill_rows = spill_rows
        self.batch_rows = min(spill_rows, BATCH_ROWS)
        self.frames: list[pl.DataFrame] = []
        self.rows = 0
        self.folder: Path | None = None
        self.writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self.rows_in = [0] * PARTITIONS

    def __enter__(self) -> TreeEvents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, rows: pl.DataFrame) -> None:
        """Keep ``rows`` (of :func:`logflow.analysis.tree.tree_events`)."""
        self.frames.append(rows)
        self.rows += rows.height
        # Once spilling, spill every chunk's rows at once: held, they would hold on to the
        # whole chunk's text they were cut from.
        if self.folder is not None or self.rows > self.spill_rows:
            self._spill()

    @property
    def total_rows(self) -> int:
        """The rows kept, in memory and on disk."""
        return self.rows + sum(self.rows_in)

    def batches(self) -> Iterator[pl.LazyFrame]:
        """All rows kept, in batches that each hold whole trees; the rows of a tree in the
        order they were added."""
        if self.folder is None:
            yield pl.concat(self.frames).lazy()
            return
        for writer in self.writers.values():
            writer.close()
        self.writers = {}
        batch: list[int] = []
        for part in range(PARTITIONS):
            if not self.rows_in[part]:
                continue
            if batch and sum(self.rows_in[p] for p in (*batch, part)) > self.batch_rows:
                yield pl.scan_ipc([self._path(p) for p in batch])
                batch = []
            batch.append(part)
        if batch:
            yield pl.scan_ipc([self._path(p) for p in batch])

    def close(self) -> None:
        """Remove the spilled files (their writers closed as well as a full disk lets)."""
        for writer in self.writers.values():
            with contextlib.suppress(Exception):
                writer.close()
        self.writers = {}
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def _spill(self) -> None:
        """Append the rows held to their partitions' files."""
        if self.folder is None:
            self.folder = scratch.folder("spill")
            pause_at("spill")
        # A chunk's rows at a time, as once spilling: all the rows held at once would take
        # as much memory again while they are sorted and converted, at the peak of the run.
        with scratch.writing_scratch():
            for rows in self.frames:
                self._write_partitions(rows)
        self.frames, self.rows = [], 0

    def _write_partitions(self, rows: pl.DataFrame) -> None:
        part = (TREE.hash(seed=0) % PARTITIONS).alias("part")
        # Sorted by partition (stably: a tree's rows stay in order), converted once, and cut.
        rows = rows.sort(part, maintain_order=True)
        counts = rows.select(part.value_counts(sort=False)).unnest("part").sort("part")
        table = rows.to_arrow()
        offset = 0
        for number, count in counts.iter_rows():
            piece = table.slice(offset, count)
            offset += count
            if number not in self.writers:
                path, options = self._path(number), SPILL_OPTIONS
                self.writers[number] = pa.ipc.new_file(path, piece.schema, options=options)
            self.writers[number].write_table(piece)
            self.rows_in[number] += count

    def _path(self, part: int) -> Path:
        assert self.folder is not None
        return self.folder / f"part-{part:02d}.arrow"
