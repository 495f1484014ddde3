"""Keep the events the connection trees are built from, tree by tree, in memory or on disk.

The trees and every diagnosis read one connection tree at a time (a process's C8 and all
under it), never two. So the rows they need (:func:`logflow.tree.tree_events`) are kept per
tree: in memory while they are few, and once they pass :data:`SPILL_ROWS`, in Arrow IPC files
in a temporary folder, hashed by (source, process, pid, root id) into :data:`PARTITIONS`
partitions, so that no tree is ever split between two. The trees are then built a batch of
partitions at a time, and memory stays flat however long the input.

Each spill is one file, its rows sorted by partition, so that a batch (a run of partitions) is
one stretch of each file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from logflow.schema import CONNECTION_KEY

PARTITIONS = 64
# Rows held in memory before they go to disk: what about 270,000 `log show` lines leave.
SPILL_ROWS = 200_000
# Once on disk, the trees of about this many rows are built at once.
BATCH_ROWS = 100_000

TREE = pl.struct(*CONNECTION_KEY[:-1], root=pl.col("conn_id").str.extract(r"^([^.]+)", 1))


class TreeEvents:
    """The rows the trees are built from, added a chunk at a time, read back a batch at a time.

    Use it as a context manager: the spilled files are removed on exit.
    """

    def __init__(self, *, spill_rows: int = SPILL_ROWS) -> None:
        self.spill_rows = spill_rows
        self.batch_rows = min(spill_rows, BATCH_ROWS)
        self.frames: list[pl.DataFrame] = []
        self.rows = 0
        self.folder: tempfile.TemporaryDirectory[str] | None = None
        self.spills: list[tuple[Path, list[int]]] = []
        """Each spilled file, and how many rows of each partition it holds."""

    def __enter__(self) -> TreeEvents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, rows: pl.DataFrame) -> None:
        """Keep ``rows`` (of :func:`logflow.tree.tree_events`)."""
        self.frames.append(rows)
        self.rows += rows.height
        # Once spilling, spill every chunk's rows at once: held, they would hold on to the
        # whole chunk's text they were cut from.
        if self.spills or self.rows > self.spill_rows:
            self._spill()

    def batches(self) -> Iterator[pl.LazyFrame]:
        """All rows kept, in batches that each hold whole trees, rows in the order added."""
        if not self.spills:
            yield pl.concat(self.frames).lazy()
            return
        if self.frames:
            self._spill()
        rows_in = [sum(counts[part] for _, counts in self.spills) for part in range(PARTITIONS)]
        first = 0
        for part in range(1, PARTITIONS + 1):
            if part == PARTITIONS or sum(rows_in[first : part + 1]) > self.batch_rows:
                yield self._scan(first, part)
                first = part

    def close(self) -> None:
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None

    def _spill(self) -> None:
        """Write the rows held to one more file, sorted by partition (stably)."""
        if self.folder is None:
            self.folder = tempfile.TemporaryDirectory(prefix="logflow-")
        rows = pl.concat(self.frames)
        rows = rows.with_columns(part=(TREE.hash(seed=0) % PARTITIONS).cast(pl.Int32))
        rows = rows.sort("part", maintain_order=True)
        held = dict(rows.group_by("part").len().iter_rows())
        counts = [held.get(part, 0) for part in range(PARTITIONS)]
        rows = rows.drop("part")
        path = Path(self.folder.name) / f"{len(self.spills):06d}.arrow"
        rows.write_ipc(path)
        self.spills.append((path, counts))
        self.frames, self.rows = [], 0

    def _scan(self, first: int, end: int) -> pl.LazyFrame:
        """The rows of partitions ``first`` to ``end - 1``: one stretch of every file."""
        stretches = [
            pl.scan_ipc(path).slice(sum(counts[:first]), sum(counts[first:end]))
            for path, counts in self.spills
        ]
        return pl.concat(stretches)
