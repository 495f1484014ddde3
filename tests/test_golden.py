"""Golden cases: each file in tests/cases/ beside the rows it must give, reviewed by a person.

One case per envelope style and one line per message shape (messages.log). After a deliberate
change, rewrite the expectations with ``pytest tests/test_golden.py --update-golden`` and
review the diff before committing it.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from logflow.pipeline import parse

CASES = sorted((Path(__file__).parent / "cases").glob("*.log"))
COLUMNS = [
    "line_no", "n_lines", "envelope", "kind", "ts", "utc_offset", "level", "process", "pid",
    "tid", "subsystem", "category", "sender", "function", "conn_id", "instance", "parent_id",
    "related_id", "task_id",
    "endpoint", "host", "port", "transport", "state", "mode", "path_status", "interface", "event",
    "elapsed_s", "error_code", "error_domain", "error", "summary", "prefix", "message",
]  # fmt: skip


def rows_of(case: Path) -> list[dict]:
    records = parse([case]).records.select(COLUMNS)
    records = records.with_columns(pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ"))
    return [_without_nulls(row) for row in records.to_dicts()]


def _without_nulls(row: dict) -> dict:
    return {
        k: _without_nulls(v) if isinstance(v, dict) else v for k, v in row.items() if v is not None
    }


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_case_gives_the_reviewed_rows(case: Path, request: pytest.FixtureRequest) -> None:
    """The case parses to exactly the rows in its .events.jsonl file."""
    expected_path = case.with_suffix(".events.jsonl")
    rows = rows_of(case)
    if request.config.getoption("--update-golden"):
        expected_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        pytest.skip("expectations rewritten; review the diff")
    expected = [json.loads(line) for line in expected_path.read_text().splitlines()]
    assert rows == expected
