"""Write what logflow found: the Parquet tables and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from logflow.pipeline import Parsed
from logflow.report import Report

EVENTS_FILE = "events.parquet"


def write_events(parsed: Parsed, out_dir: Path, *, keep_other: bool = False) -> Path:
    """Write ``out_dir/events.parquet`` (zstd) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / EVENTS_FILE
    parsed.events(keep_other=keep_other).sink_parquet(path, compression="zstd")
    return path


def write_report(report: Report, path: Path) -> None:
    """Write the report as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
