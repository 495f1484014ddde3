"""The timeline as text: a bar a connection, on one time axis a process, fitted to a width.

A bar is light (``░``) while the connection is not yet ready and solid (``█``) once it is,
so a race reads at a glance: the winner turns solid, the also-ran never does. What happened
at an instant is a mark over the bar. The columns each row's bar and marks take are worked
out with Polars; only the drawing walks the rows.
"""

from __future__ import annotations

import polars as pl

from logflow.outputs import cells
from logflow.outputs.timeline import Timeline
from logflow.outputs.trees import Line

# What a terminal of unknown width (a pipe) gets: what pastes into an issue unwrapped.
PIPE_WIDTH = 100
# The marks drawn over a bar, the first the one shown where several fall in one column.
MARK_GLYPHS = {"error": "✕", "proxy_failure": "◆", "path_change": "▲"}
WAITING, READY = "░", "█"
LEGEND = f"{WAITING} not ready  {READY} ready  " + "  ".join(
    f"{glyph} {kind.replace('_', ' ')}" for kind, glyph in MARK_GLYPHS.items()
)
# The widest the label column gets; longer labels are cut with an ellipsis.
MOST_LABEL = 34
# The narrowest the bars get.
LEAST_BARS = 20


def timeline_lines(timeline: Timeline, width: int | None) -> list[Line]:
    """The text timeline: per process a heading with its span, then a line per connection
    (its id indented by depth, its outcome, its bar). Fits in ``width`` columns (a pipe's
    default when None)."""
    width = width or PIPE_WIDTH
    if timeline.spans.is_empty():
        return []
    labels = _labels(timeline.spans)
    when_width = labels["when"].str.len_chars().max()
    took_width = labels["took"].str.len_chars().max()
    # `+120 ms  86 ms` and the two spaces before the bar.
    numbers = when_width + 1 + took_width + 2
    label_width = min(max(labels["label"].str.len_chars().max(), 8), MOST_LABEL)
    label_width = max(min(label_width, width - numbers - LEAST_BARS - 1), 8)
    bars = max(width - label_width - numbers - 1, 1)
    lines: list[Line] = [(_fitted(LEGEND, width).rstrip(), None)]
    columns = _columns(labels, timeline.marks, bars)
    for (group,), rows in columns.group_by("group", maintain_order=True):
        lines.append(("", None))
        lines.extend((text, None) for text in _heading(group, rows, width))
        for row in rows.iter_rows(named=True):
            label = _fitted(row["label"], label_width)
            numbers = f"{row['when']:>{when_width}} {row['took']:>{took_width}}"
            lines.append((f"{label} {numbers}  {_bar(row, bars)}".rstrip(), row["outcome"]))
    return lines


def _labels(spans: pl.DataFrame) -> pl.DataFrame:
    """What stands before a bar: the id indented by depth and the outcome; then when it
    started after its process's first (the axis's start) and how long it took, as the bar
    shows them but to be read where a bar is too coarse (a race inside a long connection)."""
    outcome = pl.col("outcome").cast(pl.String)
    shown = pl.when(outcome.is_in(("won", "failed"))).then(outcome.str.to_uppercase())
    took = cells.duration((pl.col("end") - pl.col("start")).dt.total_microseconds() / 1e6)
    return spans.with_columns(
        outcome=outcome,
        label=pl.concat_str(
            pl.lit(" ").repeat_by(pl.col("depth")).list.join(""),
            pl.col("conn_id"),
            pl.lit(" "),
            shown.otherwise(outcome),
        ),
        when=cells.since(pl.col("start"), pl.col("start").min().over("group")),
        took=took,
    )


def _columns(spans: pl.DataFrame, marks: pl.DataFrame, bars: int) -> pl.DataFrame:
    """Each row's first and last column, the column it became ready in, and its marks as
    ``(column, glyph)`` pairs, on its process's axis of ``bars`` columns."""
    drawn = spans.with_columns(
        axis_start=pl.col("start").min().over("group"),
        axis_us=(pl.col("end").max() - pl.col("start").min()).over("group").dt.total_microseconds(),
    ).with_columns(
        first=_column(pl.col("start"), bars),
        last=_column(pl.col("end"), bars),
        ready=_column(pl.col("ready_ts"), bars),
    )
    glyphs = pl.col("kind").replace_strict(MARK_GLYPHS, default=None)
    priority = pl.col("kind").replace_strict(
        {kind: n for n, kind in enumerate(MARK_GLYPHS)}, default=None
    )
    on_rows = (
        marks.filter(pl.col("conn_id").is_not_null() & glyphs.is_not_null())
        .join(
            drawn.select("group", "conn_id", "axis_start", "axis_us"),
            on=["group", "conn_id"],
            how="inner",
        )
        .with_columns(column=_column(pl.col("ts"), bars), glyph=glyphs, priority=priority)
        .sort("priority")
        .unique(["group", "conn_id", "column"], keep="first", maintain_order=True)
        .group_by("group", "conn_id")
        .agg(marks=pl.struct("column", "glyph"))
    )
    return drawn.join(on_rows, on=["group", "conn_id"], how="left", maintain_order="left")


def _column(ts: pl.Expr, bars: int) -> pl.Expr:
    """The column of ``ts`` on its process's axis (``axis_start``, ``axis_us`` long)."""
    at = (ts - pl.col("axis_start")).dt.total_microseconds() * (bars - 1)
    return (at / pl.max_horizontal("axis_us", 1)).floor().cast(pl.Int64).clip(0, bars - 1)


def _heading(group: str, rows: pl.DataFrame, width: int) -> list[str]:
    """``Weather[2317]  09:32:05.412 to 09:32:35.730, 30.32 s``, on two lines if need be."""
    span = rows.select(
        start=cells.clock(pl.col("start").min(), pl.col("utc_offset").first()),
        end=cells.clock(pl.col("end").max(), pl.col("utc_offset").first()),
        took=cells.duration(pl.col("axis_us").first() / 1e6),
    ).row(0, named=True)
    when = f"{span['start']} to {span['end']}, {span['took']}"
    if len(group) + 2 + len(when) <= width:
        return [f"{group}  {when}"]
    return [_fitted(group, width).rstrip(), f"  {when}"]


def _fitted(label: str, width: int) -> str:
    return label.ljust(width) if len(label) <= width else label[: width - 1] + "…"


def _bar(row: dict, bars: int) -> str:
    cells_ = [" "] * bars
    first, last, ready = row["first"], row["last"], row["ready"]
    for at in range(first, last + 1):
        cells_[at] = READY if ready is not None and at >= ready else WAITING
    for mark in row["marks"] or []:
        cells_[mark["column"]] = mark["glyph"]
    return "".join(cells_)
