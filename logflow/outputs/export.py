"""Write what logflow found: the Parquet tables and the JSON report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from logflow.errors import writing
from logflow.outputs.report import Report
from logflow.pipeline import TABLE_NAMES, Parsed, parse

EVENTS_FILE = "events.parquet"


def export(
    paths: Iterable[str | Path], out_dir: Path, *, keep_other: bool = False, **options: Any
) -> tuple[Parsed, list[Path]]:
    """Parse ``paths`` into Parquet tables in ``out_dir``; the events are written as they are
    parsed, never held in memory whole. ``options`` go to :func:`logflow.parse`."""
    events_file = out_dir / EVENTS_FILE
    created = not out_dir.exists()
    with writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    try:
        parsed = parse(
            paths, keep="none", events_file=events_file, keep_other=keep_other, **options
        ).require_network_events()
        return parsed, [events_file, *write_tables(parsed, out_dir)]
    except BaseException:
        # A run that fails leaves no folder of its own behind (an interrupt included).
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def write_tables(parsed: Parsed, out_dir: Path) -> list[Path]:
    """Write the connections, races, proxy failures, path changes and listeners (Parquet, zstd)."""
    written = []
    for name in TABLE_NAMES:
        path = out_dir / f"{name}.parquet"
        with writing(path):
            out_dir.mkdir(parents=True, exist_ok=True)
            # From the files the tables were built into: one table in memory at a time.
            parsed.tables.collect(name).write_parquet(path, compression="zstd")
        written.append(path)
    return written


def write_report(report: Report, path: Path) -> None:
    """Write the report as indented JSON."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
