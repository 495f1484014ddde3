"""A fleet dataset on disk: one export's partitioned files, and the manifest of every export.

The layout, which every hive-partitioned reader (Polars, DuckDB, Spark) reads::

    DATASET/_manifest.parquet
    DATASET/<table>/device=<device>/date=<YYYY-MM-DD|unknown>/<export_id>-<n>.parquet

:func:`write_export` is the unit of work: it parses one export and writes its files itself
(each under a hidden temporary name, all renamed once all are written), then removes the
files of the export's previous version that the new ones did not replace. It takes and
returns plain values, so that a Dask worker can run it. The manifest is the client's:
:func:`write_manifest` replaces it whole, once the exports are done.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl

from logflow import schema, scratch
from logflow.engine import ENGINE, SINK_ENGINE
from logflow.errors import DatasetError, LogflowError, os_error, writing
from logflow.outputs.files import readable, replacing
from logflow.outputs.report import Report
from logflow.pipeline import parse
from logflow.reading.events import NO_DATE, NO_YEAR
from logflow.reading.inputs import MAX_RECORD_BYTES
from logflow.testing import fail_once

MANIFEST = "_manifest.parquet"
TABLES = schema.TABLES
# The time a row of each table is dated by.
DATED_BY = {
    "events": "ts",
    "connections": "first_ts",
    "races": "first_ts",
    "proxy_failures": "ts",
    "path_changes": "ts",
    "listeners": "first_ts",
}
UNKNOWN_DATE = "unknown"
# Rows of a table in one file: an export's events beyond it go to more files (<id>-1, ...).
FILE_ROWS = 1_000_000
OK, ERROR = "ok", "error"
# A file the dataset holds, as named: <export_id>-<n>.parquet.
FILE_NAME = re.compile(r"^[0-9a-f]{16}-\d+\.parquet$")
# A file being written: .<final name>.<random>.partial, beside it.
PARTIAL = ".partial"


def export_id(device: str, path: str) -> str:
    """The export's id: a hash of its device and its ``/``-separated path below the input
    root, the same in every run, so that a run replaces the files an earlier one wrote.

    Examples
    --------
    >>> export_id("iphone-7", "iphone-7/net.log")
    'e4b0a4b3c1c7b3d1'  # doctest: +SKIP
    """
    return hashlib.sha256(f"{device}\0{path}".encode()).hexdigest()[:16]


def record_date(ts: pl.Expr, fallback: str | None = None) -> pl.Expr:
    """``YYYY-MM-DD`` of a time, in UTC; ``fallback`` (else ``unknown``) where the log printed
    no date (reading/events.py's 1970-01-01), no year (its year 2000) or no time."""
    known = (
        ts.is_not_null()
        & (ts.dt.date() != dt.date.fromisoformat(NO_DATE))
        & (ts.dt.year() != NO_YEAR)
    )
    return (
        pl.when(known)
        .then(ts.dt.strftime("%Y-%m-%d"))
        .otherwise(pl.lit(fallback or UNKNOWN_DATE))
        .alias("date")
    )


def partition(table: str, device: str, date: str) -> str:
    """The folder of a table's rows of one device and day, relative to the dataset; the
    device's name %-encoded as hive readers decode it (``Anna%27s%20iPhone``)."""
    return f"{table}/device={quote(device, safe='')}/date={date}"


@dataclass(frozen=True)
class Written:
    """What :func:`write_export` did for one export: small, for a worker to send back."""

    export_id: str
    status: str
    error: str | None = None
    lines: int | None = None
    counts: dict[str, int] | None = None
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As plain data."""
        return asdict(self)


def write_export(
    path: str,
    dataset: str,
    export_id: str,
    device: str,
    *,
    date: str | None = None,
    old_files: list[str] | None = None,
    threads: int = 1,
    max_record_bytes: int = MAX_RECORD_BYTES,
    tmp_dir: str | None = None,
) -> dict[str, Any]:
    """Parse the export at ``path`` and write its tables into ``dataset``, partitioned by
    device and date, as files named ``<export_id>-<n>.parquet``; then remove ``old_files``
    (its previous version's, relative to ``dataset``) that the new ones did not replace.

    An export that cannot be read (:class:`~logflow.errors.LogflowError`: a binary file, no
    Network records) comes back with status ``error`` and leaves no file of its own, old ones
    included; any other failure is raised, for the engine to retry. Returns
    :meth:`Written.to_dict`.
    """
    folder = Path(dataset)
    if tmp_dir:
        scratch.use(Path(tmp_dir))
    work = scratch.folder("fleet")
    partials: list[tuple[Path, Path]] = []
    try:
        try:
            parsed = parse(
                [path],
                keep="none",
                events_file=work / "events.parquet",
                workers=threads,
                max_record_bytes=max_record_bytes,
            ).require_network_events()
        except LogflowError as err:
            _remove(folder, old_files or [])
            return Written(export_id, ERROR, error=str(err)).to_dict()
        report = Report.of(parsed)
        counts = {"network_events": report.network_events, "unparsed": report.unparsed}
        for table in TABLES:
            frame = (
                pl.scan_parquet(work / "events.parquet")
                if table == "events"
                else parsed.table(table)
            )
            written, rows = _write_table(folder, table, frame, export_id, device, date)
            partials += written
            counts[table] = rows
            if table == "events":
                fail_once(path)  # (a test's: with some files written)
        files = [str(final.relative_to(folder)) for _, final in partials]
        with writing(folder):
            for partial, final in partials:
                os.replace(partial, final)
        partials = []
        _remove(folder, sorted(set(old_files or []) - set(files)))
        return Written(export_id, OK, lines=parsed.lines_read, counts=counts, files=files).to_dict()
    finally:
        for partial, _ in partials:
            partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def _write_table(
    folder: Path,
    table: str,
    frame: pl.LazyFrame,
    export_id: str,
    device: str,
    date: str | None,
) -> tuple[list[tuple[Path, Path]], int]:
    """One table's rows of one export, each day's to temporary files in its partition; the
    (temporary, final) paths, and the rows."""
    rows = frame.with_columns(
        export_id=pl.lit(export_id), date=record_date(pl.col(DATED_BY[table]), date)
    )
    days = rows.group_by("date").agg(rows=pl.len()).sort("date").collect(engine=ENGINE)
    columns = rows.collect_schema()
    arrow_schema = _arrow_schema(table, columns)
    written: list[tuple[Path, Path]] = []
    for day, n_rows in zip(days["date"].to_list(), days["rows"].to_list(), strict=True):
        where = folder / partition(table, device, day)
        with writing(where):
            where.mkdir(parents=True, exist_ok=True)
        for n, offset in enumerate(range(0, n_rows, FILE_ROWS)):
            final = where / f"{export_id}-{n}.parquet"
            partial = _partial(final)
            written.append((partial, final))
            with writing(final):
                rows.filter(pl.col("date") == day).drop("date").slice(
                    offset, FILE_ROWS
                ).sink_parquet(
                    partial,
                    compression="zstd",
                    arrow_schema=arrow_schema,
                    metadata={**schema.parquet_metadata(table), "logflow.export_id": export_id},
                    engine=SINK_ENGINE,
                )
    return written, int(days["rows"].sum())


def _partial(final: Path) -> Path:
    """A new hidden file beside ``final`` to write it in. (Not :func:`logflow.scratch.file`,
    whose sweep judges a name by a pid of this machine: workers on other machines write
    into the same folders. The client removes what stopped runs left: :func:`leftovers`.)"""
    with writing(final):
        handle, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=PARTIAL, dir=final.parent)
    os.close(handle)
    readable(Path(name))  # as any new file is: other users' readers share the dataset
    return Path(name)


def _arrow_schema(table: str, columns: pl.Schema) -> Any:
    """The described Arrow schema of a table's rows with their ``export_id``."""
    import pyarrow as pa

    own = pl.Schema({k: v for k, v in columns.items() if k not in ("export_id", "date")})
    described = schema.parquet_schema(table, own)
    extra = pa.field(schema.EXPORT_ID.name, pa.large_string()).with_metadata(
        {schema.DESCRIPTION_KEY: schema.EXPORT_ID.description.encode()}
    )
    return pa.schema([*described, extra], metadata=described.metadata)


def _remove(folder: Path, files: list[str]) -> None:
    """Remove these files of the dataset (relative to it)."""
    for name in files:
        with writing(folder / name):
            (folder / name).unlink(missing_ok=True)


def read_manifest(dataset: Path) -> pl.DataFrame:
    """The manifest of ``dataset``: a row per export (:data:`~logflow.schema.MANIFEST_SCHEMA`);
    empty when there is none yet."""
    path = dataset / MANIFEST
    if not path.exists():
        return pl.DataFrame(schema=schema.MANIFEST_SCHEMA)
    try:
        return pl.read_parquet(path).select(
            pl.col(name).cast(dtype) for name, dtype in schema.MANIFEST_SCHEMA.items()
        )
    except (OSError, pl.exceptions.PolarsError) as err:
        msg = f"{path}: cannot read the dataset's manifest: {str(err).splitlines()[0]}"
        raise DatasetError(msg) from None


def write_manifest(dataset: Path, manifest: pl.DataFrame) -> bool:
    """Replace the manifest whole (written beside it, then renamed), unless it is unchanged;
    True if it was written."""
    manifest = manifest.sort("path", "device").select(*schema.MANIFEST_SCHEMA)
    if (dataset / MANIFEST).exists() and read_manifest(dataset).equals(manifest):
        return False
    with replacing(dataset / MANIFEST) as partial:
        manifest.write_parquet(partial, compression="zstd")
    return True


def leftovers(dataset: Path, manifest: pl.DataFrame) -> list[Path]:
    """Files in the dataset's partitions that no export of the manifest lists, and partial
    files: what a run stopped before it wrote the manifest left."""
    listed = set(manifest.select(pl.col("files").explode().drop_nulls())["files"].to_list())
    found = []
    for table in TABLES:
        for path in sorted((dataset / table).glob("device=*/date=*/*")):
            name = str(path.relative_to(dataset))
            unlisted = FILE_NAME.match(path.name) and name not in listed
            if unlisted or (path.name.startswith(".") and path.name.endswith(PARTIAL)):
                found.append(path)
    return found


def prune(dataset: Path) -> None:
    """Remove the partition folders left empty, once no export is being written."""
    for table in TABLES:
        for day in sorted((dataset / table).glob("device=*/date=*")):
            _rmdir(day)
        for device in sorted((dataset / table).glob("device=*")):
            _rmdir(device)


def _rmdir(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError as err:
        if os_error(err) is None:
            raise
