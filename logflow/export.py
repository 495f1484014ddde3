"""Write what logflow found: the Parquet tables and the JSON report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from logflow.errors import OutputError
from logflow.pipeline import Parsed
from logflow.report import Report

EVENTS_FILE = "events.parquet"


def write_tables(parsed: Parsed, out_dir: Path, *, keep_other: bool = False) -> list[Path]:
    """Write the events, connections, races, proxy failures and path changes (Parquet, zstd)."""
    tables = {
        EVENTS_FILE: parsed.events(keep_other=keep_other),
        "connections.parquet": parsed.connections(),
        "races.parquet": parsed.races(),
        "proxy_failures.parquet": parsed.proxy_failures(),
        "path_changes.parquet": parsed.path_changes(),
    }
    written = []
    for name, table in tables.items():
        path = out_dir / name
        with _writing(path):
            out_dir.mkdir(parents=True, exist_ok=True)
            table.sink_parquet(path, compression="zstd")
        written.append(path)
    return written


def write_report(report: Report, path: Path) -> None:
    """Write the report as indented JSON."""
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn a failure to write ``path`` into an :class:`OutputError` that names it."""
    try:
        yield
    except OSError as exc:
        msg = f"{path}: cannot write: {exc.strerror or exc}"
        raise OutputError(msg) from None
