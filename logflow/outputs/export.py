"""Write what logflow found: the tables (Parquet, CSV or NDJSON) and the JSON report.

An export's tables are one set, written whole or not at all
(:class:`~logflow.outputs.files.OutputSet`), with a run id in the report, in every Parquet
file's metadata and in the marker (:data:`~logflow.reading.inputs.OUTPUT_MARKER`) that says
logflow wrote the folder, so that it is never read back as logs.
"""

from __future__ import annotations

import importlib.metadata
import json
import secrets
import shutil
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from logflow import schema
from logflow.engine import SINK_ENGINE
from logflow.errors import Interrupted, WriteError, writing
from logflow.outputs import machine
from logflow.outputs.files import OutputSet, finish_moves, replacing
from logflow.outputs.report import Report
from logflow.pipeline import TABLE_NAMES, Parsed, parse
from logflow.reading.inputs import OUTPUT_MARKER
from logflow.testing import pause_at

Format = Literal["parquet", "csv", "ndjson"]
FORMATS: tuple[Format, ...] = ("parquet", "csv", "ndjson")
EVENTS = "events"
# The events as parsed, in the set's scratch, before they are written as asked.
PARSED_EVENTS = f".parsed-{EVENTS}.parquet"


@dataclass(frozen=True)
class Exported:
    """What an export wrote: its run id, the parse and its report, and the tables' files."""

    run_id: str
    parsed: Parsed
    report: Report
    files: list[Path]


def export(
    paths: Iterable[str | Path],
    out_dir: Path,
    *,
    format: Format = "parquet",
    keep_other: bool = False,
    report_path: Path | None = None,
    **options: Any,
) -> Exported:
    """Parse ``paths`` into tables in ``out_dir``, as ``format`` files, and the report to
    ``report_path`` if given; the events are written as they are parsed, never held in
    memory whole. ``options`` go to :func:`logflow.parse`.

    Whatever stops the run, ``out_dir`` then holds the whole set of tables of the run
    before, or of this one; a folder the run made is removed. An interrupt comes out as
    :class:`~logflow.errors.Interrupted`, saying what was kept.
    """
    created = not out_dir.exists()
    with writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    output = None
    try:
        # A set a killed run left half-moved is finished first: it is the set this replaces.
        finish_moves(out_dir)
        output = OutputSet(out_dir, replaces=_previous_set(out_dir))
        with output:
            # Parsed into Parquet in any case: the set's own file, or one written as asked
            # from it, a batch at a time.
            as_parquet = format == "parquet"
            if as_parquet:
                events = output.path(f"{EVENTS}.parquet")
            else:
                events = output.scratch / PARSED_EVENTS
            parsed = parse(
                paths,
                keep="none",
                events_file=events,
                keep_other=keep_other,
                events_metadata=lambda parsed: _about(parsed, Report.of(parsed, run_id=run_id)),
                **options,
            ).require_network_events()
            report = Report.of(parsed, run_id=run_id)
            about = _about(parsed, report)
            pause_at("write")
            if not as_parquet:
                events = _write(EVENTS, pl.scan_parquet(events), output, format, about)
            tables = [events, *write_tables(parsed, output, format, about)]
            # A report in the folder is one of the set; one elsewhere is written after it.
            report_inside = report_path is not None and _is_in(report_path, out_dir)
            report_file = [output.path(report_path.name)] if report_path and report_inside else []
            for path in report_file:
                write_report(report, path)
            _mark(output.path(OUTPUT_MARKER), run_id, [*tables, *report_file])
            output.commit()
        if report_path is not None and not report_inside:
            write_report(report, report_path)
    except BaseException as failure:
        # Signals are held while the set is moved in: one that came then acts after.
        committed = output is not None and output.committed
        if created and not committed:
            shutil.rmtree(out_dir, ignore_errors=True)
        if isinstance(failure, (KeyboardInterrupt, Interrupted)):
            signum = failure.signum if isinstance(failure, Interrupted) else signal.SIGINT
            kept = _kept(out_dir, created=created, committed=committed, report=report_path)
            raise Interrupted(signum, kept) from None
        if isinstance(failure, WriteError) and output and failure.path.parent == output.scratch:
            # Name the file the user asked for, not its scratch copy.
            name = failure.path.name
            name = f"{EVENTS}.{format}" if name == PARSED_EVENTS else name
            raise WriteError(out_dir / name, failure.error) from None
        raise
    return Exported(run_id, parsed, report, [out_dir / table.name for table in tables])


def new_run_id() -> str:
    """An id for one run's output set: when it started (UTC), and a random part."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(3)}"


def _is_in(path: Path, folder: Path) -> bool:
    return path.parent.resolve() == folder.resolve()


def _kept(out_dir: Path, *, created: bool, committed: bool, report: Path | None) -> str:
    """What an interrupted export left, in a few words."""
    if committed:
        report_written = report is None or _is_in(report, out_dir)
        return f"the new tables are in {out_dir}" + (
            "" if report_written else f", {report} not written"
        )
    if created:
        return f"nothing written, {out_dir} not created"
    if (out_dir / OUTPUT_MARKER).exists():
        return f"nothing written, {out_dir} holds the tables of the run before, as they were"
    return f"nothing written to {out_dir}"


def _previous_set(out_dir: Path) -> list[str]:
    """The files of the set an earlier run wrote in ``out_dir``: what its marker lists, or
    (a marker of a logflow that listed none) every file an export can write."""
    try:
        marker = json.loads((out_dir / OUTPUT_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if isinstance(marker, dict) and isinstance(marker.get("files"), list):
        return [str(name) for name in marker["files"]]
    return [f"{name}.{format}" for name in (EVENTS, *TABLE_NAMES) for format in FORMATS]


def write_tables(
    parsed: Parsed,
    output: OutputSet,
    format: Format = "parquet",
    about: dict[str, str] | None = None,
) -> list[Path]:
    """Write the connections, races, proxy failures, path changes and listeners into an
    output set, one table in memory at a time."""
    about = about if about is not None else _about(parsed, Report.of(parsed))
    return [
        _write(name, parsed.tables.collect(name).lazy(), output, format, about)
        for name in TABLE_NAMES
    ]


def _about(parsed: Parsed, report: Report) -> dict[str, str]:
    """What a Parquet file says of the run that wrote it, in its key-value metadata."""
    return {
        "logflow.version": version(),
        "logflow.run_id": report.run_id or "",
        "logflow.sources": json.dumps(list(parsed.sources)),
        "logflow.report": json.dumps(report.to_dict(), default=str),
    }


def _write(
    name: str, table: pl.LazyFrame, output: OutputSet, format: Format, about: dict[str, str]
) -> Path:
    """Table ``name`` to its file in the set, streamed: Parquet (zstd; each column's
    description in its field metadata, the run in the file's), CSV (lists and structs as
    JSON text, times ISO 8601) or NDJSON."""
    path = output.path(f"{name}.{format}")
    with writing(output.folder / path.name):
        if format == "parquet":
            table.sink_parquet(
                path,
                compression="zstd",
                arrow_schema=schema.parquet_schema(name, table.collect_schema()),
                metadata={**schema.parquet_metadata(name), **about},
                engine=SINK_ENGINE,
            )
        elif format == "csv":
            machine.flat(table).sink_csv(
                path, datetime_format=machine.TIME_FORMAT, engine=SINK_ENGINE
            )
        else:
            table.sink_ndjson(path, engine=SINK_ENGINE)
    return path


def _mark(path: Path, run_id: str, files: list[Path]) -> None:
    """Say that logflow wrote the folder, in which run, and which files are the set."""
    marker = {
        "written_by": "logflow",
        "version": version(),
        "run_id": run_id,
        "files": [file.name for file in files],
    }
    with writing(path):
        path.write_text(json.dumps(marker) + "\n", encoding="utf-8")


def version() -> str:
    """This logflow's version, as installed."""
    return importlib.metadata.version("logflow")


def write_report(report: Report, path: Path) -> None:
    """Write the report as indented JSON."""
    with replacing(path) as partial:
        partial.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
