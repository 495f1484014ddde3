"""Second stage: name every line's shape and group lines into records.

A record is one log entry: the line that starts it and the lines that continue it (the
tab-indented summary block under ``cancelled``, a backtrace, the rest of a multi-line NSError,
the metadata line Xcode 15 prints under a message, a Console key/value block, a pretty-printed
JSON object). Every physical line belongs to exactly one record.

Whether a line without an envelope continues the record above depends on the file: in an
export where most lines carry an envelope (``log show``, Console, Xcode 8-14) it does; in a
paste of bare messages it starts a record of its own, unless it is indented and is not itself
a Network-framework message.
"""

from __future__ import annotations

import json

import polars as pl

from logflow import grammar
from logflow.inputs import MAX_LINE_CHARS

# Shapes that begin a record wherever they stand.
ROW_SHAPES = (
    "logshow_row",
    "compact_row",
    "syslog_row",
    "xcode_row",
    "relay_row",
    "console_tab_row",
    "console_space_row",
    "oslogstore_row",
    "kv_type",
    "ndjson_row",
    "json_open",
    "damaged",
)
# Shapes that stand alone: `log`'s own preamble and trailer.
FRAME_SHAPES = ("preamble", "trailer")
# Shapes that add fields to the record above and no text to its message.
FIELD_SHAPES = ("metadata_line", "kv_type", "kv_field")
# Shapes without an envelope; they continue the record above in an enveloped export.
LOOSE_SHAPES = ("blank", "indented", "bare")

ENVELOPE_OF_SHAPE = {
    "logshow_row": "logshow",
    "compact_row": "compact",
    "syslog_row": "syslog",
    "xcode_row": "xcode",
    "relay_row": "relay",
    "console_tab_row": "console",
    "console_space_row": "console",
    "oslogstore_row": "oslogstore",
    "kv_type": "console_kv",
    "kv_message": "console_kv",
    "kv_field": "console_kv",
    "ndjson_row": "ndjson",
    "json_open": "json",
    "json_field": "json",
}

# An export counts as enveloped when at least this share of its non-blank lines are rows.
ENVELOPED_SHARE = 0.5

# The fields of a `log show --style json|ndjson` record that logflow reads.
JSON_RECORD = pl.Struct(
    {
        "timestamp": pl.String,
        "messageType": pl.String,
        "eventType": pl.String,
        "processImagePath": pl.String,
        "senderImagePath": pl.String,
        "processID": pl.Int64,
        "threadID": pl.Int64,
        "subsystem": pl.String,
        "category": pl.String,
        "eventMessage": pl.String,
    }
)


def group_records(lines: pl.DataFrame) -> pl.DataFrame:
    """Group ``source, line_no, text`` lines into records.

    Returns one row per record with ``source``, ``line_no``, ``n_lines``, ``shape`` (of its
    first line), ``envelope``, ``env`` (a struct of the envelope fields found on its lines),
    ``json`` (the decoded JSON record, or null), ``message`` and ``problem`` (why the record
    is unparsed, or null).
    """
    shaped = (
        _shape_lines(lines.lazy())
        .with_columns(starts=_starts_record())
        .with_columns(part=_message_part())
    )
    records = (
        shaped.with_columns(record=pl.col("starts").cum_sum().over("source"))
        .group_by("source", "record", maintain_order=True)
        .agg(
            pl.col("line_no").first(),
            pl.len().cast(pl.Int32).alias("n_lines"),
            pl.col("shape").first(),
            (pl.col("shape") == "metadata_line").any().alias("has_metadata"),
            _first_envelope_fields(),
            pl.col("part").drop_nulls().str.join("\n").alias("message"),
            _json_text(),
            pl.col("too_long").any(),
        )
        .collect()
    )
    return _decode_json(records).select(
        "source",
        "line_no",
        "n_lines",
        "shape",
        _envelope().alias("envelope"),
        "env",
        "json",
        pl.when(pl.col("json").is_not_null())
        .then(pl.col("json").struct.field("eventMessage"))
        .otherwise(pl.col("message"))
        .alias("message"),
        _problem().alias("problem"),
    )


def _shape_lines(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Add each line's ``shape``, its envelope captures ``env`` and ``too_long``."""
    too_long = pl.col("text").str.len_chars() > MAX_LINE_CHARS
    lines = lines.with_columns(too_long=too_long)
    lines = grammar.load("envelope").extract(
        lines, pl.when(~pl.col("too_long")).then(pl.col("text")), into="env"
    )
    shape = pl.col("env").struct.field("kind")
    lines = lines.with_columns(
        shape=pl.when(pl.col("too_long")).then(pl.lit("damaged")).otherwise(shape)
    )
    # In a paste of bare messages an indented line starts a record only if it is itself a
    # Network-framework message (log-formats.md: 028 indents them under app lines).
    indented = pl.when(pl.col("shape") == "indented").then(pl.col("env").struct.field("message"))
    lines = grammar.load("message").extract(lines, indented, into="indented_message")
    return lines.with_columns(indented_kind=pl.col("indented_message").struct.field("kind")).drop(
        "indented_message"
    )


def _enveloped() -> pl.Expr:
    rows = pl.col("shape").is_in(ROW_SHAPES).sum()
    filled = (pl.col("shape") != "blank").sum()
    return (rows >= ENVELOPED_SHARE * filled).over("source")


def _starts_record() -> pl.Expr:
    shape, previous = pl.col("shape"), pl.col("shape").shift(1).over("source")
    loose_alone = (
        shape.is_in(("bare", "blank"))
        | ((shape == "indented") & (pl.col("indented_kind") != "unknown"))
    ) & ~_enveloped()
    return (
        previous.is_null()
        | shape.is_in(ROW_SHAPES)
        | shape.is_in(FRAME_SHAPES)
        | previous.is_in(FRAME_SHAPES)
        | (previous == "metadata_line")
        | loose_alone
    )


def _message_part() -> pl.Expr:
    """What a line adds to its record's message text."""
    shape = pl.col("shape")
    message = pl.col("env").struct.field("message").fill_null("")
    return (
        pl.when(shape.is_in(FRAME_SHAPES))
        .then(pl.col("text"))
        .when(shape.is_in(FIELD_SHAPES))
        .then(None)
        .when(pl.col("starts") | (shape == "kv_message"))
        .then(message)
        .otherwise(pl.col("text"))
    )


def _first_envelope_fields() -> pl.Expr:
    """Per record, the first value each envelope field takes on any of its lines."""
    fields = grammar.load("envelope").captures
    return pl.struct(
        pl.col("env").struct.field(name).drop_nulls().first().alias(name)
        for name in fields
        if name != "message"
    ).alias("env")


def _json_text() -> pl.Expr:
    """The JSON object text of an ndjson line, or of a pretty-printed `--style json` record."""
    shape = pl.col("shape")
    body = pl.col("text").filter(
        ~shape.is_in(("json_open",)) & ~pl.col("text").str.starts_with("}")
    )
    pretty = pl.concat_str(pl.lit("{\n"), body.str.join("\n"), pl.lit("\n}"))
    return (
        pl.when(shape.first() == "ndjson_row")
        .then(pl.col("env").struct.field("ndjson").first())
        .when(shape.first() == "json_open")
        .then(pretty)
        .alias("json_text")
    )


def _decode_json(records: pl.DataFrame) -> pl.DataFrame:
    """Decode the JSON records; an object that is not valid JSON leaves ``json`` null."""
    text = pl.col("json_text")
    try:
        return records.with_columns(
            json=text.str.json_decode(JSON_RECORD), json_invalid=pl.lit(False)
        )
    except pl.exceptions.ComputeError:
        pass
    # Some object is broken: find which, so the rest still decode (the only per-row Python
    # here, and only on this error path).
    valid = [t is None or _is_json(t) for t in records["json_text"]]
    ok = pl.Series("ok", valid)
    return records.with_columns(
        json=pl.when(ok).then(text).str.json_decode(JSON_RECORD),
        json_invalid=~ok,
    )


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _envelope() -> pl.Expr:
    return (
        pl.when(pl.col("has_metadata"))
        .then(pl.lit("xcode_metadata"))
        .otherwise(pl.col("shape").replace_strict(ENVELOPE_OF_SHAPE, default="bare"))
    )


def _problem() -> pl.Expr:
    shape = pl.col("shape")
    return (
        pl.when(pl.col("too_long"))
        .then(pl.lit(f"line longer than {MAX_LINE_CHARS:,} characters"))
        .when(shape == "damaged")
        .then(pl.lit("starts with a date and time but matches no known envelope"))
        .when(pl.col("json_invalid"))
        .then(pl.lit("not valid JSON"))
    )
