"""Second stage: name every line's shape and group lines into records.

A record is one log entry: the line that starts it and the lines that continue it (the
tab-indented summary block under ``cancelled``, a backtrace, the rest of a multi-line NSError,
the metadata line Xcode 15 prints under a message, a Console key/value block, a pretty-printed
JSON object). Every physical line belongs to exactly one record.

A record longer than ``max_record_bytes`` (:data:`~logflow.reading.inputs.MAX_RECORD_BYTES`:
a line, or a record's lines together) is a paste gone wrong: it is unparsed, its message cut
to that many bytes (:func:`cut_problem` says so; the reader already cut a longer line just
past the bound).

The message decides, not the envelope: a line that holds a Network-framework message, whatever
stands before it, starts a record. The message is found with grammars/message.lark at the
first word from which the rest of the line has one of its shapes; what stands before it that
no known envelope took is the record's ``prefix``, read with envelope.lark's ``prefix`` rule
for what it plainly holds (a time, a level, a process, a category). A dated line that no row
shape takes but that holds a Network message is such a record (envelope ``unknown``), not an
unparsed one; so is a line that holds one behind a time in a style nobody listed.

Where a line without an envelope belongs is decided locally:

- a line whose message is itself a Network-framework message starts a record, wherever it is
  (under a row, a message found further in than the line's start must be more than a
  function's name: a backtrace frame names one);
- under a row with an envelope (a ``log show`` row, a Console row, ...) other lines continue it;
- in an Xcode 15 paste a record runs up to and including its ``Type: ... | TID:`` line;
- elsewhere (bare pastes) an indented line continues the record above, any other line stands
  alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator

import polars as pl

from logflow.engine import ENGINE
from logflow.reading import grammar
from logflow.reading.inputs import MAX_RECORD_BYTES, Block
from logflow.schema import NETWORK_KINDS, UNKNOWN

# Rows with a message that may hold a Network message further in when their envelope names no
# subsystem.
MESSAGE_ROWS = (
    "logshow_row",
    "compact_row",
    "syslog_row",
    "xcode_row",
    "relay_row",
    "console_tab_row",
    "console_space_row",
    "oslogstore_row",
)
# Shapes that begin a record wherever they stand.
ROW_SHAPES = (
    *MESSAGE_ROWS,
    "kv_type",
    "ndjson_row",
    "json_open",
    "unifiedlogs_csv_row",
    "damaged",
    "unknown_row",
)
# Row shapes records.py gives, not envelope.lark: a line no row shape takes that holds a Network
# message behind a time.
FOUND_SHAPES = ("unknown_row",)
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
    "unknown_row": "unknown",
    "unifiedlogs_csv_row": "unifiedlogs",
}
BARE = "bare"
UNKNOWN_ENVELOPE = "unknown"
FUNCTION_NOTE = "function_note"
# The fields of a `log show --style json|ndjson` record that logflow reads, their types, and
# the keys macos-UnifiedLogs' unifiedlog_iterator writes them under in its JSONL (its `time`
# is nanoseconds since 1970, UTC; process and library are full paths, as Apple's are).
JSON_FIELDS = {
    "timestamp": (pl.String, "timestamp"),
    "time_ns": (pl.Float64, "time"),
    "messageType": (pl.String, "log_type"),
    "processImagePath": (pl.String, "process"),
    "senderImagePath": (pl.String, "library"),
    "processID": (pl.Int64, "pid"),
    "threadID": (pl.Int64, "thread_id"),
    "subsystem": (pl.String, "subsystem"),
    "category": (pl.String, "category"),
    "eventMessage": (pl.String, "message"),
}
# The columns of unifiedlog_iterator's CSV (envelope.lark's `csv_record`) for these fields.
CSV_FIELDS = {
    "timestamp": "csv_time",
    "messageType": "csv_log_type",
    "processImagePath": "csv_process",
    "senderImagePath": "csv_library",
    "processID": "csv_pid",
    "threadID": "csv_thread",
    "subsystem": "csv_subsystem",
    "category": "csv_category",
    "eventMessage": "csv_message",
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
    searched = 1  # lines of the carried block known to hold no cut, so not searched again
    for block in blocks:
        if carried is not None:
            block = carried.then(block)
            carried = None
        at = 0 if block.last else _last_cut(block.lines, after=searched)
        if at:
            block, carried = block.split(at)
            searched = 1
            yield block
        elif block.last:
            yield block
        else:
            carried, searched = block, block.lines.len()


def _last_cut(lines: pl.Series, *, after: int = 1) -> int:
    """Index of the last line from ``after`` on (at least the second) before which the lines
    can be cut; 0 if none."""
    envelope = grammar.load("envelope")
    # Most exports are rows that one of the first shapes matches (first match wins, so such a
    # line is a row or a frame line): one pattern finds them. Other lines are shaped in full.
    leading = itertools.takewhile(lambda s: s.kind in (*ROW_SHAPES, *FRAME_SHAPES), envelope.shapes)
    rows = envelope.either(shape.kind for shape in leading)
    after = max(after, 1)
    window = 64
    while True:
        start = max(lines.len() - window, after)
        found = lines[start:].str.contains(rows).arg_true()
        if not found.len():
            shape = envelope.match(lines[start - 1 :]).struct.field("kind")
            cut = shape.is_in((*ROW_SHAPES, *FRAME_SHAPES)) | shape.shift(1).is_in(CLOSING_SHAPES)
            found = cut.fill_null(False)[1:].arg_true()
        if found.len():
            return start + int(found[-1])
        if start == after:
            return 0
        window *= 8


def group_records(lines: pl.DataFrame, *, max_record_bytes: int = MAX_RECORD_BYTES) -> pl.LazyFrame:
    """Group ``source, line_no, text`` lines into records.

    Returns one row per record with ``source``, ``line_no``, ``n_lines``, ``shape`` (of its
    first line), ``envelope``, ``prefix`` (what stood before the message that no envelope
    took), ``env`` (a struct of the envelope fields of its first line and
    its field lines), ``json`` (the JSON record's fields, or null), ``message`` and
    ``problem`` (why the record is unparsed, or null). A record longer than
    ``max_record_bytes`` is unparsed (:func:`cut_problem`), its message cut to that many
    bytes.
    """
    shaped = (
        _shape_lines(lines, max_record_bytes)
        .lazy()
        .with_columns(starts=_starts_record())
        .with_columns(
            part=_message_part(),
            takes_fields=_takes_fields(),
            record=pl.col("starts").cum_sum().over("source"),
        )
        .collect(engine=ENGINE)  # read twice below: shape the lines once
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
            pl.col("text").str.len_bytes().sum().alias("more_bytes"),
        )
    )
    fields = [name for name in env_fields() if name != "message"]
    more_fields = set(grammar.load("envelope").captures)
    records = first.join(more, on=["source", "record"], how="left", maintain_order="left").select(
        "source",
        "line_no",
        (1 + pl.col("n_more").fill_null(0)).cast(pl.Int32).alias("n_lines"),
        "shape",
        "prefix",
        pl.coalesce(pl.when(pl.col("shape").is_in(CLOSING_SHAPES)).then("shape"), "closing").alias(
            "closing"
        ),
        pl.struct(
            pl.coalesce(_env(name), pl.col("more_env").struct.field(name)).alias(name)
            if name in more_fields
            else _env(name)
            for name in fields
        ).alias("env"),
        pl.when(pl.col("too_long"))
        .then(pl.col("text"))
        .otherwise(pl.concat_str("part", "more_message", separator="\n", ignore_nulls=True))
        .alias("message"),
        _json_text(),
        _too_long(max_record_bytes).alias("too_long"),
    )
    json = _json_fields()
    if (
        shaped.select((pl.col("shape") == "unifiedlogs_csv_row").any())
        .collect(engine=ENGINE)
        .item()
    ):
        # A CSV record is its lines as they are: its message may span them. (Only where a
        # chunk has one: its fields are a dozen columns more for every record.)
        csv_text = pl.when(pl.col("shape") == "unifiedlogs_csv_row").then(
            pl.concat_str(_env("csv_row"), "message")
        )
        records = grammar.load("envelope", "csv_record").extract(records, csv_text, into="csv")
        json = pl.coalesce(json, _csv_fields())
    too_long = pl.col("too_long")
    records = records.with_columns(
        json=pl.when(~too_long).then(json),
        message=pl.coalesce(_cut(pl.when(too_long).then("message"), max_record_bytes), "message"),
    )
    return records.select(
        "source",
        "line_no",
        "n_lines",
        "shape",
        _envelope().alias("envelope"),
        "prefix",
        "env",
        "json",
        pl.when(too_long)
        .then("message")
        .when(pl.col("json").is_not_null())
        .then(pl.col("json").struct.field("eventMessage").fill_null(""))
        .when(pl.col("json_text").is_null() & (pl.col("shape") != "unifiedlogs_csv_row"))
        .then(pl.col("message"))
        .alias("message"),
        pl.when(too_long)
        .then(pl.lit(cut_problem(max_record_bytes)))
        .otherwise(_problem())
        .alias("problem"),
    )


def cut_problem(max_record_bytes: int) -> str:
    """Why a record longer than ``max_record_bytes`` is unparsed: the ``problem`` of every
    record cut, which the report counts."""
    return f"longer than {max_record_bytes:,} bytes: cut there, the rest not kept"


def _too_long(max_record_bytes: int) -> pl.Expr:
    """A record whose first line, or any line below it, or all its lines together (with
    their line ends) are longer than ``max_record_bytes``."""
    size = pl.col("text").str.len_bytes() + pl.col("more_bytes") + pl.col("n_more")
    return (
        pl.col("too_long")
        | pl.col("more_too_long").fill_null(False)
        | (size.fill_null(pl.col("text").str.len_bytes()) > max_record_bytes)
    )


def _cut(text: pl.Expr, size: int) -> pl.Expr:
    """``text`` cut to its first ``size`` bytes, back to where a character starts."""
    data = text.cast(pl.Binary)

    def starts_a_character(at: int) -> pl.Expr:
        # A UTF-8 continuation byte is 10xxxxxx; past the end is a place to cut too.
        byte = data.bin.get(at, null_on_oob=True)
        return ((byte & 0xC0) != 0x80).fill_null(True)

    end = pl.lit(max(size - 3, 0))
    for at in (max(size - back, 0) for back in (2, 1, 0)):
        end = pl.when(starts_a_character(at)).then(at).otherwise(end)
    return data.bin.head(end).cast(pl.String)


def _shape_lines(lines: pl.DataFrame, max_record_bytes: int) -> pl.DataFrame:
    """Add each line's ``shape``, its envelope captures ``env``, ``too_long``, ``network``
    (whether it holds a Network message of its own) and ``prefix``."""
    too_long = pl.col("text").str.len_bytes() > max_record_bytes
    lines = lines.lazy().with_columns(too_long=too_long)
    lines = grammar.load("envelope").extract(
        lines, pl.when(~pl.col("too_long")).then(pl.col("text")), into="env"
    )
    shape = pl.col("env").struct.field("kind")
    lines = lines.with_columns(
        shape=pl.when(pl.col("too_long")).then(pl.lit("damaged")).otherwise(shape)
    ).collect(engine=ENGINE)
    # The few lines without a known envelope are read again apart: reading them with the rest
    # would build their wide structs for every line.
    message = grammar.load("message")
    kinds = [kind for kind in message.kinds if kind != UNKNOWN]
    loose = pl.col("shape").is_in((BARE, "damaged")) & ~pl.col("too_long")
    holds = (
        message.find(pl.when(loose).then(pl.col("text")), kinds).str.len_chars() > 0
    ).fill_null(False)
    lines = _apart(lines, holds, _rows_behind_junk, wrapped=pl.String)
    lines = _found_messages(lines.lazy()).collect(engine=ENGINE)
    return _apart(lines, pl.col("prefix").is_not_null(), _read_prefix).drop(
        "lead", "inside", "wrapped"
    )


def _apart(
    lines: pl.DataFrame,
    where: pl.Expr,
    work: Callable[[pl.LazyFrame], pl.LazyFrame],
    **new_columns: pl.DataType,
) -> pl.DataFrame:
    """``work`` on the lines where ``where`` holds, the others as they are (with null
    ``new_columns`` and null new envelope fields), in their order."""
    mask = lines.select(where).to_series()
    empty = work(lines.clear().lazy()).collect_schema()
    known = lines.schema["env"].to_schema()
    added = [name for name in empty["env"].to_schema() if name not in known]

    def as_done(frame: pl.DataFrame) -> pl.DataFrame:
        fields = empty["env"].to_schema()
        env = pl.struct(
            pl.col("env").struct.unnest(),
            *(pl.lit(None, fields[name]).alias(name) for name in added),
        ).alias("env")
        nulls = (pl.lit(None, dtype).alias(name) for name, dtype in new_columns.items())
        # `__line` too, where the lines are numbered to be put back in order.
        names = [name for name in frame.columns if name not in empty.names()]
        return frame.with_columns(env, *nulls).select(*empty.names(), *names)

    if not mask.any():
        return as_done(lines)
    index = "__line"
    lines = lines.with_row_index(index)
    done = work(lines.filter(mask).lazy()).collect(engine=ENGINE)
    rest = as_done(lines.filter(~mask))
    return pl.concat([rest, done.select(rest.columns)]).sort(index).drop(index)


def _rows_behind_junk(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Read a known row that a paste put something before (a CI runner's time, `1. `,
    `flutter: `) as that row, where the line holds a Network message: its fields are the
    row's, not a guess from a prefix. Adds ``wrapped``, the text before the row."""
    envelope = grammar.load("envelope")
    wrapped = envelope.find(pl.col("text"), MESSAGE_ROWS)
    lines = lines.with_columns(wrapped=pl.when(wrapped != "").then(wrapped))
    row = pl.col("text").str.slice(pl.col("wrapped").str.len_chars())
    lines = envelope.extract(lines, pl.when(pl.col("wrapped").is_not_null()).then(row), into="row")
    found = pl.col("row").struct.field("kind").is_not_null()
    return lines.with_columns(
        env=pl.when(found).then(pl.col("row")).otherwise(pl.col("env")),
        shape=pl.when(found).then(pl.col("row").struct.field("kind")).otherwise("shape"),
    ).drop("row")


def _found_messages(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Find the Network message in each line that may hold one, and read what stands before it.

    A line may hold one where no envelope names its subsystem: a row of Xcode, a relay or a
    Console copy, a line with no envelope (``bare``, ``indented``), a dated line no row shape
    takes (``damaged``). Where the message does not start the text the envelope left, the
    text is cut there: the message is what follows, the ``prefix`` what stands before.
    """
    message = grammar.load("message")
    shape, env_message = pl.col("shape"), _env("message")
    searched = (
        pl.when((shape == "damaged") & ~pl.col("too_long"))
        .then(pl.col("text"))
        .when(shape.is_in(("bare", "indented")))
        .then(env_message)
        .when(shape.is_in(MESSAGE_ROWS) & _env("subsystem").is_null())
        .then(env_message)
    )
    kinds = [kind for kind in message.kinds if kind != UNKNOWN]
    indented = shape == "indented"
    # An indented line counts where a message starts it (`find` says "" there).
    lines = lines.with_columns(
        at_start=message.find(pl.when(indented).then(searched), kinds) == "",
        found=message.find(pl.when(~indented).then(searched), kinds),
    )
    at_start, found = pl.col("at_start"), pl.col("found")
    # A message that opens inside Markdown inline code after prose (``the id in `[C8.1.1 …]```)
    # is quoted in a README or an issue, not logged; a line that is all one code span is a
    # pasted line. (The backticks are counted in the whole line: a wrapper may hold the first.)
    ticks_before = pl.col("text").str.count_matches("`") - searched.str.slice(
        found.str.len_chars()
    ).str.count_matches("`")
    whole_line = pl.col("text").str.contains(r"^[ \t>]*`") & (ticks_before == 1)
    quoted = (ticks_before % 2 == 1) & ~whole_line
    lines = lines.with_columns(found=pl.when(~quoted).then(found))
    # Under a row, a line that continues it (a backtrace frame `2 libnetwork.dylib 0x1a2b
    # nw_endpoint_handler_cancel + 42`, an NSError dump) may name a function further in: there
    # a message found further in begins a record only if it is more than a function's name.
    # (Elsewhere a bare line begins a record anyway.)
    # The same holds for an indented line (Metro's ` LOG  nw_...`), and the message must be
    # Network's: an indented NSError dump names CFNetwork's tasks (`"LocalDataTask <...>"`).
    more_than_a_name = [kind for kind in kinds if kind in NETWORK_KINDS and kind != FUNCTION_NOTE]
    # (Only the texts that need it are searched: each search reads the whole text.)
    further = ((shape == BARE) & (found != "")) | (indented & ~at_start)
    inside = message.find(pl.when(further).then(searched), more_than_a_name)
    lines = lines.with_columns(inside=inside)
    lead = pl.when(indented).then(pl.when(at_start).then(pl.lit("")).otherwise("inside"))
    lines = lines.with_columns(lead=lead.otherwise(found)).drop("at_start", "found")
    lead = pl.col("lead")
    cut = lead.str.len_chars() > 0
    lines = lines.with_columns(
        network=((lead == "") | pl.col("inside").is_not_null()).fill_null(False),
        shape=pl.when((shape == "damaged") & lead.is_not_null())
        .then(pl.lit("unknown_row"))
        .when((shape == "indented") & cut)
        .then(pl.lit(BARE))
        .otherwise(shape),
        prefix=pl.concat_str(
            pl.col("wrapped"), pl.when(cut).then(lead), separator=" ", ignore_nulls=True
        )
        .str.strip_chars()
        .replace("", None),
        message=pl.when(cut).then(searched.str.slice(lead.str.len_chars())).otherwise(env_message),
    )
    return lines


def _read_prefix(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Add to ``env`` what the prefix plainly holds, where the envelope did not say it."""
    prefix = grammar.load("envelope", "prefix")
    row_fields = set(grammar.load("envelope").captures)
    unread = pl.when(pl.col("prefix").is_not_null()).then(pl.col("lead"))
    # What stands before the fields the prefix rule knows (`Line 12: `) is only kept.
    junk = prefix.find(unread, prefix.kinds)
    lines = prefix.extract(lines, unread.str.slice(junk.str.len_chars()), into="loose")

    def field(name: str) -> pl.Expr:
        read = pl.col("loose").struct.field(name)
        return (pl.coalesce(_env(name), read) if name in row_fields else read).alias(name)

    env = pl.col("env").struct.with_fields(*(field(name) for name in prefix.captures))
    # A pasted line whose prefix holds a time is a row of a style nobody listed: the lines
    # without an envelope under it (an NSError dump) continue it, as they would a known row.
    timed = (pl.col("shape") == BARE) & pl.col("loose").struct.field("clock").is_not_null()
    shape = pl.when(timed).then(pl.lit("unknown_row")).otherwise("shape")
    return lines.with_columns(env=env, shape=shape).drop("loose")


def env_fields() -> tuple[str, ...]:
    """The envelope fields a line can carry: its row shape's, and those of a prefix."""
    envelope, prefix = grammar.load("envelope"), grammar.load("envelope", "prefix")
    return tuple(dict.fromkeys((*envelope.captures, *prefix.captures)))


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
    message = pl.col("message").fill_null("")
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
    # The fields a line below the first adds (Xcode 15's metadata, Console's key/value lines)
    # are a row shape's: a prefix is only ever read on a record's first line.
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
    """The fields logflow reads from a JSON record, under Apple's keys or unifiedlog_iterator's;
    null where the text is not valid JSON. Empty strings (the iterator's for no subsystem) are
    null."""
    text = pl.col("json_text")

    def field(name: str, dtype: pl.DataType, key: str) -> pl.Expr:
        keys = dict.fromkeys((name, key))  # read a key both write (`subsystem`) once
        value = pl.coalesce(text.str.json_path_match(f"$.{k}") for k in keys)
        return pl.when(value != "").then(value).cast(dtype, strict=False).alias(name)

    json = pl.struct(field(name, dtype, key) for name, (dtype, key) in JSON_FIELDS.items())
    return pl.when(text.str.json_path_match("$").is_not_null()).then(json)


def _csv_fields() -> pl.Expr:
    """The fields of a unifiedlog_iterator CSV record, as :func:`_json_fields` gives them."""
    csv = pl.col("csv")

    def field(name: str, dtype: pl.DataType) -> pl.Expr:
        if name not in CSV_FIELDS:
            return pl.lit(None, dtype).alias(name)
        value = csv.struct.field(CSV_FIELDS[name])
        # A field with a comma, a quote or a line break is quoted, its quotes doubled.
        quoted = value.str.starts_with('"')
        value = (
            pl.when(quoted)
            .then(
                value.str.slice(1, value.str.len_chars() - 2).str.replace_all(
                    '""', '"', literal=True
                )
            )
            .otherwise(value)
        )
        return value.cast(dtype, strict=False).alias(name)

    fields = pl.struct(field(name, dtype) for name, (dtype, _) in JSON_FIELDS.items())
    return pl.when(csv.struct.field("kind").is_not_null()).then(fields)


def _envelope() -> pl.Expr:
    closing = pl.col("closing").replace_strict(ENVELOPE_OF_SHAPE, default=None)
    # A message pasted with something before it that no envelope is: an unknown envelope.
    unknown = pl.when((pl.col("shape") == BARE) & pl.col("prefix").is_not_null())
    # macos-UnifiedLogs' JSONL is told from `log show --style ndjson` by its keys.
    iterator = pl.col("json_text").str.json_path_match("$.thread_id").is_not_null()
    first = (
        unknown.then(pl.lit(UNKNOWN_ENVELOPE))
        .when((pl.col("shape") == "ndjson_row") & iterator)
        .then(pl.lit("unifiedlogs"))
        .otherwise(pl.col("shape").replace_strict(ENVELOPE_OF_SHAPE, default=BARE))
    )
    return pl.coalesce(closing, first)


def _problem() -> pl.Expr:
    shape = pl.col("shape")
    return (
        pl.when(shape == "damaged")
        .then(pl.lit("starts with a date and time but matches no known envelope"))
        .when(pl.col("json_text").is_not_null() & pl.col("json").is_null())
        .then(pl.lit("not valid JSON"))
        .when((shape == "unifiedlogs_csv_row") & pl.col("json").is_null())
        .then(pl.lit("not a whole unifiedlog_iterator CSV record"))
    )
