"""Text for people: connection trees and the one-screen summary.

These functions take small, already aggregated frames and are the one place that walks rows
in Python. They return plain strings (and, for trees, the outcome of each line so that the
CLI can colour it); printing stays in :mod:`logflow.cli`.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from typing import Any

import polars as pl

from logflow.analysis.tree import PROCESS

Line = tuple[str, str | None]
"""A line of text and the outcome it shows (for colour), or None."""


def tree_lines(connections: pl.DataFrame) -> list[Line]:
    """The indented trees of every process instance, roots in the order they started."""
    lines: list[Line] = []
    for (source, process, pid), nodes in connections.sort("first_ts").group_by(
        PROCESS, maintain_order=True
    ):
        lines.append((f"{_who({'process': process, 'pid': pid})}  {source}", None))
        children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
        for node in nodes.sort("first_ts", "conn_id").iter_rows(named=True):
            children[node["parent_id"]].append(node)
        start = nodes["first_ts"].min()
        # Depth-first with an explicit stack: ids can nest deeper than Python recurses.
        stack = [(root, "", True, True) for root in reversed(children[None])]
        while stack:
            node, prefix, last, root = stack.pop()
            branch = "" if root else ("└─ " if last else "├─ ")
            lines.append((f"  {prefix}{branch}{_describe(node, start)}", node["outcome"]))
            inner = prefix if root else prefix + ("   " if last else "│  ")
            below = children.get(node["conn_id"], [])
            for i in reversed(range(len(below))):
                stack.append((below[i], inner, i == len(below) - 1, False))
    return lines


def _describe(node: dict[str, Any], start: Any) -> str:
    parts = [node["conn_id"]]
    asked = node["requested_host"]
    # A root by the host it was asked for and the address it connected to.
    if node["depth"] == 0 and asked and node["endpoint"] and asked != node["host"]:
        parts.append(f"{asked} -> {node['endpoint']}")
    elif node["endpoint"]:
        parts.append(node["endpoint"])
    parts.append(" ".join(p for p in (node["mode"], node["transport"]) if p) or "-")
    parts.append(
        str(node["outcome"]).upper()
        if node["outcome"] in ("won", "failed")
        else str(node["outcome"])
    )
    if node["first_ts"] is not None and start is not None:
        offset = (node["first_ts"] - start).total_seconds()
        parts.append(f"+{offset:.3f}s")
    if node["duration_s"]:
        began = " (began before the capture)" if node["started_before_capture"] else ""
        parts.append(f"{node['duration_s']:.3f}s{began}")
    if node["error_code"] is not None or node["error"]:
        name = node["error_name"] or node["error_code"]
        parts.append(f"error {name}: {node['error']}" if node["error"] else f"error {name}")
    if node["n_errors"] and node["last_error"] != node["error"]:
        last = node["last_error"] or node["last_error_code"]
        parts.append(f"{_plural(node['n_errors'], 'error')}, last: {last}")
    if node["outcome"] == "waiting" and node["path_reason"]:
        parts.append(f"path {node['path_status']} ({node['path_reason']})")
    if node["inbound"]:
        parts.append("inbound, probable also-ran" if node["probable_also_ran"] else "inbound")
    client = node["client_attempt"]
    if client:
        parts.append(f"from {_who(client)} {client['conn_id']} ({client['outcome']})")
    if node["replaced"]:
        parts.append("(replaced: its transform restarted)")
    if node["untried_endpoints"]:
        parts.append(f"not tried: {_listed(node['untried_endpoints'], 3)}")
    if node["implicit"]:
        parts.append("(not logged itself)")
    if node["tls_stream_of"]:
        parts.append(f"(TLS stream of {node['tls_stream_of']})")
    return "  ".join(str(p) for p in parts)


def summary_data(
    process_events: pl.DataFrame,
    connections: pl.DataFrame,
    races: pl.DataFrame,
    proxies: pl.DataFrame,
    paths: pl.DataFrame,
    listeners: pl.DataFrame,
) -> dict[str, Any]:
    """What `logflow summary` shows, as JSON-ready data."""
    logged = connections.filter(~pl.col("implicit"))
    # A QUIC connection's TLS stream has an id of its own but is part of that connection.
    roots = connections.filter((pl.col("depth") == 0) & pl.col("tls_stream_of").is_null())
    return {
        "processes": process_events.join(
            connections.group_by(PROCESS).agg(connections=pl.col("root_id").n_unique()),
            on=list(PROCESS),
            how="left",
            nulls_equal=True,
        )
        .with_columns(pl.col("connections").fill_null(0))
        .sort("events", descending=True, maintain_order=True)
        .to_dicts(),
        "connections": roots.height,
        "handlers": logged.height,
        "outcomes": _counts(logged, "outcome"),
        "races": {
            "total": races.height,
            "outcomes": _counts(races, "outcome"),
            "with_also_rans": races.filter(pl.col("also_rans").list.len() > 0)
            .select(*PROCESS, "parent_id", "winner_id", "also_rans", "families")
            .to_dicts(),
        },
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
        .sort("attempts", descending=True)
        .to_dicts(),
        "proxy_failures": proxies.select(
            *PROCESS, "conn_id", "proxy_kind", "error_name", "fell_back", "fallback_outcome"
        ).to_dicts(),
        "path_changes": {
            "total": paths.height,
            "system_wide": paths["system_change"].drop_nulls().n_unique(),
            "changes": paths.select(*PROCESS, "conn_id", "change", "from", "to")
            .head(10)
            .to_dicts(),
        },
        "listeners": _listeners(listeners, connections),
        # A server's inbound connections are its clients, not hosts it asked for.
        "busiest_hosts": roots.filter(pl.col("requested_host").is_not_null() & ~pl.col("inbound"))
        .group_by(host="requested_host")
        .agg(connections=pl.len())
        .sort("connections", "host", descending=[True, False])
        .head(10)
        .to_dicts(),
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
    process = row["process"] or "?"
    return f"{process}[{row['pid']}]" if row["pid"] is not None else process


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counts = frame.group_by(column).agg(n=pl.len()).sort("n", descending=True)
    return {str(k): n for k, n in counts.iter_rows()}


def summary_text(data: dict[str, Any], width: int = 80) -> str:
    """The summary for a terminal: one screen, long lines wrapped to ``width``."""
    out = []
    procs = data["processes"]
    out.append(f"Processes ({len(procs)}):")
    for p in procs[:8]:
        counts = f"{_plural(p['connections'], 'connection')}, {_plural(p['events'], 'event')}"
        out.append(f"  {_who(p)}  {counts}")
    outcomes = ", ".join(f"{n} {k}" for k, n in data["outcomes"].items()) or "none"
    out.append(f"Connections: {data['connections']}, {data['handlers']} handlers: {outcomes}")
    races = data["races"]
    race_outcomes = ", ".join(f"{n} {k}" for k, n in races["outcomes"].items()) or "none"
    out.append(f"Races: {races['total']} ({race_outcomes})")
    for race in races["with_also_rans"][:5]:
        families = "/".join(family or "?" for family in race["families"])
        also = ", ".join(race["also_rans"])
        out.append(f"  {race['parent_id']}: {race['winner_id']} won, also-ran {also} ({families})")
    if data["failures_by_error"]:
        out.append("Failures by error:")
        for f in data["failures_by_error"][:5]:
            name = f["error_name"] or f["error_code"] or "no error logged"
            out.append(f"  {f['attempts']:>4}  {name}  {f['error'] or ''}".rstrip())
    waiting = data["waiting_on_path"]
    if waiting:
        total = sum(w["connections"] for w in waiting)
        reasons = ", ".join(
            f"{w['start_path_status']} ({w['start_path_reason'] or '?'})"
            + (f" x{w['connections']}" if w["connections"] > 1 else "")
            for w in waiting
        )
        noun = "connection waited" if total == 1 else "connections waited"
        out.append(f"{total} {noun} on an unsatisfied path: {reasons}")
    if data["dropped"]:
        out.append(f"Dropped after connecting: {len(data['dropped'])}")
        for d in data["dropped"][:5]:
            out.append(f"  {d['conn_id']}: {d['last_error'] or 'no error logged'}")
    out.append(f"Proxy failures: {len(data['proxy_failures'])}")
    for p in data["proxy_failures"][:5]:
        fallback = f"fell back ({p['fallback_outcome']})" if p["fell_back"] else "no fallback"
        out.append(
            f"  {p['conn_id'] or 'no connection named'}: {p['proxy_kind'] or 'proxy'}"
            f" {p['error_name'] or ''}, {fallback}"
        )
    paths = data["path_changes"]
    out.append(f"Path changes: {paths['total']} ({paths['system_wide']} system-wide)")
    for c in paths["changes"][:5]:
        out.append(f"  {c['conn_id']}: {c['change']} {c['from'] or '?'} -> {c['to']}")
    if data["listeners"]:
        n = len(data["listeners"])
        out.append(f"Listeners, in {n} {'process' if n == 1 else 'processes'}:")
    for listening in data["listeners"]:
        named = " ".join(listening["listeners"] or []) or "no listener logged"
        also = listening["probable_also_rans"] or []
        line = (
            f"  {_who(listening)} {named}: {_plural(listening['inbound'], 'inbound connection')}, "
            f"{_plural(len(also), 'probable also-ran')}"
        )
        if also:
            line += f" ({_listed(also, 5)})"
        out.append(line)
        for failure in listening["failures"] or []:
            out.append(f"    failed: {failure}")
        for pair in listening["from_clients"] or []:
            client = pair["client_attempt"]
            out.append(
                f"    {pair['conn_id']} came from {_who(client)} {client['conn_id']} "
                f"({client['outcome']})"
            )
    if data["busiest_hosts"]:
        hosts = ", ".join(f"{h['host']} ({h['connections']})" for h in data["busiest_hosts"][:5])
        out.append(f"Busiest hosts: {hosts}")
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="    ", break_on_hyphens=False) for line in out
    )
