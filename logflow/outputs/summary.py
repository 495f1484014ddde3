"""The one-screen summary: what the tables say, counted, as data and as text.

:func:`summary_data` aggregates with Polars and never cuts a list (``--json`` prints it
whole); :func:`summary_text` walks that small data and cuts long lists, saying how many
more there are. Printing stays in :mod:`logflow.cli`.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from logflow.analysis.clock import local_time
from logflow.analysis.filters import Filters
from logflow.analysis.tree import PROCESS
from logflow.engine import ENGINE
from logflow.outputs.cells import counted, name_of
from logflow.outputs.tables import wrapped_lines
from logflow.pipeline import Parsed

# The tables a summary reads, in the order summary_data takes them.
TABLES = ("connections", "races", "proxy_failures", "path_changes", "listeners")
# How many of a list the text shows before it says how many more there are.
SHOWN = 5
PRIVATE = "<private>"


def summarize(parsed: Parsed, filters: Filters | None = None) -> dict[str, Any]:
    """:func:`summary_data` of a parse, of what ``filters`` keep of it."""
    filters = filters or Filters()
    return summary_data(
        parsed.captures,
        parsed.process_events.filter(filters.process_expr()),
        *(parsed.table(name, filters).collect(engine=ENGINE) for name in TABLES),
    )


def summary_data(
    captures: pl.DataFrame,
    process_events: pl.DataFrame,
    connections: pl.DataFrame,
    races: pl.DataFrame,
    proxies: pl.DataFrame,
    paths: pl.DataFrame,
    listeners: pl.DataFrame,
) -> dict[str, Any]:
    """What `logflow summary` shows, as JSON-ready data; no list is cut.

    A connection is a root of a tree (C8); its attempts are everything under it (C8.1,
    C8.1.1, ...) and a QUIC connection's TLS stream. A process's ``connections`` and
    ``attempts`` add up to its rows of the connections table.
    """
    is_root = (pl.col("depth") == 0) & pl.col("tls_stream_of").is_null()
    roots = connections.filter(is_root)
    attempts = connections.filter(~is_root)
    logged = attempts.filter(~pl.col("implicit"))
    per_process = connections.group_by(PROCESS).agg(
        connections=is_root.sum(), attempts=(~is_root).sum()
    )
    hosts = roots.filter(pl.col("requested_host").is_not_null() & ~pl.col("inbound"))
    private = pl.col("requested_host") == PRIVATE
    return {
        "captures": captures.with_columns(
            span_s=(pl.col("last_ts") - pl.col("first_ts")).dt.total_microseconds() / 1e6,
            first_local=local_time(pl.col("first_ts"), pl.col("utc_offset")),
            last_local=local_time(pl.col("last_ts"), pl.col("utc_offset")),
        ).to_dicts(),
        "processes": process_events.select(*PROCESS, "events")
        .join(per_process, on=list(PROCESS), how="left", nulls_equal=True)
        .with_columns(pl.col("connections", "attempts").fill_null(0))
        .sort("events", descending=True, maintain_order=True)
        .to_dicts(),
        "connections": {"total": roots.height, "outcomes": _counts(roots, "outcome")},
        "attempts": {
            "total": attempts.height,
            "logged": logged.height,
            "outcomes": _counts(logged, "outcome"),
        },
        "races": {
            "total": races.height,
            "outcomes": _counts(races, "outcome"),
            "races": races.select(
                *PROCESS,
                "parent_id",
                "outcome",
                "winner_id",
                "children",
                "families",
                "also_rans",
                "not_started",
                "failed",
            ).to_dicts(),
        },  # fmt: skip
        # A connection waiting as its attempts do: the path of the one nearest its root.
        "waiting_on_path": connections.filter(
            (pl.col("outcome") == "waiting") & pl.col("start_path_status").is_not_null()
        )
        .sort("depth")
        .group_by(*PROCESS, "root_id", maintain_order=True)
        .agg(pl.col("start_path_status", "start_path_reason").first())
        .group_by("start_path_status", "start_path_reason", maintain_order=True)
        .agg(connections=pl.len())
        .sort("connections", descending=True)
        .to_dicts(),
        "dropped": roots.filter(pl.col("outcome") == "dropped")
        .select(*PROCESS, "conn_id", "last_error_code", "last_error", "n_errors")
        .to_dicts(),
        "failures_by_error": logged.filter(pl.col("outcome") == "failed")
        .group_by("error_code", "error_name", "error")
        .agg(attempts=pl.len())
        .sort("attempts", "error_name", descending=[True, False], nulls_last=True)
        .to_dicts(),
        "proxy_failures": proxies.select(
            *PROCESS, "conn_id", "proxy_kind", "error_name", "fell_back", "fallback_outcome"
        ).to_dicts(),
        "path_changes": {
            "total": paths.height,
            "system_wide": paths["system_change"].drop_nulls().n_unique(),
            "changes": paths.select(*PROCESS, "conn_id", "change", "from", "to").to_dicts(),
        },
        "listeners": _listeners(listeners, connections),
        # A server's inbound connections are its clients, not hosts it asked for.
        "busiest_hosts": hosts.filter(~private)
        .group_by(host="requested_host")
        .agg(connections=pl.len())
        .sort("connections", "host", descending=[True, False])
        .to_dicts(),
        "private_host_connections": hosts.filter(private).height,
    }


def _listeners(listeners: pl.DataFrame, connections: pl.DataFrame) -> list[dict[str, Any]]:
    """Each process that listened or accepted: its listeners, its inbound connections, the
    probable also-rans among them and, where the client's log was read too, whose they were."""
    inbound = (
        connections.filter(pl.col("inbound"))
        .group_by(PROCESS, maintain_order=True)
        .agg(
            inbound=pl.len(),
            probable_also_rans=pl.col("conn_id").filter("probable_also_ran"),
            from_clients=pl.struct("conn_id", "client_attempt").filter(
                pl.col("client_attempt").is_not_null()
            ),
        )
    )
    named = listeners.group_by(PROCESS, maintain_order=True).agg(
        listeners=pl.col("listener_id"),
        failures=pl.col("failure").drop_nulls(),
    )
    return (
        named.join(inbound, on=list(PROCESS), how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("inbound").fill_null(0))
        .to_dicts()
    )


def _listed(items: list[str], most: int) -> str:
    """``items`` joined, the first ``most`` of them, saying how many more there are."""
    more = len(items) - most
    shown = ", ".join(items[:most])
    return f"{shown} and {more} more" if more > 0 else shown


def _who(row: dict[str, Any]) -> str:
    """`Weather[2317]`, or the process alone where no pid was logged."""
    return name_of(row["process"], row["pid"])


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counts = (
        frame.group_by(key=pl.col(column).cast(pl.String))
        .agg(n=pl.len())
        .sort("n", "key", descending=[True, False], nulls_last=True)
    )
    return {str(k): n for k, n in counts.iter_rows()}


def summary_text(data: dict[str, Any], width: int | None = 80) -> str:
    """The summary for a terminal: one screen, long lines wrapped to ``width`` (None: not
    wrapped, for a pipe), every cut list saying how many more."""
    several = len(data["captures"]) > 1
    out = _capture_lines(data["captures"])
    procs = data["processes"]
    out.append(f"Processes ({len(procs)}):")
    for p in procs[:SHOWN]:
        counts = (
            f"{counted(p['connections'], 'connection')}, {counted(p['attempts'], 'attempt')}, "
            f"{counted(p['events'], 'event')}"
        )
        out.append(f"  {_who(p)}{_file(p, several)}  {counts}")
    out.extend(_more(procs))
    conns, attempts = data["connections"], data["attempts"]
    out.append(f"Connections: {conns['total']}{_outcomes(conns['outcomes'])}")
    unlogged = attempts["total"] - attempts["logged"]
    out.append(
        f"Attempts under them: {attempts['total']}{_outcomes(attempts['outcomes'])}"
        + (f" ({unlogged} not logged themselves)" if unlogged else "")
    )
    races = data["races"]
    out.append(f"Races: {races['total']}{_outcomes(races['outcomes'])}")
    for race in races["races"][:SHOWN]:
        out.append(f"  {_named(race, race['parent_id'], several)}: {_race(race)}")
    out.extend(_more(races["races"]))
    failures = data["failures_by_error"]
    if failures:
        out.append("Failed attempts by error:")
        for f in failures[:SHOWN]:
            name = f["error_name"] or f["error_code"] or "no error logged"
            out.append(f"  {f['attempts']:>4}  {name}  {f['error'] or ''}".rstrip())
        out.extend(_more(failures))
    out.extend(_waiting_lines(data["waiting_on_path"]))
    dropped = data["dropped"]
    if dropped:
        out.append(f"Dropped after connecting: {counted(len(dropped), 'connection')}")
        for d in dropped[:SHOWN]:
            error = d["last_error"] or "no error logged"
            out.append(f"  {_named(d, d['conn_id'], several)}: {error}")
        out.extend(_more(dropped))
    proxies = data["proxy_failures"]
    out.append(f"Proxy failures: {len(proxies)}")
    for p in proxies[:SHOWN]:
        fallback = f"fell back ({p['fallback_outcome']})" if p["fell_back"] else "no fallback"
        who = _named(p, p["conn_id"], several) if p["conn_id"] else f"{_who(p)} (no id)"
        out.append(f"  {who}: {p['proxy_kind'] or 'proxy'} {p['error_name'] or ''}, {fallback}")
    out.extend(_more(proxies))
    paths = data["path_changes"]
    out.append(f"Path changes: {paths['total']} ({paths['system_wide']} system-wide)")
    for c in paths["changes"][:SHOWN]:
        change = f"{c['change']} {c['from'] or '?'} -> {c['to'] or '?'}"
        out.append(f"  {_named(c, c['conn_id'], several)}: {change}")
    out.extend(_more(paths["changes"]))
    out.extend(_listener_lines(data["listeners"], several))
    out.extend(_host_lines(data["busiest_hosts"], data["private_host_connections"]))
    return wrapped_lines(out, width)


def _capture_lines(captures: list[dict[str, Any]]) -> list[str]:
    """When each input's Network events began and ended, in its own clock."""
    lines = []
    for c in captures[:SHOWN]:
        first, last = c["first_local"], c["last_local"]
        if first is None:
            lines.append(
                f"Capture: {c['source']}, no times logged, {counted(c['events'], 'event')}"
            )
            continue
        # A Console copy prints no date: its date is 1970-01-01, which says nothing.
        day = "" if first.year <= 1970 else f"{first:%Y-%m-%d} "
        same_day = last.date() == first.date()
        until = _millis(last) if same_day else f"{last:%Y-%m-%d} {_millis(last)}"
        offset = f" ({c['utc_offset']})" if c["utc_offset"] else ""
        lines.append(
            f"Capture: {c['source']}  {day}{_millis(first)} to {until}{offset}, "
            f"{_seconds(c['span_s'])}, {counted(c['events'], 'event')}"
        )
    lines.extend(_more(captures))
    return lines


def _millis(moment: Any) -> str:
    return f"{moment:%H:%M:%S.%f}"[:-3]


def _seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {rest:02d}s"


def _race(race: dict[str, Any]) -> str:
    """``C8.1.1 (ipv6) won; also-ran C8.1.2 (ipv4)``, or what became of a race none won."""
    family = dict(zip(race["children"], race["families"], strict=True))

    def named(ids: list[str]) -> str:
        return _listed([f"{i} ({family[i]})" if family.get(i) else i for i in ids], 3)

    parts = [f"{named([race['winner_id']])} won" if race["winner_id"] else "none won"]
    if race["outcome"] == "undecided":
        parts = ["undecided"]
    if race["also_rans"]:
        parts.append(f"also-ran {named(race['also_rans'])}")
    if race["failed"]:
        parts.append(f"failed {named(race['failed'])}")
    if race["not_started"]:
        parts.append(f"not tried {_listed(race['not_started'], 3)}")
    return "; ".join(parts)


def _waiting_lines(waiting: list[dict[str, Any]]) -> list[str]:
    if not waiting:
        return []
    total = sum(w["connections"] for w in waiting)
    reasons = ", ".join(
        f"{w['start_path_status']} ({w['start_path_reason'] or '?'})"
        + (f" x{w['connections']}" if w["connections"] > 1 else "")
        for w in waiting
    )
    noun = "connection waited" if total == 1 else "connections waited"
    return [f"{total} {noun} on an unsatisfied path: {reasons}"]


def _listener_lines(listeners: list[dict[str, Any]], several: bool) -> list[str]:
    if not listeners:
        return []
    n = len(listeners)
    out = [f"Listeners, in {counted(n, 'process', 'processes')}:"]
    for listening in listeners:
        named = " ".join(listening["listeners"] or []) or "no listener logged"
        also = listening["probable_also_rans"] or []
        line = (
            f"  {_who(listening)}{_file(listening, several)} {named}: "
            f"{counted(listening['inbound'], 'inbound connection')}, "
            f"{counted(len(also), 'probable also-ran')}"
        )
        if also:
            line += f" ({_listed(also, SHOWN)})"
        out.append(line)
        for failure in listening["failures"] or []:
            out.append(f"    failed: {failure}")
        pairs = listening["from_clients"] or []
        for pair in pairs[:SHOWN]:
            client = pair["client_attempt"]
            out.append(
                f"    {pair['conn_id']} came from {_who(client)} {client['conn_id']} "
                f"({client['outcome']})"
            )
        out.extend("  " + more for more in _more(pairs))
    return out


def _host_lines(hosts: list[dict[str, Any]], private: int) -> list[str]:
    if not hosts and not private:
        return []
    shown = _listed([f"{h['host']} ({h['connections']})" for h in hosts], SHOWN) or "none named"
    hidden = f"; {counted(private, 'connection')} to <private> hosts" if private else ""
    return [f"Busiest hosts, by connections: {shown}{hidden}"]


def _outcomes(counts: dict[str, int]) -> str:
    """``: 2 won, 1 failed``, or nothing when there is nothing to count."""
    return ": " + ", ".join(f"{n} {k}" for k, n in counts.items()) if counts else ""


def _more(items: list[Any], shown: int = SHOWN) -> list[str]:
    """``  ... and 143 more``, when more than ``shown`` items were listed."""
    return [f"  ... and {len(items) - shown} more"] if len(items) > shown else []


def _named(row: dict[str, Any], conn_id: str, several: bool) -> str:
    """``Weather[2317] C8``, and its file when several were read."""
    return f"{_who(row)} {conn_id}{_file(row, several)}"


def _file(row: dict[str, Any], several: bool) -> str:
    return f" ({row['source']})" if several else ""
