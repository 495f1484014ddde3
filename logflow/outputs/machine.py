"""Tables for programs: JSON lines and CSV, every column as the table holds it.

JSON keeps lists as lists, structs as objects and nulls as null. CSV has no nested values, so
a list or a struct is written as its JSON text (``["C8.1.1","C8.1.2"]``): its nulls and the
position of each item survive, and any JSON parser reads it back. An empty cell is a null.
Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import polars as pl

F = TypeVar("F", pl.DataFrame, pl.LazyFrame)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6f%:z"


def json_lines(frame: pl.DataFrame) -> str:
    """One JSON object per row, a line each."""
    return frame.write_ndjson()


def csv_text(frame: pl.DataFrame) -> str:
    """A header line, then a line per row; lists and structs as JSON text."""
    return flat(frame).write_csv(datetime_format=TIME_FORMAT)


def flat(frame: F) -> F:
    """``frame`` with its lists and structs as JSON text: what a CSV cell can hold."""
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    nested = [name for name, dtype in schema.items() if dtype.is_nested()]
    return frame.with_columns(_json_text(pl.col(name)) for name in nested)


def json_object(data: dict[str, Any]) -> str:
    """One JSON object on one line: what ``--json`` prints for a command that is no table."""
    return json.dumps(data, default=str, ensure_ascii=False)


def _json_text(column: pl.Expr) -> pl.Expr:
    """A nested value as JSON text; a null as a null (an empty cell)."""
    # Polars encodes structs only: wrap the value in one and take the value's text back out.
    wrapped = pl.struct(column.alias("v")).struct.json_encode()
    text = wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
    return pl.when(column.is_not_null()).then(text).alias(column.meta.output_name())
