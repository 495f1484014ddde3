"""Keep the events the connection trees are built from, tree by tree, in memory or on disk.

The trees and every diagnosis read one connection tree at a time (a process's C8 and all
under it), never two. So the rows they need (:func:`logflow.tree.tree_events`) are kept per
tree: in memory while they are few, and once they pass :data:`SPILL_ROWS`, in Arrow IPC files
in a temporary folder, hashed by (source, process, pid, root id) into :data:`PARTITIONS`
partitions, so that no tree is ever split between two. The trees are then built a batch of
partitions at a time, and memory stays flat however long the input.

Each spill is one file, every row marked with its partition; a batch is read back from all of
them by partition.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from logflow.schema import CONNECTION_KEY

PARTITIONS = 64
# About what a million `log show` lines leave; the trees of that many rows are built at once.
SPILL_ROWS = 200_000

TREE = pl.struct(*CONNECTION_KEY[:-1], root=pl.col("conn_id").str.extract(r"^([^.]+)", 1))


class TreeEvents:
    """The rows the trees are built from, added a chunk at a time, read back a batch at a time.

    Use it as a context manager: the spilled files are removed on exit.
    """

    def __init__(self, *, spill_rows: int = SPILL_ROWS) -> None:
        self.spill_rows = spill_rows
        self.frames: list[pl.DataFrame] = []
        self.rows = 0
        self.folder: tempfile.TemporaryDirectory[str] | None = None
        self.rows_in: list[int] = [0] * PARTITIONS
        self.files = 0

    def __enter__(self) -> TreeEvents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, rows: pl.DataFrame) -> None:
        """Keep ``rows`` (of :func:`logflow.tree.tree_events`)."""
        if self.folder is None:
            self.frames.append(rows)
            self.rows += rows.height
            if self.rows > self.spill_rows:
                self._spill(pl.concat(self.frames))
                self.frames = []
        else:
            self._spill(rows)

    def batches(self) -> Iterator[pl.LazyFrame]:
        """All rows kept, in batches that each hold whole trees."""
        if self.folder is None:
            yield pl.concat(self.frames).lazy()
            return
        batch: list[int] = []
        for part in range(PARTITIONS):
            if batch and sum(self.rows_in[p] for p in (*batch, part)) > self.spill_rows:
                yield self._scan(batch)
                batch = []
            if self.rows_in[part]:
                batch.append(part)
        if batch:
            yield self._scan(batch)

    def close(self) -> None:
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None

    def _spill(self, rows: pl.DataFrame) -> None:
        """Write rows to one more file, each marked with its partition."""
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="logflow-")
        parts = rows.with_columns(part=(TREE.hash(seed=0) % PARTITIONS).cast(pl.Int32))
        for part, n in parts.group_by("part").len().iter_rows():
            self.rows_in[part] += n
        self.files += 1
        parts.write_ipc(self._path(self.files))

    def _path(self, number: int) -> Path:
        assert self.folder is not None
        return Path(self.folder.name) / f"{number:06d}.arrow"

    def _scan(self, parts: list[int]) -> pl.LazyFrame:
        """The rows of these partitions, from every file, in the order they were added."""
        files = [self._path(number) for number in range(1, self.files + 1)]
        return pl.scan_ipc(files).filter(pl.col("part").is_in(parts)).drop("part")
