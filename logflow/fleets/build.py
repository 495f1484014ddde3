"""Build or update a fleet dataset from folders of exports (``logflow export --dataset``).

:func:`build` lists the exports, tells each one's device (:mod:`~logflow.fleets.devices`),
skips those whose size and modification time the manifest already holds, runs the others
on an engine (:mod:`~logflow.fleets.engines`), each writing its own files
(:func:`~logflow.fleets.dataset.write_export`), and writes the manifest last.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from logflow import schema
from logflow.errors import DatasetError, InputError, Interrupted
from logflow.fleets import dataset as layout
from logflow.fleets.devices import identify, read_devices, unknown_device
from logflow.fleets.engines import Engine, Progress, run
from logflow.outputs.cells import counted
from logflow.reading.inputs import MAX_RECORD_BYTES, OUTPUT_MARKER, STDIN, input_files


@dataclass(frozen=True)
class Built:
    """What a run did to a dataset: its manifest after the run, and this run's part."""

    dataset: Path
    manifest: pl.DataFrame
    """Every export the dataset holds (:data:`~logflow.schema.MANIFEST_SCHEMA`)."""
    read: int
    """Exports of this run's inputs read (anew, or for the first time)."""
    unchanged: int
    """Exports of this run's inputs the dataset held as they are: not read again."""
    failed: pl.DataFrame
    """This run's exports that could not be read: ``path``, ``error``."""

    @property
    def exit_code(self) -> int:
        """1 when an export of this run failed, else 0."""
        return 1 if self.failed.height else 0

    def to_dict(self) -> dict[str, Any]:
        """What ``export --dataset --json`` prints: this run's counts, its failed exports,
        and what the dataset holds now."""
        ok = self.manifest.filter(pl.col("status") == layout.OK)
        return {
            "dataset": str(self.dataset),
            "read": self.read,
            "unchanged": self.unchanged,
            "failed": self.failed.to_dicts(),
            "exports": ok.height,
            "devices": ok["device"].n_unique(),
            "lines": int(ok["lines"].sum() or 0),
        }

    def account(self) -> str:
        """One line: what this run read, and what the dataset holds now."""
        ok = self.manifest.filter(pl.col("status") == layout.OK)
        devices = ok["device"].n_unique()
        parts = [f"Read {counted(self.read, 'export')}"]
        if self.unchanged:
            parts.append(f"{self.unchanged:,} unchanged")
        if self.failed.height:
            parts.append(f"{self.failed.height:,} failed")
        lines = int(ok["lines"].sum() or 0)
        return (
            f"{', '.join(parts)}. {self.dataset} holds {counted(ok.height, 'export')} of "
            f"{counted(devices, 'device')}, {counted(lines, 'line')}."
        )


def build(
    paths: list[str],
    dataset: Path,
    *,
    engine: Engine = Engine.THREADS,
    scheduler: str | None = None,
    workers: int | None = None,
    device: str | None = None,
    devices: Path | None = None,
    date: str | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    progress: Progress | None = None,
) -> Built:
    """Add the exports in ``paths`` (files and folders) to the dataset in ``dataset``.

    Parameters
    ----------
    engine, scheduler, workers
        Where the exports run (:func:`logflow.fleets.engines.run`).
    device, devices
        Who the exports came from: one device for all, or a devices file
        (:func:`~logflow.fleets.devices.read_devices`); else each path's first folder below
        the folder named.
    date
        The ``date`` partition (``YYYY-MM-DD``) of rows whose log prints no date.
    max_record_bytes
        The longest record kept whole (:func:`logflow.parse`).

    Raises
    ------
    InputError
        A path that is missing or holds no logs, an export whose device nothing tells.
    DatasetError
        ``dataset`` is something other than a dataset.
    """
    # A running scheduler's workers start elsewhere: they get absolute paths.
    if scheduler is not None:
        paths, dataset = [os.path.abspath(p) for p in paths], dataset.absolute()
    planned = plan(paths, device=device, devices=read_devices(devices) if devices else None)
    _check_dataset(dataset)
    manifest = layout.read_manifest(dataset)
    # What a run stopped before its manifest left, no export's: removed first.
    for path in layout.leftovers(dataset, manifest):
        path.unlink(missing_ok=True)
    previous = manifest.select(
        "export_id", old_size="size", old_mtime="mtime", old="files", was="status"
    )
    planned = planned.join(previous, on="export_id", how="left", maintain_order="left")
    same = (
        (pl.col("size") == pl.col("old_size"))
        & (pl.col("mtime") == pl.col("old_mtime"))
        & (pl.col("was") == layout.OK)
    ).fill_null(False)
    todo = planned.filter(~same)
    jobs = [
        {
            "path": source,
            "dataset": str(dataset),
            "export_id": export_id,
            "device": name,
            "date": date,
            "old_files": old or [],
            "max_record_bytes": max_record_bytes,
        }
        for source, export_id, name, old in zip(
            todo["source"].to_list(),
            todo["export_id"].to_list(),
            todo["device"].to_list(),
            todo["old"].to_list(),
            strict=True,
        )
    ]
    try:
        results = run(jobs, engine=engine, scheduler=scheduler, workers=workers, progress=progress)
    except (KeyboardInterrupt, Interrupted) as stop:
        signum = stop.signum if isinstance(stop, Interrupted) else signal.SIGINT
        left = f"{dataset}'s manifest as it was; the next run redoes what this one left undone"
        raise Interrupted(signum, left) from None
    written = pl.DataFrame(
        results,
        schema={
            "export_id": pl.String,
            "status": pl.String,
            "error": pl.String,
            "lines": pl.Int64,
            "counts": schema.MANIFEST_SCHEMA["counts"],
            "files": pl.List(pl.String),
        },
    )
    # The unchanged keep their row, with what the devices file says of them now.
    kept = (
        planned.filter(same)
        .select("export_id", "model", "os_version")
        .join(manifest.drop("model", "os_version"), on="export_id")
    )
    new_rows = todo.join(written, on="export_id", maintain_order="left")
    rows = pl.concat(
        [
            manifest.filter(~pl.col("export_id").is_in(planned["export_id"].implode())),
            kept.select(*schema.MANIFEST_SCHEMA),
            new_rows.select(*schema.MANIFEST_SCHEMA),
        ]
    )
    layout.write_manifest(dataset, rows)
    layout.prune(dataset)
    return Built(
        dataset=dataset,
        manifest=layout.read_manifest(dataset),
        read=todo.height,
        unchanged=planned.height - todo.height,
        failed=new_rows.filter(pl.col("status") == layout.ERROR).select("path", "error"),
    )


def plan(
    paths: list[str], *, device: str | None = None, devices: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The exports in ``paths``: ``export_id``, ``path`` (below its root: a folder named, or
    a file's own folder), ``source`` (as read), ``device``, ``model``, ``os_version``,
    ``size``, ``mtime``; a file named twice is one export."""
    sources, relatives, seen = [], [], set()
    for raw in paths:
        if raw == STDIN:
            msg = "a dataset is built from files: save standard input to a file first"
            raise InputError(msg)
        root = Path(raw)
        if not root.exists():
            msg = f"{raw}: no such file or folder"
            raise InputError(msg)
        if root.is_dir() and (root / OUTPUT_MARKER).exists():
            msg = f"{raw}: a folder logflow wrote ({OUTPUT_MARKER} says so), not logs"
            raise InputError(msg)
        files = (input_files([root]) or []) if root.is_dir() else [root]
        if not files:
            msg = f"{raw}: folder holds no log files"
            raise InputError(msg)
        for file in files:
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
            sources.append(str(file))
            relatives.append(file.relative_to(root).as_posix() if root.is_dir() else file.name)
    found = identify(relatives, device=device, devices=devices)
    nameless = found.filter(pl.col("device").is_null())
    if nameless.height:
        raise unknown_device(sources[relatives.index(nameless["path"][0])])
    stats = [Path(source).stat() for source in sources]
    ids = [
        layout.export_id(name, path)
        for name, path in zip(found["device"].to_list(), relatives, strict=True)
    ]
    exports = found.with_columns(
        export_id=pl.Series(ids, dtype=pl.String),
        source=pl.Series(sources, dtype=pl.String),
        size=pl.Series([s.st_size for s in stats], dtype=pl.Int64),
        mtime=pl.Series([s.st_mtime_ns // 1000 for s in stats], dtype=pl.Int64)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC"),
    )
    twice = exports.filter(pl.col("export_id").is_duplicated())
    if twice.height:
        first, second = twice["source"].head(2).to_list()
        msg = (
            f"{first} and {second} are one export to the dataset (device "
            f"{twice['device'][0]}, path {twice['path'][0]}): name each once"
        )
        raise InputError(msg)
    return exports.select(
        "export_id", "path", "source", "device", "model", "os_version", "size", "mtime"
    )


def _check_dataset(dataset: Path) -> None:
    """Refuse to write a dataset into a folder that holds something else."""
    if dataset.exists() and not dataset.is_dir():
        msg = f"{dataset}: not a folder; name a folder for the dataset"
        raise DatasetError(msg)
    if not dataset.is_dir() or (dataset / layout.MANIFEST).exists():
        return
    if (dataset / OUTPUT_MARKER).exists():
        msg = f"{dataset}: holds the tables of an export without --dataset; name another folder"
        raise DatasetError(msg)
    others = [p.name for p in dataset.iterdir() if p.name not in layout.TABLES]
    if others:
        msg = f"{dataset}: not a dataset (no {layout.MANIFEST}) and not empty; name another folder"
        raise DatasetError(msg)
