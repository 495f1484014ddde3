"""What a timeline shows, whatever draws it: a span per connection or attempt, in the order
the trees are drawn, and marks for what happened at an instant (ready, an error, a proxy
failure, a path change, a cancel).

:func:`timeline` builds both as Polars frames; :mod:`~logflow.outputs.perfetto`,
:mod:`~logflow.outputs.html` and :mod:`~logflow.outputs.timeline_text` draw them.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from logflow.analysis.clock import local_time
from logflow.analysis.filters import Filters
from logflow.analysis.tree import PROCESS
from logflow.engine import ENGINE
from logflow.errors import LogflowError
from logflow.outputs import cells
from logflow.outputs.trees import in_tree_order
from logflow.pipeline import Parsed
from logflow.reading.events import NO_DATE
from logflow.schema import EVENT_SCHEMA

# Outcomes of a connection the log never saw end: its span runs to the end of the capture.
UNENDED = ("open", "waiting", "connecting")
# The kinds of mark, in the order a legend lists them.
MARK_KINDS = ("ready", "error", "proxy_failure", "path_change", "cancel")


@dataclass(frozen=True)
class Timeline:
    """The spans and the marks of one or more captures.

    ``spans``: one row per connection or attempt in tree order (file, process, root by start,
    depth first). ``group`` names its process (``Weather[2317]``, with `` in net.log`` when
    several files are read); ``start`` and ``end`` (UTC) bound it, ``end`` at the capture's
    last event where it never ended (``unended``); ``name`` is ``C8.1.2 also-ran
    IPv4#3d7e52b8:443``; ``clock`` its start as the log printed it; then the connections
    table's own columns for details.

    ``marks``: one row per instant: ``group``, ``conn_id`` (null for a path change that hit
    the whole system), ``ts``, ``kind`` (one of :data:`MARK_KINDS`), ``label`` and the
    ``line_no`` of the evidence.
    """

    spans: pl.DataFrame
    marks: pl.DataFrame
    sources: tuple[str, ...]
    untimed: int = 0
    """Connections left out: their lines carry no time (a paste of bare messages)."""


def timeline(parsed: Parsed, filters: Filters | None = None) -> Timeline:
    """The timeline of what ``filters`` keep of a parse; error marks need its events (parse
    with ``keep="records"`` or an ``events_file``), else it has none."""
    filters = filters or Filters()
    sources = list(parsed.sources)
    connections = parsed.table("connections", filters).collect(engine=ENGINE)
    # A paste of bare messages carries no times: nothing to place on an axis.
    timed = connections.filter(pl.col("first_ts").is_not_null())
    spans = _spans(in_tree_order(timed, sources), parsed.captures, len(sources) > 1)
    marks = pl.concat(
        [
            _ready_marks(spans),
            _cancel_marks(spans),
            _error_marks(parsed, spans),
            _proxy_marks(parsed.table("proxy_failures", filters).collect(engine=ENGINE), spans),
            _path_marks(parsed.table("path_changes", filters).collect(engine=ENGINE), spans),
        ],
        how="vertical",
    ).filter(pl.col("ts").is_not_null())
    marks = marks.sort("group_order", "ts", "conn_id", nulls_last=True).drop("group_order")
    untimed = connections.height - timed.height
    return Timeline(spans=spans, marks=marks, sources=tuple(sources), untimed=untimed)


def group_name(several_files: bool) -> pl.Expr:
    """``Weather[2317]``, and ``in net.log`` after it when several files are read."""
    who = cells.who(pl.col("process"), pl.col("pid"))
    return pl.concat_str(who, pl.lit(" in "), pl.col("source")) if several_files else who


def _spans(connections: pl.DataFrame, captures: pl.DataFrame, several: bool) -> pl.DataFrame:
    capture_ends = captures.select("source", "utc_offset", capture_end="last_ts")
    unended = pl.col("outcome").cast(pl.String).is_in(UNENDED)
    endpoint = pl.coalesce("endpoint", "requested_host")
    return (
        connections.join(capture_ends, on="source", how="left", maintain_order="left")
        .with_columns(
            group=group_name(several),
            start=pl.col("first_ts"),
            end=pl.when(unended)
            .then(pl.max_horizontal("last_ts", "capture_end"))
            .otherwise("last_ts"),
            unended=unended,
            name=pl.concat_str(
                "conn_id",
                pl.col("outcome").cast(pl.String),
                endpoint,
                separator=" ",
                ignore_nulls=True,
            ),
            # As the log printed it: a Console copy prints no date (its day is 1970-01-01).
            clock=local_time(pl.col("first_ts"), pl.col("utc_offset"))
            .dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
            .str.strip_prefix(f"{NO_DATE} "),
        )
        # Groups in the order the trees put them (file, then process).
        .with_columns(group_order=pl.int_range(pl.len()).min().over("group"))
        .drop("capture_end")
    )


def _on_spans(frame: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` on a connection shown, with its ``group``."""
    keys = spans.select(*PROCESS, "conn_id", "group", "group_order")
    return frame.join(keys, on=[*PROCESS, "conn_id"], how="inner", nulls_equal=True)


def _marks(frame: pl.DataFrame, kind: str, label: pl.Expr, line_no: pl.Expr) -> pl.DataFrame:
    return frame.select(
        "group",
        "group_order",
        "conn_id",
        "ts",
        kind=pl.lit(kind),
        label=label,
        line_no=line_no.cast(pl.Int64),
    )


def _ready_marks(spans: pl.DataFrame) -> pl.DataFrame:
    ready = spans.filter(pl.col("ready_ts").is_not_null()).rename({"ready_ts": "ts"})
    after = cells.duration((pl.col("ts") - pl.col("first_ts")).dt.total_microseconds() / 1e6)
    return _marks(ready, "ready", pl.format("ready after {}", after), pl.lit(None))


def _cancel_marks(spans: pl.DataFrame) -> pl.DataFrame:
    cancelled = spans.filter(pl.col("final_state") == "cancelled").with_columns(ts=pl.col("end"))
    return _marks(cancelled, "cancel", pl.lit("cancelled"), pl.col("outcome_line"))


def _error_marks(parsed: Parsed, spans: pl.DataFrame) -> pl.DataFrame:
    """Each error logged on a shown connection: an errno, a failed state's error, ..."""
    try:
        events = parsed.events()
    except LogflowError:  # the events were not kept: no error marks
        events = pl.LazyFrame(schema={**EVENT_SCHEMA})
    errors = (
        events.filter(pl.col("error_code").is_not_null() | pl.col("error").is_not_null())
        .select(*PROCESS, "conn_id", "ts", "line_no", "error_code", "error")
        .collect(engine=ENGINE)
    )
    errors = _on_spans(errors, spans)
    label = pl.concat_str(
        pl.lit("error"),
        pl.col("error_code").cast(pl.String),
        pl.col("error"),
        separator=" ",
        ignore_nulls=True,
    )
    return _marks(errors, "error", label, pl.col("line_no"))


def _proxy_marks(failures: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    failures = _on_spans(failures, spans)
    label = pl.concat_str(
        pl.lit("proxy failed:"),
        pl.col("proxy_kind"),
        pl.col("error_name"),
        pl.col("error"),
        pl.when(pl.col("fell_back")).then(pl.lit("(fell back)")),
        separator=" ",
        ignore_nulls=True,
    )
    return _marks(failures, "proxy_failure", label, pl.col("line_no"))


def _path_marks(changes: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    """A connection's path change on it; one that hit several at once (a system-wide change)
    once, on its process, with no connection."""
    changes = _on_spans(changes, spans)
    # `LQM: LQM: good -> LQM: bad` says LQM once.
    said = [
        pl.col(end).str.strip_prefix(pl.col("change") + ": ").fill_null("?")
        for end in ("from", "to")
    ]
    label = pl.concat_str(
        pl.col("change"),
        pl.when(pl.col("from").is_not_null() | pl.col("to").is_not_null()).then(
            pl.format("{} -> {}", *said)
        ),
        separator=": ",
        ignore_nulls=True,
    )
    system_wide = pl.col("system_change").is_not_null()
    # Each connection's change on it; a system-wide one also once for its process.
    own = changes
    system = (
        changes.filter(system_wide)
        .group_by("group", "group_order", "system_change", maintain_order=True)
        .agg(pl.all().first(), connections=pl.len())
        .with_columns(conn_id=pl.lit(None, pl.String))
    )
    system_label = pl.format("{} ({} connections)", label, pl.col("connections"))
    return pl.concat(
        [
            _marks(own, "path_change", label, pl.col("line_no")),
            _marks(system, "path_change", system_label, pl.col("line_no")),
        ]
    )
