"""The timeline as one HTML page that opens from disk with no network, for a bug report: a
Gantt of the connection trees (a row per connection or attempt, under its process's heading),
bars coloured by outcome, marks for what happened at an instant, details on hover, and
filters by process, host and outcome that run in the page itself.

It is Bokeh's standalone page with Bokeh's JavaScript inlined. The time axis is the log's own
wall clock (each file's UTC instants moved by the offset it printed), so that a bar's ends
read as the times on the log's lines a reader then looks up; zoomed in, the axis shows
milliseconds. The data is prepared by Polars expressions; the page gets whole columns.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from logflow.analysis.clock import local_time
from logflow.errors import OutputError
from logflow.outputs import cells
from logflow.outputs.files import replacing
from logflow.outputs.tables import OUTCOME_COLOURS
from logflow.outputs.timeline import MARK_KINDS, Timeline
from logflow.outputs.trees import described
from logflow.reading.events import NO_DATE

# The tree's terminal colours as colours that read on white, and one for any other outcome.
HEX = {
    "green": "#4cae50",
    "red": "#e0524a",
    "yellow": "#e9b32c",
    "cyan": "#39afc6",
    "magenta": "#b067c8",
}
NEUTRAL = "#a3adb8"
# A mark kind's look: its marker, fill, outline and size in pixels; distinct in shape, so
# that they tell apart where they overlap and in print.
MARKS = {
    "ready": ("circle", "#ffffff", "#1e6b2a", 9),
    "error": ("x", "#c62828", "#c62828", 11),
    "proxy_failure": ("diamond", "#f28c28", "#7a3e00", 13),
    "path_change": ("inverted_triangle", "#3d6fd8", "#1b3a7a", 11),
    "cancel": ("dash", "#333333", "#333333", 12),
}
MARK_NAMES = {"proxy_failure": "proxy failure", "path_change": "path change"}
# Rows: their height on screen as the page opens, and how many it may show at once before
# the reader pans (so that a big capture opens readable, not as a smear).
ROW_PX = 24
MOST_ROWS_SHOWN = 26
LEGEND_ITEM_PX = 22
# The label column: its margin, the indent a level of the tree, and the width of a
# character (12 px sans-serif), to fit the column to the longest label.
LABEL_PAD = 8
INDENT_PX = 14
CHAR_PX = 7.5
LABEL_WIDTH = (120, 340)
# However short a bar, it is drawn at least this many pixels wide.
TICK_PX = 5
BAR_HEIGHT = 0.64
# The space above and below the rows, the same beside the labels as beside the bars so that
# both sides' rows line up: the time axis fits in the lower one.
BORDERS = (10, 32)
NO_BOKEH = "the HTML timeline needs bokeh: pip install 'logflow[html]'"


def write_html(timeline: Timeline, path: Path) -> None:
    """Write ``timeline`` to ``path`` as one self-contained HTML page (Bokeh's JavaScript
    inlined), replacing ``path`` only once the page is whole; an :class:`OutputError` when
    bokeh is not installed or ``path`` cannot be written."""
    try:
        from bokeh.embed import file_html
        from bokeh.resources import INLINE
    except ImportError:
        raise OutputError(NO_BOKEH) from None
    page = file_html(_layout(timeline), resources=INLINE, title=_page_title(timeline))
    with replacing(path) as partial:
        partial.write_text(page, encoding="utf-8")


# --- The data, in Polars ------------------------------------------------------------------


def _clock_ms(ts: str) -> pl.Expr:
    """An instant on the log's own wall clock, as the milliseconds Bokeh's datetime axis
    counts (with the microseconds the log printed)."""
    return local_time(pl.col(ts), pl.col("utc_offset")).dt.epoch("us") / 1000


def _escaped(text: pl.Expr) -> pl.Expr:
    """Text to put in the tooltips' HTML: a redacted host prints as ``<private>``."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.str.replace_all(char, entity, literal=True)
    return text


def _colour() -> pl.Expr:
    """The tree's colour of the row's outcome, as a hex colour."""
    hexes = {outcome: HEX[colour] for outcome, colour in OUTCOME_COLOURS.items()}
    return pl.col("outcome").cast(pl.String).replace_strict(hexes, default=NEUTRAL)


def _details(spans: pl.DataFrame) -> pl.Series:
    """What the tree says of each connection (:func:`~logflow.outputs.trees.described`), a
    line each, as the HTML of its tooltip."""
    clocks = spans.select("source", "utc_offset").unique("source")
    said = described(spans.drop("utc_offset"), clocks).with_columns(
        group=spans["group"], unended=spans["unended"], outcome_line=spans["outcome_line"]
    )
    lines = [
        pl.format("<b>{}</b> {}", _escaped(pl.col("conn_id")), pl.col("shown_outcome"))
        + pl.when(pl.col("unended")).then(pl.lit(" (no end logged)")).otherwise(pl.lit("")),
        *(_escaped(pl.col(name)) for name in ("endpoint", "mode", "group")),
        pl.format("started {}", pl.col("started")),
        *(pl.col(name) for name in ("took", "ready", "traffic", "rtt")),
        _escaped(pl.col("notes")),
        pl.format("outcome on line {}", pl.col("outcome_line")),
    ]
    return said.select(pl.concat_str(lines, separator="<br>", ignore_nulls=True)).to_series()


def _rows(spans: pl.DataFrame) -> pl.DataFrame:
    """The spans as the page draws them: ``y`` the row (0 at the top; a group's heading
    takes the row above its first span), the bar's ends on the log's clock, its colour, the
    label's indent and the tooltip."""
    # The spans come grouped (file, then process): a group starts where its name changes.
    new_group = (pl.col("group") != pl.col("group").shift()).fill_null(True)
    return spans.with_columns(group_no=new_group.cum_sum().cast(pl.Int32) - 1).with_columns(
        y=(pl.int_range(pl.len()) + pl.col("group_no") + 1).cast(pl.Float64),
        left=_clock_ms("start"),
        right=_clock_ms("end"),
        colour=_colour(),
        indent=LABEL_PAD + pl.col("depth") * INDENT_PX,
        outcome=pl.col("outcome").cast(pl.String),
        details=_details(spans),
    )


def _headings(rows: pl.DataFrame) -> pl.DataFrame:
    """A heading row per group, above its first span; ``text`` its name, cut to fit the
    widest label column (its whole name is in its rows' tooltips)."""
    most = int((LABEL_WIDTH[1] - 2 * LABEL_PAD) / CHAR_PX)
    name = pl.col("group")
    return (
        rows.group_by("group_no", maintain_order=True)
        .agg(name.first(), y=pl.col("y").first() - 1)
        .with_columns(
            text=pl.when(name.str.len_chars() > most)
            .then(name.str.head(most - 1) + "\u2026")
            .otherwise(name)
        )
    )


def _marks(marks: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The marks on their rows: a connection's on its own (``row`` its span's index), a
    system-wide path change on its process's heading (``row`` -1)."""
    on_rows = rows.select(
        "group", "conn_id", row=pl.int_range(pl.len(), dtype=pl.Int64), row_y="y"
    ).unique(["group", "conn_id"], keep="first", maintain_order=True)
    groups = rows.group_by("group", maintain_order=True).agg(
        pl.col("group_no", "utc_offset").first(), heading_y=pl.col("y").first() - 1
    )
    # A mark's label says what it is ("error 53", "cancelled"), but a path change's its change.
    what = (
        pl.when(pl.col("kind") == "path_change").then(pl.lit("path change: ")).otherwise(pl.lit(""))
    )
    whose = pl.coalesce(pl.col("conn_id"), pl.lit("the whole process"))
    clock = local_time(pl.col("ts"), pl.col("utc_offset")).dt.strftime("%H:%M:%S%.6f")
    details = pl.concat_str(
        pl.format("<b>{}{}</b>", what, _escaped(pl.col("label"))),
        pl.format("{} at {}", _escaped(whose), clock),
        pl.format("line {}", pl.col("line_no")),
        separator="<br>",
        ignore_nulls=True,
    )
    return (
        marks.join(on_rows, on=["group", "conn_id"], how="left", maintain_order="left")
        .join(groups, on="group", how="left", maintain_order="left")
        .with_columns(
            row=pl.col("row").fill_null(-1),
            y=pl.coalesce("row_y", "heading_y"),
            x=_clock_ms("ts"),
            details=details,
        )
    )


def _span_of(timeline: Timeline) -> str:
    """``2025-03-14 10:32:05.412 to 10:32:35.730 (30.3 s)``, on the log's own clock."""
    ends = timeline.spans.select(
        first=local_time(pl.col("start"), pl.col("utc_offset")).min(),
        last=local_time(pl.col("end"), pl.col("utc_offset")).max(),
        took=cells.duration(
            (pl.col("end").max() - pl.col("start").min()).dt.total_microseconds() / 1e6
        ),
    )
    shown = ends.select(
        first=pl.col("first").dt.strftime("%Y-%m-%d %H:%M:%S%.3f").str.strip_prefix(f"{NO_DATE} "),
        # The end's date only where it is another day.
        last=pl.when(pl.col("first").dt.date() == pl.col("last").dt.date())
        .then(pl.col("last").dt.strftime("%H:%M:%S%.3f"))
        .otherwise(pl.col("last").dt.strftime("%Y-%m-%d %H:%M:%S%.3f")),
        took="took",
    ).row(0)
    return "{} to {} ({})".format(*shown)


def _page_title(timeline: Timeline) -> str:
    """The browser tab's title: the files' names."""
    names = ", ".join(Path(source).name for source in timeline.sources)
    return f"logflow timeline: {names}" if names else "logflow timeline"


def _columns(frame: pl.DataFrame, names: list[str]) -> dict[str, Any]:
    """Columns for a ColumnDataSource: numbers as arrays (sent in binary), text as lists."""
    return {
        name: frame[name].to_numpy() if frame[name].dtype.is_numeric() else frame[name].to_list()
        for name in names
    }


# --- The page, in Bokeh -------------------------------------------------------------------

SPAN_COLUMNS = ["y", "left", "right", "colour", "indent", "conn_id",
                "parent_id", "group", "group_no", "host", "outcome", "details"]  # fmt: skip
MARK_COLUMNS = ["x", "y", "row", "group_no", "conn_id", "kind", "details"]

# Filters the rows in the page itself (no server): a row is kept when it matches every
# widget with a value (one of the processes and of the outcomes chosen, a host holding the
# text). The rows kept close up under their headings (a group with none kept loses its
# heading), the others get no position (NaN: Bokeh draws nothing there, hovers nothing),
# and the view goes back to the top. A source's data may come as a Map or a plain object.
FILTER_JS = """
const columns = (source) => {
  const data = source.data
  return data instanceof Map ? Object.fromEntries(data) : {...data}
}
const wanted = (widget) => new Set(widget.value)
const [groups, outcomes] = [wanted(group), wanted(outcome)]
const matches = (set, value) => set.size == 0 || set.has(value)
const host_text = host.value.trim().toLowerCase()
const host_matches = (value) => host_text == "" || (value ?? "").toLowerCase().includes(host_text)
const spans_data = columns(spans)
const n = spans_data.conn_id.length
const y = new Float64Array(n)
const headings_data = columns(headings)
const heading_y = new Float64Array(headings_data.group.length).fill(NaN)
let next = 0
let last_group = -1
let kept = 0
for (let i = 0; i < n; i++) {
  if (matches(groups, spans_data.group[i]) && host_matches(spans_data.host[i])
      && matches(outcomes, spans_data.outcome[i])) {
    const group_no = spans_data.group_no[i]
    if (group_no != last_group) {
      heading_y[group_no] = next++
      last_group = group_no
    }
    y[i] = next++
    kept++
  } else {
    y[i] = NaN
  }
}
spans.data = {...spans_data, y}
headings.data = {...headings_data, y: heading_y}
const marks_data = columns(marks)
const on_heading = (j) => heading_y[marks_data.group_no[j]]
const mark_y = Float64Array.from(marks_data.row, (row, j) => row >= 0 ? y[row] : on_heading(j))
marks.data = {...marks_data, y: mark_y}
const rows = Math.max(next, 1)
const top = Math.min(rows, window_rows) - 0.5
y_range.setv({bounds: [-0.5, rows - 0.5], start: top, end: -0.5, reset_start: top, reset_end: -0.5})
shown.text = `${kept.toLocaleString("en")} of ${n.toLocaleString("en")} connections shown`
"""


def _layout(timeline: Timeline):
    """The page: a title, the filters, then the labels and the Gantt side by side, their
    rows on one shared range (so the labels pan and zoom with the bars)."""
    from bokeh.layouts import column, row
    from bokeh.models import ColumnDataSource, CustomJS, Div, Range1d

    rows = _rows(timeline.spans)
    headings = _headings(rows)
    marks = _marks(timeline.marks, rows)
    total = rows.height + headings.height
    shown_rows = min(max(total, 1), MOST_ROWS_SHOWN)
    spans = ColumnDataSource(_columns(rows, SPAN_COLUMNS), name="spans")
    heading_source = ColumnDataSource(_columns(headings, ["y", "group", "text"]), name="headings")
    mark_source = ColumnDataSource(_columns(marks, MARK_COLUMNS), name="marks")
    # Flipped (start below end) so that the first row is at the top.
    top = shown_rows - 0.5
    y_range = Range1d(start=top, end=-0.5, bounds=(-0.5, max(total, 1) - 0.5), name="rows")
    # The plot's height: its rows (taller where there are few, for the legend to fit beside
    # them) and the borders (the Gantt's time axis in the lower one).
    legend_items = marks["kind"].n_unique() + rows["outcome"].n_unique()
    height = max(shown_rows * ROW_PX, legend_items * LEGEND_ITEM_PX + 24) + sum(BORDERS)
    gantt = _gantt(rows, marks, spans, mark_source, y_range, height)
    labels = _labels(rows, headings, spans, heading_source, y_range, height)
    _stripes(total, labels, gantt)
    widgets = _widgets(rows)
    shown = Div(text=f"{rows.height:,} of {rows.height:,} connections shown", name="shown")
    callback = CustomJS(
        args=dict(
            spans=spans,
            headings=heading_source,
            marks=mark_source,
            y_range=y_range,
            shown=shown,
            window_rows=shown_rows,
            **widgets,
        ),
        code=FILTER_JS,
    )
    for widget in widgets.values():
        widget.js_on_change("value", callback)
    title = Div(text=_title_html(timeline, headings), name="title")
    return column(
        title,
        row(*widgets.values(), shown),
        row(labels, gantt, sizing_mode="stretch_width"),
        sizing_mode="stretch_width",
    )


def _title_html(timeline: Timeline, headings: pl.DataFrame) -> str:
    """The files, then the time they span and what they hold."""
    files = ", ".join(html.escape(source) for source in timeline.sources) or "no file"
    held = "no connections"
    if not timeline.spans.is_empty():
        processes = cells.counted(headings.height, "process", "processes")
        connections = cells.counted(timeline.spans.height, "connection")
        held = f"{html.escape(_span_of(timeline))} &middot; {connections} in {processes}"
    # Connections whose lines carry no time have no place on the axis: say so, not hide it.
    if timeline.untimed:
        left_out = cells.counted(timeline.untimed, "connection")
        held += f" &middot; {left_out} left out: no time logged"
    return f"<b style='font-size:15px'>logflow timeline</b> &nbsp; {files}<br>{held}"


def _widgets(rows: pl.DataFrame) -> dict[str, Any]:
    """A chooser each for process and outcome, listing what the rows hold (none chosen keeps
    every row), and a box for a host: the rows whose host holds its text."""
    from bokeh.models import AutocompleteInput, MultiChoice

    present = rows["outcome"].unique(maintain_order=True).to_list()
    # Outcomes in the tree's order of colours, then the others as they come.
    outcomes = [o for o in OUTCOME_COLOURS if o in present] + [
        o for o in present if o not in OUTCOME_COLOURS
    ]
    # A capture can hold thousands of hosts: a chooser listing them all takes seconds to
    # open, where a box's completions are only looked at as one types.
    host = AutocompleteInput(
        title="Host (contains)",
        completions=rows["host"].drop_nulls().unique().sort().to_list(),
        search_strategy="includes",
        case_sensitive=False,
        restrict=False,
        min_characters=1,
        placeholder="all",
        name="filter_host",
        width=260,
    )
    return {
        "group": MultiChoice(
            title="Process",
            options=rows["group"].unique(maintain_order=True).to_list(),
            placeholder="all",
            name="filter_group",
            width=260,
        ),
        "host": host,
        "outcome": MultiChoice(
            title="Outcome", options=outcomes, placeholder="all", name="filter_outcome", width=260
        ),
    }


def _x_range(rows: pl.DataFrame):
    """The capture's span, with a little room either side (and some even where all is one
    instant)."""
    from bokeh.models import Range1d

    if rows.is_empty():
        return Range1d(0, 1000)
    first, last = rows["left"].min(), rows["right"].max()
    pad = max((last - first) * 0.02, 5.0)
    return Range1d(first - pad, last + pad, name="time")


def _gantt(rows, marks, spans, mark_source, y_range, height):
    """The bars, a tick where a bar is too short to see, the marks, their tooltips, the
    tools and the legend (beside the plot, never over a bar)."""
    from bokeh.models import (
        BoxZoomTool,
        CDSView,
        DatetimeTickFormatter,
        GroupFilter,
        HoverTool,
        IndexFilter,
        Legend,
        PanTool,
        ResetTool,
        SaveTool,
        WheelPanTool,
        WheelZoomTool,
    )
    from bokeh.plotting import figure

    plot = figure(
        name="timeline",
        x_axis_type="datetime",
        x_range=_x_range(rows),
        y_range=y_range,
        height=height,
        sizing_mode="stretch_width",
        tools="",
        toolbar_location="right",
        min_border_left=4,
        min_border_top=BORDERS[0],
        min_border_bottom=BORDERS[1],
        outline_line_color="#d0d7de",
    )
    plot.yaxis.visible = False
    plot.ygrid.visible = False
    plot.xgrid.grid_line_color = "#e6e9ed"
    plot.xaxis.formatter = DatetimeTickFormatter(
        milliseconds="%H:%M:%S.%3N",
        seconds="%H:%M:%S",
        minsec="%H:%M:%S",
        minutes="%H:%M",
        hourmin="%H:%M",
        hours="%H:%M",
    )
    bars = plot.hbar(
        y="y",
        left="left",
        right="right",
        height=BAR_HEIGHT,
        source=spans,
        fill_color="colour",
        line_color="colour",
        name="bars",
    )
    # The rows the log never saw end, hatched over: a renderer of their own, as a hatch per
    # row (a column of patterns) makes Bokeh build a pattern for every row, slowly.
    unended = rows.with_row_index().filter("unended")["index"].to_list()
    hatched = plot.hbar(
        y="y",
        left="left",
        right="right",
        height=BAR_HEIGHT,
        source=spans,
        view=CDSView(filter=IndexFilter(unended)),
        fill_alpha=0,
        line_color=None,
        hatch_pattern="/",
        hatch_color="#000000",
        hatch_alpha=0.22,
        hatch_scale=8,
        name="unended",
    )
    # A bar too short to see at this zoom (zero long, say) still shows as this tick.
    plot.rect(
        x="left",
        y="y",
        width=TICK_PX,
        width_units="screen",
        height=BAR_HEIGHT,
        source=spans,
        fill_color="colour",
        line_color="colour",
        name="ticks",
    )
    # A renderer a kind of mark, each showing its rows of the one source of marks.
    kinds = [kind for kind in MARK_KINDS if kind in set(marks["kind"])]
    mark_renderers = {
        kind: plot.scatter(
            x="x",
            y="y",
            source=mark_source,
            view=CDSView(filter=GroupFilter(column_name="kind", group=kind)),
            marker=MARKS[kind][0],
            fill_color=MARKS[kind][1],
            line_color=MARKS[kind][2],
            size=MARKS[kind][3],
            line_width=2 if kind in ("error", "cancel") else 1.2,
            angle=1.5708 if kind == "cancel" else 0.0,
            name=f"marks_{kind}",
        )
        for kind in kinds
    }
    # The marks' tooltips come from one renderer over all of them, drawn invisibly: marks at
    # the same instant (an error and its proxy failure) then share one tooltip.
    mark_hits = plot.scatter(
        x="x", y="y", source=mark_source, size=12, fill_alpha=0, line_alpha=0, name="mark_hits"
    )
    # A row's tooltip anywhere along its row (a zero-long bar included), below the pointer;
    # a mark's above it, so that both read where they meet.
    row_hover = HoverTool(
        renderers=[bars],
        mode="hline",
        point_policy="follow_mouse",
        attachment="below",
        tooltips='<div style="max-width:420px">@details{safe}</div>',
        name="row_hover",
    )
    mark_hover = HoverTool(
        renderers=[mark_hits],
        point_policy="follow_mouse",
        attachment="above",
        tooltips='<div style="max-width:420px">@details{safe}</div>',
        name="mark_hover",
    )
    x_zoom = WheelZoomTool(dimensions="width", name="x_zoom")
    plot.add_tools(
        PanTool(),
        x_zoom,
        WheelZoomTool(dimensions="height"),
        WheelPanTool(dimension="height"),
        BoxZoomTool(),
        ResetTool(),
        SaveTool(),
        row_hover,
        mark_hover,
    )
    plot.toolbar.active_scroll = x_zoom
    items = _legend_items(rows, bars, hatched, mark_renderers)
    plot.add_layout(
        Legend(items=items, location="top_left", label_text_font_size="12px", spacing=2),
        "right",
    )
    return plot


def _legend_items(rows, bars, hatched, mark_renderers) -> list:
    """An item per colour of outcome shown, naming its outcomes (``failed, dropped``) and
    drawn as its first row's bar; the hatch of a row with no end; an item per kind of mark."""
    from bokeh.models import LegendItem

    order = {outcome: n for n, outcome in enumerate(OUTCOME_COLOURS)}
    colours = (
        rows.with_row_index()
        .group_by("outcome", maintain_order=True)
        .agg(pl.col("colour", "index").first())
        # In the tree's order of outcomes, the others as they come.
        .sort(pl.col("outcome").replace_strict(order, default=len(order)), "index")
        .group_by("colour", maintain_order=True)
        .agg(pl.col("outcome").str.join(",\n"), pl.col("index").first())
    )
    items = [
        LegendItem(label=outcomes, renderers=[bars], index=index)
        for outcomes, index in colours.select("outcome", "index").iter_rows()
    ]
    if rows["unended"].any():
        items.append(LegendItem(label="no end logged", renderers=[hatched]))
    items += [
        LegendItem(label=MARK_NAMES.get(kind, kind), renderers=[renderer])
        for kind, renderer in mark_renderers.items()
    ]
    return items


def _labels(rows, headings, spans, heading_source, y_range, height):
    """The rows' labels, beside the Gantt and sharing its rows (so they pan and zoom with
    it): each id indented by its depth in the tree, under its process's name."""
    from bokeh.models import PanTool, Range1d, WheelPanTool
    from bokeh.plotting import figure

    wanted = rows.select((pl.col("indent") + pl.col("conn_id").str.len_chars() * CHAR_PX).max())
    heading_px = headings.select(pl.col("group").str.len_chars().max() * CHAR_PX + LABEL_PAD)
    width = max(wanted.item() or 0, heading_px.item() or 0) + LABEL_PAD
    width = int(min(max(width, LABEL_WIDTH[0]), LABEL_WIDTH[1]))
    plot = figure(
        name="labels",
        sizing_mode="fixed",
        x_range=Range1d(0, width),
        y_range=y_range,
        width=width,
        height=height,
        tools="",
        toolbar_location=None,
        min_border_left=0,
        min_border_right=0,
        min_border_top=BORDERS[0],
        min_border_bottom=BORDERS[1],
        outline_line_color=None,
    )
    plot.axis.visible = False
    plot.grid.visible = False
    # The panel has no toolbar, but a reader's wheel over the labels still scrolls the rows.
    wheel = WheelPanTool(dimension="height")
    plot.add_tools(PanTool(dimensions="height"), wheel)
    plot.toolbar.active_scroll = wheel
    plot.text(
        x="indent",
        y="y",
        text="conn_id",
        source=spans,
        text_baseline="middle",
        text_font_size="12px",
        text_color="#24292f",
    )
    plot.text(
        x=LABEL_PAD,
        y="y",
        text="text",
        source=heading_source,
        text_baseline="middle",
        text_font_size="12px",
        text_font_style="bold",
        text_color="#000000",
    )
    return plot


def _stripes(total: int, *plots) -> None:
    """A light band behind every other row, across the labels and the Gantt, to follow a
    row from its label to its bar; drawn by row position, so the filters need not move it."""
    from bokeh.models import ColumnDataSource

    even = pl.DataFrame({"y": pl.int_range(0, total, 2, eager=True).cast(pl.Float64)})
    source = ColumnDataSource(
        _columns(even.with_columns(y0=pl.col("y") - 0.5, y1=pl.col("y") + 0.5), ["y0", "y1"])
    )
    for plot in plots:
        plot.hstrip(
            y0="y0", y1="y1", source=source, fill_color="#f3f5f8", line_color=None, level="underlay"
        )
