"""Connection trees for people: a process's C8 with its attempts under it, a line each.

The connections come in the order the trees are drawn (:func:`in_tree_order`: file, process,
then each root by its start, depth first, siblings by start); what each line says is worked
out by Polars expressions (:func:`described`), and only the drawing walks the rows.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from typing import Any

import polars as pl

from logflow.analysis.tree import PROCESS
from logflow.outputs import cells

Line = tuple[str, str | None]
"""A line of text and the outcome it shows (for colour), or None."""

TREE = (*PROCESS, "root_id")
LEGEND = (
    "connection  endpoint  mode transport  OUTCOME  started (+ after its root)  took  "
    "ready after  bytes in, out  rtt  error, notes"
)


def in_tree_order(connections: pl.DataFrame, sources: list[str]) -> pl.DataFrame:
    """``connections`` in the order the trees draw them: by file (as read), process, pid,
    then root by root in start order, each depth first with siblings in start order."""
    frame = connections.with_columns(
        file_order=file_order(sources),
        root_start=pl.col("first_ts").min().over(TREE),
    ).sort("file_order", "process", "pid", "root_start", "root_id", nulls_last=True)
    children: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    roots: list[int] = []
    order = frame.select(pl.int_range(pl.len()).sort_by("first_ts", "conn_id", nulls_last=True))
    keys = frame.select(*PROCESS, "conn_id", "parent_id").rows()
    for index in order.to_series():
        source, process, pid, conn_id, parent_id = keys[index]
        if parent_id is None:
            roots.append(index)
        else:
            children[(source, process, pid, parent_id)].append(index)
    # Roots in the frame's order (file, process, start); depth first with an explicit stack:
    # ids can nest deeper than Python recurses.
    roots.sort()
    drawn: list[int] = []
    stack = list(reversed(roots))
    while stack:
        index = stack.pop()
        drawn.append(index)
        source, process, pid, conn_id, _ = keys[index]
        stack.extend(reversed(children.get((source, process, pid, conn_id), [])))
    return frame[drawn].drop("file_order", "root_start")


def file_order(sources: list[str]) -> pl.Expr:
    """Each row's file by the order the files were read (one not among them last)."""
    by_file = {source: number for number, source in enumerate(sources)}
    return pl.col("source").replace_strict(by_file, default=len(by_file))


def described(connections: pl.DataFrame, captures: pl.DataFrame) -> pl.DataFrame:
    """What each connection's line says, a column each (null where the log says nothing)."""
    clocks = captures.select("source", "utc_offset")
    root_start = pl.col("first_ts").filter(pl.col("depth") == 0).first().over(TREE)
    asked, endpoint = pl.col("requested_host"), pl.col("endpoint")
    bytes_logged = pl.col("bytes_in").is_not_null() | pl.col("bytes_out").is_not_null()
    return connections.join(clocks, on="source", how="left", maintain_order="left").select(
        "outcome",
        "depth",
        "conn_id",
        "parent_id",
        # A root by the host it was asked for and the address it connected to.
        endpoint=pl.when((pl.col("depth") == 0) & asked.is_not_null() & (asked != pl.col("host")))
        .then(pl.concat_str(asked, endpoint, separator=" -> "))
        .otherwise(endpoint),
        mode=pl.concat_str("mode", "transport", separator=" ", ignore_nulls=True).replace("", "-"),
        shown_outcome=pl.when(pl.col("outcome").is_in(("won", "failed")))
        .then(pl.col("outcome").cast(pl.String).str.to_uppercase())
        .otherwise(pl.col("outcome").cast(pl.String)),
        started=pl.concat_str(
            cells.clock(pl.col("first_ts"), pl.col("utc_offset")),
            pl.when(pl.col("depth") > 0).then(cells.since(pl.col("first_ts"), root_start)),
            separator=" ",
            ignore_nulls=True,
        ).replace("", None),
        took=pl.when(pl.col("duration_s") > 0).then(
            pl.format("took {}", cells.duration(pl.col("duration_s")))
            + pl.when(pl.col("started_before_capture"))
            .then(pl.lit(" (began before the capture)"))
            .otherwise(pl.lit(""))
        ),
        ready=pl.format(
            "ready after {}",
            cells.duration((pl.col("ready_ts") - pl.col("first_ts")).dt.total_microseconds() / 1e6),
        ),
        traffic=pl.when(bytes_logged).then(
            pl.format(
                "{} in, {} out",
                cells.size(pl.col("bytes_in").fill_null(0)),
                cells.size(pl.col("bytes_out").fill_null(0)),
            )
        ),
        rtt=pl.format("rtt {}", cells.duration(pl.col("rtt_s"))),
        notes=_notes(),
    )


def _notes() -> pl.Expr:
    """The error and what else is worth knowing of a connection, as one text."""
    name = pl.coalesce(pl.col("error_name"), pl.col("error_code").cast(pl.String))
    error = (
        pl.when(pl.col("error").is_not_null())
        .then(pl.format("error {}: {}", name.fill_null("?"), pl.col("error")))
        .when(name.is_not_null())
        .then(pl.format("error {}", name))
    )
    last = pl.coalesce(pl.col("last_error"), pl.col("last_error_code").cast(pl.String))
    errors = pl.when(
        (pl.col("n_errors") > 0) & (pl.col("last_error") != pl.col("error")).fill_null(True)
    )
    client = pl.col("client_attempt")
    client_who = cells.who(client.struct.field("process"), client.struct.field("pid"))
    inbound = pl.when(pl.col("probable_also_ran")).then(pl.lit("inbound, probable also-ran"))
    notes = [
        error,
        errors.then(
            pl.format(
                "{} error{}, last: {}",
                pl.col("n_errors"),
                pl.when(pl.col("n_errors") == 1).then(pl.lit("")).otherwise(pl.lit("s")),
                last,
            )
        ),
        pl.when((pl.col("outcome") == "waiting") & pl.col("path_reason").is_not_null()).then(
            pl.format("path {} ({})", pl.col("path_status"), pl.col("path_reason"))
        ),
        pl.when(pl.col("inbound")).then(inbound.otherwise(pl.lit("inbound"))),
        pl.when(client.is_not_null()).then(
            pl.format(
                "from {} {} ({})",
                client_who,
                client.struct.field("conn_id"),
                client.struct.field("outcome"),
            )
        ),
        pl.when(pl.col("replaced")).then(pl.lit("(replaced: its transform restarted)")),
        pl.when(pl.col("untried_endpoints").list.len() > 0).then(
            "not tried: " + _listed(pl.col("untried_endpoints"), 3)
        ),
        pl.when(pl.col("implicit")).then(pl.lit("(not logged itself)")),
        pl.when(pl.col("tls_stream_of").is_not_null()).then(
            pl.format("(TLS stream of {})", pl.col("tls_stream_of"))
        ),
    ]
    return pl.concat_str(notes, separator="  ", ignore_nulls=True).replace("", None)


def _listed(items: pl.Expr, most: int) -> pl.Expr:
    """The first ``most`` items joined, saying how many more there are."""
    more = items.list.len() - most
    shown = items.list.head(most).list.join(", ")
    return pl.when(more > 0).then(pl.format("{} and {} more", shown, more)).otherwise(shown)


FIELDS = ("conn_id", "endpoint", "mode", "shown_outcome", "started", "took", "ready", "traffic",
          "rtt", "notes")  # fmt: skip


def tree_lines(
    connections: pl.DataFrame,
    captures: pl.DataFrame,
    sources: list[str],
    *,
    width: int | None = None,
) -> list[Line]:
    """A legend line, then each process instance's heading and its trees, a line a
    connection; wrapped to ``width`` (continuations under the connection's own id), or
    whole (``width`` None, for a pipe)."""
    ordered = in_tree_order(connections, sources)
    text = described(ordered, captures)
    keys = ordered.select(*PROCESS).rows()
    legend = [LEGEND] if width is None else _packed(LEGEND.split("  "), width, "", "  ")
    lines: list[Line] = [(text, None) for text in legend]
    heading = None
    rails = _rails(text["depth"].to_list())
    for key, rail, row in zip(keys, rails, text.iter_rows(named=True), strict=True):
        if key != heading:
            heading = key
            source, process, pid = key
            named = [cells.name_of(process, pid), source]
            heading_lines = ["  ".join(named)] if width is None else _packed(named, width, "", "  ")
            lines.extend((text, None) for text in heading_lines)
        fields = [str(row[f]) for f in FIELDS if row[f] is not None]
        first, rest = rail
        if width is None:
            lines.append((f"  {first}" + "  ".join(fields), row["outcome"]))
            continue
        packed = _packed(fields, width, f"  {first}", f"  {rest}    ")
        lines.extend((piece, row["outcome"]) for piece in packed)
    return lines


def _packed(fields: list[str], width: int, first: str, rest: str) -> list[str]:
    """``fields`` two spaces apart in lines of ``width``, a field broken only where it is
    wider than a line; the first line begins with ``first``, the others with ``rest``."""
    lines: list[str] = []
    line = first
    for field in fields:
        indent = first if not lines else rest
        if line != indent and len(line) + 2 + len(field) > width:
            lines.append(line)
            line = indent = rest
        if len(line) + (2 if line != indent else 0) + len(field) <= width:
            line += ("  " if line != indent else "") + field
            continue
        pieces = textwrap.wrap(field, max(width - len(rest), 10), break_on_hyphens=False)
        line += ("  " if line != indent else "") + pieces[0]
        for piece in pieces[1:]:
            lines.append(line)
            line = rest + piece
    lines.append(line)
    return lines


def _rails(depths: list[int]) -> list[tuple[str, str]]:
    """The tree drawing before each line (``├─ ``, ``│  └─ ``), and before its continuations,
    for connections in tree order at these depths."""
    # From the last line up: whether a line at each level comes later, before the tree
    # climbs above that level.
    later = [False] * (max(depths, default=0) + 2)
    drawn: list[tuple[str, str]] = []
    for depth in reversed(depths):
        if depth == 0:
            drawn.append(("", ""))
        else:
            head = "".join("│  " if later[level] else "   " for level in range(1, depth))
            more = later[depth]
            drawn.append((head + ("├─ " if more else "└─ "), head + ("│  " if more else "   ")))
        later[depth] = True
        for deeper in range(depth + 1, len(later)):
            later[deeper] = False
    return drawn[::-1]
