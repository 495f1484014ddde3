"""Second stage: name every line's shape and group lines into records.

A record is one log entry: the line that starts it and the lines that continue it (the
tab-indented summary block under ``cancelled``, a backtrace, the rest of a multi-line NSError,
the metadata line Xcode 15 prints under a message, a Console key/value block, a pretty-printed
JSON object). Every physical line belongs to exactly one record.

Where a line without an envelope belongs is decided locally:

- a line whose message is itself a Network-framework message starts a record, wherever it is;
- under a row with an envelope (a ``log show`` row, a Console row, ...) other lines continue it;
- in an Xcode 15 paste a record runs up to and including its ``Type: ... | TID:`` line;
- elsewhere (bare pastes) an indented line continues the record above, any other line stands
  alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import polars as pl

from logflow import grammar
from logflow.inputs import MAX_LINE_CHARS, Block
from logflow.schema import UNKNOWN

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
# Lines that add fields to their record and no text to its message.
FIELD_SHAPES = ("metadata_line", "kv_type", "kv_field")
# Lines that end their record: Xcode 15 prints the metadata after the message.
CLOSING_SHAPES = ("metadata_line",)

ENVELOPE_OF_SHAPE = {
    "logshow_row": "logshow",
    "compact_row": "compact",
    "syslog_row": "syslog",
    "xcode_row": "xcode",
    "relay_row": "relay",
    "console_tab_row": "console",
    "console_space_row": "console",
    "oslogstore_row": "oslogstore",
    "metadata_line": "xcode_metadata",
    "kv_type": "console_kv",
    "ndjson_row": "ndjson",
    "json_open": "json",
}
BARE = "bare"

# The fields of a `log show --style json|ndjson` record that logflow reads, and their types.
JSON_FIELDS = {
    "timestamp": pl.String,
    "messageType": pl.String,
    "processImagePath": pl.String,
    "senderImagePath": pl.String,
    "processID": pl.Int64,
    "threadID": pl.Int64,
    "subsystem": pl.String,
    "category": pl.String,
    "eventMessage": pl.String,
}


def record_chunks(blocks: Iterable[Block]) -> Iterator[Block]:
    """The same lines again, in blocks that each hold whole records.

    An input is read in blocks that may end inside a record (between a ``cancelled`` line and
    its summary block). Each block is cut again before its last line that starts a record
    whatever stands above it, and below which nothing depends on what stands above: a row
    with an envelope, a line of `log`'s preamble or trailer, or the line after an Xcode 15
    metadata line. The lines from there go with the next block of the same input.
    """
    carried: Block | None = None
    for block in blocks:
        if carried is not None:
            block = carried.then(block)
            carried = None
        at = 0 if block.last else _last_cut(block.lines)
        if at:
            block, carried = block.split(at)
            yield block
        elif block.last:
            yield block
        else:
            carried = block


def _last_cut(lines: pl.Series) -> int:
    """Index of the last line after the first before which the lines can be cut; 0 if none."""
    envelope = grammar.load("envelope")
    # Most exports are rows that one of the first shapes matches (first match wins, so such a
    # line is a row or a frame line): one pattern finds them. Other lines are shaped in full.
    leading = itertools.takewhile(lambda s: s.kind in (*ROW_SHAPES, *FRAME_SHAPES), envelope.shapes)
    rows = envelope.either(shape.kind for shape in leading)
    window = 64
    while True:
        start = max(lines.len() - window, 1)
        found = lines[start:].str.contains(rows).arg_true()
        if not found.len():
            shape = envelope.match(lines[start - 1 :]).struct.field("kind")
            cut = shape.is_in((*ROW_SHAPES, *FRAME_SHAPES)) | shape.shift(1).is_in(CLOSING_SHAPES)
            found = cut.fill_null(False)[1:].arg_true()
        if found.len():
            return start + int(found[-1])
        if start == 1:
            return 0
        window *= 8


def group_records(lines: pl.DataFrame) -> pl.LazyFrame:
    """Group ``source, line_no, text`` lines into records.

    Returns one row per record with ``source``, ``line_no``, ``n_lines``, ``shape`` (of its
    first line), ``envelope``, ``env`` (a struct of the envelope fields of its first line and
    its field lines), ``json`` (the JSON record's fields, or null), ``message`` and
    ``problem`` (why the record is unparsed, or null).
    """
    shaped = (
        _shape_lines(lines.lazy())
        .with_columns(starts=_starts_record())
        .with_columns(
            part=_message_part(),
            takes_fields=_takes_fields(),
            record=pl.col("starts").cum_sum().over("source"),
        )
        .collect(engine="in-memory")  # read twice below: shape the lines once
        .lazy()
    )
    # Most records are one line: take them as they are, and group only the lines that
    # continue a record (summary blocks, backtraces, field lines), then put the two together.
    first = shaped.filter(pl.col("starts"))
    more = (
        shaped.filter(~pl.col("starts"))
        .group_by("source", "record")
        .agg(
            pl.len().cast(pl.Int32).alias("n_more"),
            _closing(),
            _envelope_fields(pl.col("takes_fields")).alias("more_env"),
            pl.when(pl.col("part").is_not_null().any())
            .then(pl.col("part").drop_nulls().str.join("\n"))
            .alias("more_message"),
            _json_body().alias("json_body"),
            pl.col("too_long").any().alias("more_too_long"),
        )
    )
    fields = [name for name in grammar.load("envelope").captures if name != "message"]
    records = first.join(more, on=["source", "record"], how="left", maintain_order="left").select(
        "source",
        "line_no",
        (1 + pl.col("n_more").fill_null(0)).cast(pl.Int32).alias("n_lines"),
        "shape",
        pl.coalesce(pl.when(pl.col("shape").is_in(CLOSING_SHAPES)).then("shape"), "closing").alias(
            "closing"
        ),
        pl.struct(
            pl.coalesce(_env(name), pl.col("more_env").struct.field(name)).alias(name)
            for name in fields
        ).alias("env"),
        pl.concat_str("part", "more_message", separator="\n", ignore_nulls=True).alias("message"),
        _json_text(),
        (pl.col("too_long") | pl.col("more_too_long").fill_null(False)).alias("too_long"),
    )
    return records.with_columns(json=_json_fields()).select(
        "source",
        "line_no",
        "n_lines",
        "shape",
        _envelope().alias("envelope"),
        "env",
        "json",
        pl.when(pl.col("json_text").is_not_null())
        .then(pl.col("json").struct.field("eventMessage").fill_null(""))
        .otherwise(pl.col("message"))
        .alias("message"),
        _problem().alias("problem"),
    )


def _shape_lines(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Add each line's ``shape``, its envelope captures ``env``, ``too_long`` and ``network``."""
    too_long = pl.col("text").str.len_chars() > MAX_LINE_CHARS
    lines = lines.with_columns(too_long=too_long)
    lines = grammar.load("envelope").extract(
        lines, pl.when(~pl.col("too_long")).then(pl.col("text")), into="env"
    )
    shape = pl.col("env").struct.field("kind")
    lines = lines.with_columns(
        shape=pl.when(pl.col("too_long")).then(pl.lit("damaged")).otherwise(shape)
    )
    # Does a line without an envelope carry a Network-framework message of its own? (A shape
    # of message.lark other than `unknown`, which matches anything.)
    message = grammar.load("message")
    network = message.either(kind for kind in message.kinds if kind != UNKNOWN)
    loose = pl.when(pl.col("shape").is_in(("indented", "bare"))).then(
        pl.col("env").struct.field("message")
    )
    return lines.with_columns(network=loose.str.contains(network).fill_null(False))


def _starts_record() -> pl.Expr:
    shape, previous = pl.col("shape"), pl.col("shape").shift(1).over("source")
    # The last row, frame or metadata line at or above each line.
    anchor = (
        pl.when(shape.is_in((*ROW_SHAPES, *FRAME_SHAPES, *CLOSING_SHAPES)))
        .then(shape)
        .forward_fill()
        .over("source")
    )
    under_row = anchor.is_in(ROW_SHAPES).fill_null(False)
    # In an Xcode 15 paste a message runs down to its metadata line: a line whose next row,
    # frame or metadata line below is a metadata line belongs to the record that one closes.
    closed_below = (
        pl.when(shape.is_in((*ROW_SHAPES, *FRAME_SHAPES, *CLOSING_SHAPES)))
        .then(shape)
        .backward_fill()
        .over("source")
        .is_in(CLOSING_SHAPES)
        .fill_null(False)
    )
    alone = shape.is_in(("bare", "blank")) & ~under_row & ~closed_below
    return (
        previous.is_null()
        | shape.is_in(ROW_SHAPES)
        | shape.is_in(FRAME_SHAPES)
        | previous.is_in(FRAME_SHAPES)
        | previous.is_in(CLOSING_SHAPES)
        | pl.col("network")
        | alone
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


def _takes_fields() -> pl.Expr:
    """Lines whose envelope fields count: the first of the record, and its field lines."""
    return pl.col("starts") | pl.col("shape").is_in((*FIELD_SHAPES, "kv_message"))


def _env(field: str) -> pl.Expr:
    return pl.col("env").struct.field(field)


def _closing() -> pl.Expr:
    """The first line that closes the record (Xcode 15's metadata line)."""
    shape = pl.col("shape")
    return shape.filter(shape.is_in(CLOSING_SHAPES)).first().alias("closing")


def _envelope_fields(takes_fields: pl.Expr) -> pl.Expr:
    """Per group of lines, the first value each envelope field takes on the lines that carry
    fields."""
    fields = grammar.load("envelope").captures
    return pl.struct(
        _env(name).filter(takes_fields).drop_nulls().first().alias(name)
        for name in fields
        if name != "message"
    )


def _json_body() -> pl.Expr:
    """The lines inside a pretty-printed `--style json` object."""
    shape = pl.col("shape")
    return pl.col("text").filter(shape.is_in(("json_field", "indented", "bare", "blank")))


def _json_text() -> pl.Expr:
    """The JSON object text of an ndjson line, or of a pretty-printed `--style json` record."""
    shape = pl.col("shape")
    body = pl.col("json_body").list.join("\n").fill_null("")
    pretty = pl.concat_str(pl.lit("{\n"), body, pl.lit("\n}"))
    return (
        pl.when(shape == "ndjson_row")
        .then(_env("ndjson"))
        .when(shape == "json_open")
        .then(pretty)
        .alias("json_text")
    )


def _json_fields() -> pl.Expr:
    """The fields logflow reads from a JSON record; null where the text is not valid JSON."""
    text = pl.col("json_text")
    return pl.when(text.str.json_path_match("$").is_not_null()).then(
        pl.struct(
            text.str.json_path_match(f"$.{name}").cast(dtype, strict=False).alias(name)
            for name, dtype in JSON_FIELDS.items()
        )
    )


def _envelope() -> pl.Expr:
    closing = pl.col("closing").replace_strict(ENVELOPE_OF_SHAPE, default=None)
    first = pl.col("shape").replace_strict(ENVELOPE_OF_SHAPE, default=BARE)
    return pl.coalesce(closing, first)


def _problem() -> pl.Expr:
    shape = pl.col("shape")
    return (
        pl.when(pl.col("too_long"))
        .then(pl.lit(f"line longer than {MAX_LINE_CHARS:,} characters"))
        .when(shape == "damaged")
        .then(pl.lit("starts with a date and time but matches no known envelope"))
        .when(pl.col("json_text").is_not_null() & pl.col("json").is_null())
        .then(pl.lit("not valid JSON"))
    )
