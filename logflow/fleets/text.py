"""The fleet summary for people: :meth:`~logflow.fleets.questions.Fleet.answers` as short
tables, each cut to its first rows and saying how many more (``--json`` has them all)."""

from __future__ import annotations

from typing import Any

import polars as pl

from logflow.fleets.questions import STORM_CHANGES
from logflow.outputs.cells import counted
from logflow.outputs.tables import MISSING, Screen, render, wrapped_lines

# Rows of each table shown before "... and N more".
SHOWN = 10

# Each answer's heading and its columns: header -> key in the answer's rows.
SECTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "failure_signatures": (
        "Failure signatures (error x host x interface x OS), by devices hit:",
        {
            "Error": "error",
            "Host": "host",
            "Interface": "interface",
            "OS": "os_version",
            "Devices": "devices",
            "Conns": "connections",
            "Attempts": "attempts",
        },
    ),
    "happy_eyeballs": (
        "Happy Eyeballs races, by the winner's address family:",
        {"Winner": "winner_family", "Outcome": "outcome", "Races": "races", "Devices": "devices"},
    ),
    "also_rans": (
        "Also-rans, by the winning family:",
        {
            "Winner": "winner_family",
            "Races": "races",
            "Also-rans": "also_rans",
            "IPv4": "ipv4",
            "IPv6": "ipv6",
            "Per race": "per_race",
            "Devices": "devices",
        },
    ),
    "proxy_failures": (
        "Proxy failures, by proxy:",
        {
            "Kind": "proxy_kind",
            "Proxy": "proxy",
            "Error": "error",
            "Failures": "failures",
            "Fell back": "fell_back",
            "Devices": "devices",
        },
    ),
    "path_change_storms": (
        f"Path-change storms ({STORM_CHANGES} or more changes in a minute on a device):",
        {
            "Device": "device",
            "Minute (UTC)": "minute",
            "Changes": "changes",
            "Conns": "connections",
            "Changed": "changed",
        },
    ),
    "worst_devices": (
        "Worst devices:",
        {
            "Device": "device",
            "Conns": "connections",
            "Failed": "failed",
            "Failed attempts": "failed_attempts",
            "Proxy failures": "proxy_failures",
            "Path changes": "path_changes",
            "Storms": "storms",
        },
    ),
}


def answers_text(answers: dict[str, Any], width: int | None = 80) -> str:
    """The fleet summary: what the dataset holds, then a table per question, fitted to
    ``width`` (None: a pipe, nothing wrapped)."""
    out = [_dataset_line(answers["dataset"])]
    # (indented by two)
    screen = Screen(width=None if width is None else width - 2)
    for name, (heading, columns) in SECTIONS.items():
        rows = answers[name]
        out += ["", heading]
        if not rows:
            out.append("  none")
            continue
        out.append(_indented(render(_cells(rows[:SHOWN], columns), screen)))
        if len(rows) > SHOWN:
            out.append(f"  ... and {len(rows) - SHOWN:,} more (--json lists all)")
    failed = answers["failed_exports"]
    if failed:
        out += ["", f"Exports that could not be read ({len(failed):,}):"]
        out += [f"  {row['error']}" for row in failed[:SHOWN]]
        if len(failed) > SHOWN:
            out.append(f"  ... and {len(failed) - SHOWN:,} more (--json lists all)")
    # Tables fit already; a line of text is wrapped under itself.
    return wrapped_lines("\n".join(out).split("\n"), width)


def _dataset_line(about: dict[str, Any]) -> str:
    """``fleet/: 40 exports of 8 devices (1 failed), 81,234 lines, 2025-03-14 to ...``."""
    failed = f" ({about['failed']:,} failed)" if about["failed"] else ""
    text = (
        f"{about['folder']}: {counted(about['exports'], 'export')} of "
        f"{counted(about['devices'] or 0, 'device')}{failed}, "
        f"{counted(about['lines'] or 0, 'line')}"
    )
    if about["first_date"]:
        text += f", {about['first_date']} to {about['last_date']}"
    if about["undated"]:
        text += f" ({counted(about['undated'], 'export')} with no date in the log)"
    return text + "."


def _cells(rows: list[dict[str, Any]], columns: dict[str, str]) -> pl.DataFrame:
    """Rows of an answer as text cells under their headers; a null is ``-``."""
    frame = pl.DataFrame(rows)
    return frame.select(
        _text(frame.schema[key], pl.col(key)).fill_null(MISSING).alias(header)
        for header, key in columns.items()
    )


def _text(dtype: pl.DataType, column: pl.Expr) -> pl.Expr:
    if isinstance(dtype, pl.List):
        return column.list.join(", ")
    if isinstance(dtype, pl.Datetime):
        return column.dt.strftime("%Y-%m-%d %H:%M")
    return column.cast(pl.String)


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" if line else line for line in text.split("\n"))
