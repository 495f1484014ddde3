"""Tables for people: which columns of each table a reader sees, under which headers, and how
they are laid out on a terminal (fitted to its width) or in a pipe (nothing cut).

A view turns a table into text cells with Polars expressions (:mod:`logflow.outputs.cells`);
only the layout walks rows, of a frame already cut down to what is shown.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from logflow.outputs import cells
from logflow.outputs.trees import file_order

# The colour of an outcome, wherever one is printed.
OUTCOME_COLOURS = {
    "won": "green",
    "failed": "red",
    "all-failed": "red",
    "also-ran": "yellow",
    "undecided": "yellow",
    "dropped": "red",
    "open": "cyan",
    "waiting": "magenta",
}
MISSING = "-"
# The longest word a column is kept wide enough for; a longer one is folded.
LONGEST_WORD = 16
# Spaces between two columns.
GAP = 2
# A number and its unit, kept on one line.
UNIT = re.compile(r"(\d) (ms|s|kB|MB|B)\b")


@dataclass(frozen=True)
class Screen:
    """Where text goes: ``width`` columns of a terminal, or None for a pipe (nothing is cut),
    and whether it may be coloured."""

    width: int | None = None
    color: bool = False


@dataclass(frozen=True)
class View:
    """What a table shows people: the command that prints it, a noun for when it is empty,
    and its columns by header."""

    command: str
    noun: str
    columns: Callable[[], dict[str, pl.Expr]]
    outcome: str | None = None
    """The header of the column whose values are outcomes, coloured as such."""
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    """What the columns need that the table does not hold as one column."""


def at(ts: str) -> pl.Expr:
    """``09:41:07.123 +12.4 s``: the time as the log printed it, and since the capture began."""
    when = pl.col(ts)
    return pl.concat_str(
        cells.clock(when, pl.col("utc_offset")),
        cells.since(when, pl.col("capture_start")),
        separator=" ",
    )


def _races() -> dict[str, pl.Expr]:
    winner = pl.concat_str(
        pl.col("winner_id"),
        pl.format("in {}", cells.duration(pl.col("winner_connect_s"))),
        pl.format("by {}", cells.duration(pl.col("margin_s"))),
        separator=" ",
        ignore_nulls=True,
    ).replace("", None)
    return {
        "Parent": pl.col("parent_id"),
        "Started": at("first_ts"),
        "Attempts": cells.joined(pl.col("attempts")),
        "Winner": winner,
        "Also-rans": cells.joined(pl.col("also_rans")),
        "Not tried": cells.joined(pl.col("not_started")),
        "Failed": cells.joined(pl.col("failed")),
        "Outcome": pl.col("outcome"),
    }


def _race_attempts(races: pl.DataFrame) -> pl.DataFrame:
    """Each race's attempts with their address families: ``C8.1.1 ipv6, C8.1.2 ipv4``."""
    attempts = (
        races.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("race"), "children", "families")
        .explode("children", "families")
        .group_by("race", maintain_order=True)
        .agg(
            attempts=pl.concat_str(
                "children", "families", separator=" ", ignore_nulls=True
            ).drop_nulls()
        )
    )
    # A race of addresses none of which was tried has no attempts: an empty list.
    return (
        races.with_row_index("race")
        .join(attempts, on="race", how="left", maintain_order="left")
        .with_columns(pl.col("attempts").fill_null(pl.lit([], pl.List(pl.String))))
        .drop("race")
    )


def _proxies() -> dict[str, pl.Expr]:
    fallback = pl.format("{} ({})", pl.col("fallback_id"), pl.col("fallback_outcome"))
    return {
        "Conn": pl.col("conn_id"),
        "Time": at("ts"),
        "Proxy": pl.concat_str(
            pl.col("proxy_kind").fill_null("proxy"),
            pl.col("proxy_endpoint"),
            separator=" ",
            ignore_nulls=True,
        ),
        "Attempt": pl.col("failed_child"),
        "Error": pl.concat_str(
            pl.col("error_name"), pl.col("error"), separator=": ", ignore_nulls=True
        ).replace("", None),
        "Fallback": pl.when(pl.col("fell_back")).then(fallback).otherwise(pl.lit("no")),
    }


def _paths() -> dict[str, pl.Expr]:
    return {
        "Conn": pl.col("conn_id"),
        "Time": at("ts"),
        "Change": pl.col("change"),
        "From": pl.col("from"),
        "To": pl.col("to"),
        "System-wide": pl.format("#{}", pl.col("system_change")),
    }


def _listeners() -> dict[str, pl.Expr]:
    return {
        "Listener": pl.col("listener_id"),
        "First": at("first_ts"),
        "Last": cells.clock(pl.col("last_ts"), pl.col("utc_offset")),
        "Events": pl.col("n_events").cast(pl.String),
        "Inbound": pl.col("inbound_handled").cast(pl.String),
        "Failure": pl.col("failure"),
    }


def _events() -> dict[str, pl.Expr]:
    instance = pl.col("instance").cast(pl.String)
    return {
        "Line": pl.col("line_no").cast(pl.String),
        "Time": at("ts"),
        "Conn": pl.concat_str("conn_id", instance, separator=":", ignore_nulls=True),
        "Kind": pl.col("kind").cast(pl.String),
        "State": pl.coalesce("state", "event"),
        "Message": pl.col("message"),
    }


VIEWS = {
    "races": View("races", "races", _races, outcome="Outcome", prepare=_race_attempts),
    "proxy_failures": View("proxies", "proxy failures", _proxies),
    "path_changes": View("paths", "path changes", _paths),
    "listeners": View("listeners", "listeners", _listeners),
    "events": View("events", "events", _events),
}


def in_log_order(events: pl.DataFrame, sources: list[str]) -> pl.DataFrame:
    """Events by file (as read), process, then line: each process's in the order logged."""
    return events.sort(file_order(sources), "process", "pid", "line_no", nulls_last=True)


def event_lines(frame: pl.DataFrame, width: int) -> list[str]:
    """The cells of the events view (:func:`cells_of`) as a log reads on a terminal: a line
    of where and when each happened, and its message under it, wrapped to ``width``; each
    process's (and file's) under its name."""
    under = [header for header in ("File", "Process") if header in frame.columns]
    numbers = frame["Line"].str.len_chars().max()
    indent = " " * (numbers + 2)
    lines: list[str] = []
    for names, rows in frame.group_by(under, maintain_order=True):
        if lines:
            lines.append("")
        lines.append(" in ".join(str(name) for name in reversed(names)) + ":")
        for row in rows.iter_rows(named=True):
            said = (row[h] for h in ("Time", "Conn", "State", "Kind") if row[h] is not None)
            head = f"{row['Line']:>{numbers}}  " + "  ".join(said)
            lines.extend(textwrap.wrap(head, width, subsequent_indent=indent) or [head])
            message = textwrap.wrap(
                row["Message"] or "", width, initial_indent=indent, subsequent_indent=indent
            )
            lines.extend(message)
    return lines


def cells_of(name: str, table: pl.DataFrame, captures: pl.DataFrame) -> pl.DataFrame:
    """The text cells of table ``name`` (a key of :data:`VIEWS`): a Process column (and a File
    column when the table comes from several), then the view's columns; every cell a string."""
    view = VIEWS[name]
    if view.prepare is not None:
        table = view.prepare(table)
    clocks = captures.select("source", "utc_offset", capture_start="first_ts")
    joined = table.join(clocks, on="source", how="left", maintain_order="left")
    where = {"Process": cells.who(pl.col("process"), pl.col("pid"))}
    if table["source"].n_unique() > 1:
        where = {"File": file_names(pl.col("source"), table["source"]), **where}
    columns = {**where, **view.columns()}
    return joined.select(expr.cast(pl.String).alias(header) for header, expr in columns.items())


def file_names(source: pl.Expr, sources: pl.Series) -> pl.Expr:
    """A file by its name alone where no two files read share one, else by its path."""
    names = sources.unique().str.replace(r"^.*/", "")
    return source if names.is_duplicated().any() else source.str.replace(r"^.*/", "")


def without_empty_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without the columns that hold nothing in any row: on a terminal, a column
    that says nothing takes room from those that do."""
    if frame.is_empty():
        return frame
    empty = frame.select(pl.all().is_null().all()).row(0)
    return frame.select(c for c, none in zip(frame.columns, empty, strict=True) if not none)


def render(frame: pl.DataFrame, screen: Screen, *, outcome: str | None = None) -> str:
    """``frame`` (every cell a string) as aligned text: on a terminal, fitted to its width
    (long cells wrapped, never a row cut; a table too wide even so becomes one block of
    ``Header  value`` lines a row; a file's rows under its name); in a pipe, every value
    whole, one row a line."""
    if screen.width is None:
        width = sum(_widest(frame)) + GAP * frame.width
        return _printed(_table(frame, outcome), width, screen.color)
    if "File" not in frame.columns:
        return _fitted(frame, screen, outcome)
    parts = []
    for (name,), rows in frame.group_by("File", maintain_order=True):
        parts.append(f"{name}:\n{_fitted(rows.drop('File'), screen, outcome)}")
    return "\n\n".join(parts)


def _fitted(frame: pl.DataFrame, screen: Screen, outcome: str | None) -> str:
    assert screen.width is not None
    frame = without_empty_columns(frame)
    widths = _widths(frame, screen.width - GAP * (frame.width - 1))
    if widths is not None:
        return _printed(_table(frame, outcome, widths=widths), screen.width, screen.color)
    # Too many columns for this terminal: a block a row, no column cut (psql's \\x auto).
    return "\n\n".join(
        _printed(block, screen.width, screen.color) for block in _blocks(frame, outcome)
    )


def _blocks(frame: pl.DataFrame, outcome: str | None) -> list[Table]:
    """A two-column table a row: each header beside its value, the empty ones left out."""
    blocks = []
    for row in frame.iter_rows(named=True):
        block = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0))
        block.add_column(style="bold", no_wrap=True)
        block.add_column(overflow="fold")
        for header, value in row.items():
            if value is not None:
                block.add_row(header, _cell(value, header == outcome))
        blocks.append(block)
    return blocks


def _widths(frame: pl.DataFrame, room: int) -> list[int] | None:
    """Each column's width in ``room`` characters: its widest value where all fit; else each
    at least its header and its longest word up to :data:`LONGEST_WORD` (a time, an id, a
    process name stay whole; a URL is folded), the room left shared in proportion to what
    each would take more. None where even the narrowest do not fit."""
    widest = _widest(frame)
    words = frame.select(
        pl.col(c).str.split(" ").list.eval(pl.element().str.len_chars()).list.max().max()
        for c in frame.columns
    ).row(0)
    headers = [len(header) for header in frame.columns]
    narrow = [
        min(w, max(h, min(word or 0, LONGEST_WORD)))
        for h, w, word in zip(headers, widest, words, strict=True)
    ]
    wide = widest
    if sum(wide) <= room:
        return wide
    if sum(narrow) > room:
        return None
    spare, wanted = room - sum(narrow), sum(wide) - sum(narrow)
    return [n + (w - n) * spare // wanted for n, w in zip(narrow, wide, strict=True)]


def _table(frame: pl.DataFrame, outcome: str | None, *, widths: list[int] | None = None) -> Table:
    """A rich table of ``frame``, its columns ``widths`` wide, or, without them, for a pipe:
    no rule under the headers, no column ever narrowed."""
    piped = widths is None
    table = Table(
        box=None if piped else box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        padding=(0, GAP, 0, 0) if piped else (0, GAP - 1, 0, 0),
    )
    for number, header in enumerate(frame.columns):
        table.add_column(
            header,
            overflow="ignore" if piped else "fold",
            no_wrap=piped,
            width=None if widths is None else widths[number],
            header_style="bold",
        )
    for row in frame.iter_rows(named=True):
        values = row.values() if widths is None else map(_wrapped, row.values(), widths)
        table.add_row(*(_cell(v, h == outcome) for h, v in zip(row, values, strict=True)))
    return table


def _wrapped(value: str | None, width: int) -> str | None:
    """``value`` in lines of ``width``, broken between words but never between a number and
    its unit (``+50.6 s``), which rich would part."""
    if value is None or len(value) <= width:
        return value
    kept = UNIT.sub("\\1\0\\2", value)
    lines = textwrap.wrap(kept, width, break_on_hyphens=False) or [kept]
    return "\n".join(lines).replace("\0", " ")


def _console(width: int, *, color: bool) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
    )


def _printed(table: Table, width: int, color: bool) -> str:
    console = _console(width, color=color)
    console.print(table)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.rstrip("\n").split("\n"))


def _widest(frame: pl.DataFrame) -> list[int]:
    """Each column's widest value, its header included: the width at which nothing is cut."""
    return list(
        frame.select(
            pl.max_horizontal(pl.col(c).fill_null(MISSING).str.len_chars().max(), pl.lit(len(c)))
            for c in frame.columns
        ).row(0)
    )


def _cell(value: str | None, is_outcome: bool) -> Text:
    text = MISSING if value is None else value
    style = OUTCOME_COLOURS.get(text, "") if is_outcome else ""
    return Text(text, style=style)


def wrapped_lines(lines: list[str], width: int | None) -> str:
    """Lines of text for a terminal ``width`` wide, each longer one wrapped under itself
    (indented by four); in a pipe (None), as they are."""
    if width is None:
        return "\n".join(lines)
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="    ", break_on_hyphens=False)
        if len(line) > width
        else line
        for line in lines
    )


def nothing_found(
    noun: str, sources: list[str], *, filtered: bool = False, width: int | None = None
) -> str:
    """``No races in net.log.`` (``... that the filters keep.``), wrapped to ``width``."""
    where = sources[0] if len(sources) == 1 else f"{len(sources)} files"
    text = f"No {noun} in {where}" + (" that the filters keep." if filtered else ".")
    return text if width is None else textwrap.fill(text, width, break_on_hyphens=False)
