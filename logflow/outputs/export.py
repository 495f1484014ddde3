"""Write what logflow found: the tables (Parquet, CSV or NDJSON) and the JSON report.

A folder of tables holds a marker (:data:`~logflow.reading.inputs.OUTPUT_MARKER`) saying
logflow wrote it, so that it is never read back as logs; each file is written whole or not
at all.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import polars as pl

from logflow import schema
from logflow.errors import writing
from logflow.outputs import machine
from logflow.outputs.files import replacing
from logflow.outputs.report import Report
from logflow.pipeline import TABLE_NAMES, Parsed, parse
from logflow.reading.inputs import OUTPUT_MARKER

Format = Literal["parquet", "csv", "ndjson"]
FORMATS: tuple[Format, ...] = ("parquet", "csv", "ndjson")
EVENTS = "events"


def export(
    paths: Iterable[str | Path],
    out_dir: Path,
    *,
    format: Format = "parquet",
    keep_other: bool = False,
    **options: Any,
) -> tuple[Parsed, list[Path]]:
    """Parse ``paths`` into tables in ``out_dir``, as ``format`` files; the events are
    written as they are parsed, never held in memory whole. ``options`` go to
    :func:`logflow.parse`."""
    created = not out_dir.exists()
    with writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        # A folder of its own is marked before anything is in it; a folder that was there
        # (maybe one of logs) only once it holds the tables.
        if created:
            _mark(out_dir)
    # Parsed into Parquet in any case (a hidden file while it is written), then turned into
    # the format asked for a batch at a time.
    events_file = out_dir / f".{EVENTS}.parquet.partial"
    try:
        parsed = parse(
            paths, keep="none", events_file=events_file, keep_other=keep_other, **options
        ).require_network_events()
        about = _about(parsed)
        events = pl.scan_parquet(events_file)
        written = [
            _write(EVENTS, events, out_dir, format, about),
            *write_tables(parsed, out_dir, format, about),
        ]
        _mark(out_dir)
        return parsed, written
    except BaseException:
        # A run that fails leaves no folder of its own behind (an interrupt included).
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        events_file.unlink(missing_ok=True)


def write_tables(
    parsed: Parsed, out_dir: Path, format: Format = "parquet", about: dict[str, str] | None = None
) -> list[Path]:
    """Write the connections, races, proxy failures, path changes and listeners, one table
    in memory at a time."""
    about = about if about is not None else _about(parsed)
    return [
        _write(name, parsed.tables.collect(name).lazy(), out_dir, format, about)
        for name in TABLE_NAMES
    ]


def _about(parsed: Parsed) -> dict[str, str]:
    """What a Parquet file says of the run that wrote it, in its key-value metadata."""
    return {
        "logflow.version": version(),
        "logflow.sources": json.dumps(list(parsed.sources)),
        "logflow.report": json.dumps(Report.of(parsed).to_dict(), default=str),
    }


def _write(
    name: str, table: pl.LazyFrame, out_dir: Path, format: Format, about: dict[str, str]
) -> Path:
    """Table ``name`` to its file in ``out_dir``, streamed: Parquet (zstd; each column's
    description in its field metadata, the run in the file's), CSV (lists and structs as
    JSON text, times ISO 8601) or NDJSON."""
    path = out_dir / f"{name}.{format}"
    with replacing(path) as partial:
        if format == "parquet":
            table.sink_parquet(
                partial,
                compression="zstd",
                arrow_schema=schema.parquet_schema(name, table.collect_schema()),
                metadata={**schema.parquet_metadata(name), **about},
            )
        elif format == "csv":
            machine.flat(table).sink_csv(partial, datetime_format=machine.TIME_FORMAT)
        else:
            table.sink_ndjson(partial)
    return path


def _mark(out_dir: Path) -> None:
    """Say in ``out_dir`` that logflow wrote it."""
    marker = json.dumps({"written_by": "logflow", "version": version()}) + "\n"
    with writing(out_dir):
        (out_dir / OUTPUT_MARKER).write_text(marker, encoding="utf-8")


def version() -> str:
    """This logflow's version, as installed."""
    return importlib.metadata.version("logflow")


def write_report(report: Report, path: Path) -> None:
    """Write the report as indented JSON."""
    with replacing(path) as partial:
        partial.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
