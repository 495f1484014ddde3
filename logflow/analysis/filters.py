"""One set of filters for every table: which connection trees, and which moments, to keep.

A filter picks whole trees (a process's C8 and all under it) by process, connection id, host
or outcome, and a span of time by ``since``/``until``; each table keeps the rows of the trees
picked, in that span. Everything is a Polars expression or join.

>>> from logflow.analysis.filters import Filters, moment  # doctest: +SKIP
>>> picked = Filters(process="weather", since=moment("+30s"))  # doctest: +SKIP
>>> picked.connections(parsed.connections(), parsed.captures).collect()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

from logflow.analysis.clock import local_time
from logflow.analysis.tree import OUTCOMES, PROCESS
from logflow.errors import FilterError
from logflow.reading.events import root_of

TREE = (*PROCESS, "root_id")
# `+30s`, `+1m30s`, `+500ms`, `+1.5h`: a span after the capture's start.
OFFSET = re.compile(
    r"^\+(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m(?!s))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?(?:(?P<ms>\d+(?:\.\d+)?)ms)?$"
)
CLOCK = re.compile(
    r"^(?:(?P<date>\d{4}-\d{2}-\d{2})[ T])?(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$"
)
# Each table of moments in a tree: the column that names its connection, the one that says when.
TABLE_COLUMNS = {
    "races": ("parent_id", "first_ts"),
    "proxy_failures": ("conn_id", "ts"),
    "path_changes": ("conn_id", "ts"),
}


@dataclass(frozen=True)
class Moment:
    """A moment as a user gives it: ``seconds`` after the capture's start, or a wall-clock
    ``time`` in the log's own clock (on ``date``, or on the capture's first day)."""

    seconds: float | None = None
    time: dt.time | None = None
    date: dt.date | None = None

    def local(self, capture_start: pl.Expr, offset: pl.Expr) -> pl.Expr:
        """The moment as a wall-clock time of the log (a naive datetime), per capture."""
        start = local_time(capture_start, offset)
        if self.seconds is not None:
            return start + pl.duration(microseconds=round(self.seconds * 1e6))
        assert self.time is not None
        day = pl.lit(self.date) if self.date is not None else start.dt.date()
        return day.dt.combine(self.time)


def moment(text: str) -> Moment:
    """A ``--since``/``--until`` value: ``+30s``, ``+1m30s``, ``+500ms`` after the capture's
    start, or ``09:41``, ``09:41:07.5``, ``2025-03-14 09:41:07`` as the log's clock says."""
    text = text.strip()
    offset = OFFSET.match(text)
    if offset and any(offset.groupdict().values()):
        parts = {k: float(v) for k, v in offset.groupdict().items() if v}
        seconds = (
            parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
            + parts.get("ms", 0) / 1000
        )
        return Moment(seconds=seconds)
    clock = CLOCK.match(text)
    if clock:
        try:
            time = dt.time.fromisoformat(_padded(clock["time"]))
            date = dt.date.fromisoformat(clock["date"]) if clock["date"] else None
        except ValueError:
            pass
        else:
            return Moment(time=time, date=date)
    msg = (
        f"{text!r} is not a time: give one as the log prints it (09:41:07, "
        "2025-03-14 09:41:07.250) or after the capture's start (+30s, +1m30s, +500ms)"
    )
    raise FilterError(msg)


def _padded(time: str) -> str:
    """``9:41`` as ``09:41``; fractions of a second to microseconds."""
    hours, rest = time.split(":", 1)
    whole, _, fraction = rest.partition(".")
    return f"{int(hours):02d}:{whole}" + (f".{fraction[:6].ljust(6, '0')}" if fraction else "")


def connection_id(text: str) -> str:
    """``C8.1.2`` for ``C8.1.2``, ``c8.1.2``, 2016's ``8.1.2`` and ``C8.1.2:2`` as logged
    (an instance of C8.1.2); ``L1`` for a listener."""
    value = text.strip().removeprefix("[").removesuffix("]").split(":")[0]
    letter = value[:1].upper() if value[:1] in "CcLl" else "C"
    digits = value[1:] if value[:1] in "CcLl" else value
    if not digits or not all(part.isdecimal() for part in digits.split(".")):
        msg = f"{text!r} is not a connection id like C8, C8.1.2 or C8.1.2:2"
        raise FilterError(msg)
    return letter + digits


@dataclass(frozen=True)
class Filters:
    """What to keep: trees of ``process`` (a name, any case; ``Name[pid]``; or a pid), the
    tree holding ``conn``, trees with a connection to ``host`` (a part of its name or
    address, any case), trees where a connection ended ``outcome``, and what happened from
    ``since`` until ``until``. None keeps all."""

    process: str | None = None
    conn: str | None = None
    host: str | None = None
    outcome: str | None = None
    since: Moment | str | None = None
    until: Moment | str | None = None

    def __post_init__(self) -> None:
        # As typed in a notebook: `Filters(conn="c8.1.1:2", since="+30s")`.
        if self.conn is not None:
            object.__setattr__(self, "conn", connection_id(self.conn))
        for name in ("since", "until"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, moment(getattr(self, name)))
        if self.outcome is not None and self.outcome not in OUTCOMES:
            msg = f"{self.outcome!r} is not an outcome: one of {', '.join(OUTCOMES)}"
            raise FilterError(msg)

    @property
    def picks_trees(self) -> bool:
        return any((self.process, self.conn, self.host, self.outcome, self.since, self.until))

    def process_expr(self) -> pl.Expr:
        """True for the rows of the process asked for."""
        if self.process is None:
            return pl.lit(True)
        asked = self.process.strip()
        named = re.fullmatch(r"(?P<name>.*?)\[(?P<pid>\d+)\]", asked)
        if named:
            return (pl.col("process").str.to_lowercase() == named["name"].lower()) & (
                pl.col("pid") == int(named["pid"])
            )
        by_name = pl.col("process").str.to_lowercase() == asked.lower()
        return by_name | (pl.col("pid") == int(asked)) if asked.isdecimal() else by_name

    def trees(self, connections: pl.LazyFrame, captures: pl.DataFrame) -> pl.LazyFrame:
        """The trees picked: their ``source``, ``process``, ``pid`` and ``root_id``."""
        nodes = connections.filter(self.process_expr())
        kept = [pl.lit(True)]
        if self.conn is not None and self.conn.startswith("C"):
            kept.append(pl.col("root_id") == root_of(pl.lit(self.conn)))
        if self.host is not None:
            host = self.host.lower()
            kept.append(
                pl.any_horizontal(
                    pl.col(c).str.to_lowercase().str.contains(host, literal=True)
                    for c in ("requested_host", "host", "endpoint")
                )
                .fill_null(False)
                .any()
                .over(TREE)
            )
        if self.outcome is not None:
            kept.append((pl.col("outcome") == self.outcome).any().over(TREE))
        nodes = nodes.filter(*kept)
        spans = nodes.group_by(TREE).agg(pl.col("first_ts").min(), pl.col("last_ts").max())
        return self._in_span(spans, "first_ts", "last_ts", captures).select(TREE)

    def connections(self, connections: pl.LazyFrame, captures: pl.DataFrame) -> pl.LazyFrame:
        """The connections of the trees picked, every one of each tree's."""
        if not self.picks_trees:
            return connections
        return connections.join(
            self.trees(connections, captures), on=list(TREE), how="semi", nulls_equal=True
        )

    def table(
        self, name: str, table: pl.LazyFrame, trees: pl.LazyFrame, captures: pl.DataFrame
    ) -> pl.LazyFrame:
        """The rows of table ``name`` in the trees picked (:meth:`trees`), in the span asked."""
        if not self.picks_trees:
            return table
        if name == "listeners":
            table = table.filter(self.process_expr())
            if self.conn is not None and self.conn.startswith("L"):
                table = table.filter(pl.col("listener_id") == self.conn)
            return self._in_span(table, "first_ts", "last_ts", captures)
        conn, when = TABLE_COLUMNS[name]
        table = table.with_columns(root_id=root_of(pl.col(conn))).join(
            trees, on=list(TREE), how="semi", nulls_equal=True
        )
        return self._in_span(table, when, when, captures).drop("root_id")

    def events(
        self, events: pl.LazyFrame, connections: pl.LazyFrame, captures: pl.DataFrame
    ) -> pl.LazyFrame:
        """The events of the trees picked, in the span asked; with ``conn``, only those of
        that connection and the attempts under it (``C8.1`` keeps C8.1, C8.1.1, C8.1.2)."""
        if not self.picks_trees:
            return events
        trees = self.trees(connections, captures)
        events = events.with_columns(root_id=root_of(pl.col("conn_id"))).join(
            trees, on=list(TREE), how="semi", nulls_equal=True
        )
        if self.conn is not None and self.conn.startswith("C"):
            conn = pl.col("conn_id")
            events = events.filter((conn == self.conn) | conn.str.starts_with(self.conn + "."))
        return self._in_span(events, "ts", "ts", captures).drop("root_id")

    def _in_span(
        self, frame: pl.LazyFrame, first: str, last: str, captures: pl.DataFrame
    ) -> pl.LazyFrame:
        """The rows of ``frame`` whose span (``first`` to ``last``) meets since..until."""
        if self.since is None and self.until is None:
            return frame
        clocks = captures.lazy().select("source", "utc_offset", capture_start="first_ts")
        frame = frame.join(clocks, on="source", how="left")
        offset, start = pl.col("utc_offset"), pl.col("capture_start")
        kept = []
        if isinstance(self.since, Moment):
            kept.append(local_time(pl.col(last), offset) >= self.since.local(start, offset))
        if isinstance(self.until, Moment):
            kept.append(local_time(pl.col(first), offset) <= self.until.local(start, offset))
        return frame.filter(*kept).drop("utc_offset", "capture_start")
