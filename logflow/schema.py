"""The tables logflow writes: every column's name, type and meaning, and the enums of their
closed sets, shared by every stage and by notebooks.

This module is the Parquet contract. :data:`COLUMNS` holds, for each table (events,
connections, races, proxy_failures, path_changes, listeners), its columns in order with
their Polars types and descriptions; :data:`SCHEMAS` and :data:`DESCRIPTIONS` are the same,
by name. The pipeline's tables have exactly these columns and types (tests/test_schema.py
checks it on the samples), :func:`described_schema` puts the descriptions on an Arrow schema
for a Parquet file to carry, and docs/schema.md is generated from here
(:func:`schema_markdown`, by ``docs/make_schema.py``). :data:`SCHEMA_VERSION` goes up when a
column changes its meaning or its type.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl
import pyarrow as pa

# Bumped when a column changes its meaning or its type, or is removed (a column added is not
# a change of the contract's version: readers select what they know).
SCHEMA_VERSION = 1

# ---- Closed sets ------------------------------------------------------------------------------

# What a record is. The kinds of Network-framework events and of CFNetwork's connection lines
# are the shapes of grammars/message.lark (a test keeps them in step); the last four kinds are
# records that are neither.
NETWORK_KINDS = (
    "handler_event",
    "elapsed_event",
    "connection_params",
    "state_report",
    "errno_report",
    "request_error",
    "tls_error",
    "child_report",
    "proxy_failure",
    "handler_note",
    "conn_note",
    "listener_note",
    "path_evaluator",
    "legacy_numbered",
    "function_note",
    "unknown",
)
UNKNOWN = "unknown"
# CFNetwork's lines about tasks and the connections they use (`Task <...>.<1> now using
# Connection 1`): another subsystem's records, kept with --keep-other, that name Network's ids.
CFNETWORK_KINDS = (
    "cfnetwork_task",
    "cfnetwork_connection",
    "cfnetwork_tic",
    "cfnetwork_tcp_conn",
)
OTHER = "other"
PREAMBLE = "preamble"
TRAILER = "trailer"
UNPARSED = "unparsed"
KINDS = (*NETWORK_KINDS, *CFNETWORK_KINDS, OTHER, PREAMBLE, TRAILER, UNPARSED)
Kind = pl.Enum(KINDS)

# How the record reached the text: the envelope style of its first line.
ENVELOPES = (
    "logshow",
    "compact",
    "syslog",
    "xcode",
    "relay",
    "console",
    "oslogstore",
    "xcode_metadata",
    "console_kv",
    "ndjson",
    "json",
    "bare",
    "unifiedlogs",
    "unknown",
)
Envelope = pl.Enum(ENVELOPES)

# What a connection ran over. message.lark's TRANSPORT is `tcp`, `udp`, `quic`, 2020's
# `stream` (TCP) or CFNetwork's `quic-connection` (QUIC), and a flow's `Transport protocol
# connected (…)` is kept only when it names one of these three.
TRANSPORTS = ("tcp", "udp", "quic")
Transport = pl.Enum(TRANSPORTS)

# The address family of a connection's endpoint, by endpoint.lark: an address or a name.
FAMILIES = ("ipv4", "ipv6", "name")
Family = pl.Enum(FAMILIES)

# Each outcome of a connection and the evidence for it, the first that holds (the README's
# outcome table, which a test keeps equal to this).
OUTCOMES = {
    "won": "it had rivals (siblings, or addresses its resolver added, `Adding endpoint handler "
    "for IPv4#…`, and never tried) and is the attempt the connection's summary block names as "
    "connected (or is above it); without a summary block, the first sibling ready in log "
    "order. Ready means a `ready` state, a `flow:finish_connect`/`flow:child_finish_connect` "
    "event, `Output protocol connected`, QUIC's `quic_crypto_tls_ready`, or a summary block",
    "failed": "it never connected, and failed: a `failed` state, `flow:failed_connect`, "
    "`flow:child_failed`, `resolver:children_failed`, a connect that failed (`Socket SO_ERROR "
    "[61: …]`, `connectx failed (fd 15) [1: Operation not permitted]`, a reset answering the "
    "SYN: `tcp_input … flags=[R.] … state=SYN_SENT` is ECONNREFUSED), "
    "`nw_endpoint_flow_failed_with_error`, a proxy failure, CFNetwork's `Connection 1: failed "
    "to connect 1:61`; or every attempt under it failed. Other errno lines (`getsockopt "
    "TCP_INFO failed [102: …]`) and errors on `waiting` reports are not failures",
    "also-ran": "a sibling won (started and abandoned, or never started: see `races.not_started`)",
    "dropped": "it worked, then was lost: after it was ready, a `failed` state (`reporting "
    "state failed error …`), or a read or write "
    "that failed with a lost connection's error (`Receive failed with error \"Operation timed "
    'out"`, `Socket is not connected`, `Connection reset by peer`); reads that fail so show '
    "it was connected even where its ready line is not in the capture",
    "completed": "ready, then ended: `nw_endpoint_handler_cancel`, a `cancelled` state or "
    "line, `dealloc`, `Output protocol disconnected`, `nw_socket_close`, a `tcp_close` record, "
    "a summary block, or the end of its whole connection. Errors that did not lose it are "
    "still counted (`n_errors`)",
    "cancelled": "started, then ended before it was ever ready; or replaced: its transform "
    "started over (`transform:restart`, after `resolver:receive_alternative`) with a new "
    "attempt, which carries the outcome",
    "open": "ready, and never ended: the log ends first",
    "waiting": "its path was never satisfied (`unsatisfied (No network route)`), and it "
    "never ended",
    "connecting": "started, never ready, never ended",
    "unknown": "too little logged: a lone protocol line, a connection line with no state",
}
Outcome = pl.Enum(list(OUTCOMES))

# How a race ended (logflow/analysis/diagnose.py, races), the first that holds.
RACE_OUTCOMES = {
    "won": "one of its attempts won (`winner_id`)",
    "all-failed": "it made attempts, and every one failed",
    "undecided": "nothing logged decides it, as when only `Calling connectx` lines were captured",
}
RaceOutcome = pl.Enum(list(RACE_OUTCOMES))

# What a path change is (path_changes' `change`, a string): the kinds of change, and the kinds
# of flag a path event's descriptor changed. A path event that changed flags of several kinds
# names them all, in the order met, joined by ", " (`address families, DNS`): so the set is not
# closed, and `change` is no enum.
PATH_CHANGES = ("status", "interface", "viability", "migrated", "better path")
PATH_FLAG_CHANGES = (
    "address families",
    "DNS",
    "LQM",
    "expensive",
    "constrained",
    "interface type",
    "properties",
)

# ---- Columns ----------------------------------------------------------------------------------


class Column(NamedTuple):
    """A column of a table: its name, Polars type and meaning; a struct's fields, described."""

    name: str
    dtype: pl.DataType
    description: str
    fields: tuple[Column, ...] = ()


def _struct(name: str, description: str, fields: tuple[Column, ...]) -> Column:
    return Column(name, pl.Struct({f.name: f.dtype for f in fields}), description, fields)


# A connection is numbered per process instance: C8 in one pid is not C8 in another.
CONNECTION_KEY = ("source", "process", "pid", "conn_id")

_SOURCE = Column("source", pl.String(), "Input path the record came from; `<stdin>` for `-`.")
_PROCESS = Column(
    "process",
    pl.String(),
    "Process name where the envelope gives one (the last part of a path); null where not.",
)
_PID = Column("pid", pl.Int64(), "Process id where the envelope gives one; null where not.")
_TS_NOTE = "UTC, as the events' `ts`"

# The statistics block under a `cancelled` connection line (grammars/summary.lark): the attempt
# that connected, the time each protocol took to set up, and the traffic.
SUMMARY_FIELDS = (
    Column(
        "leaf_id",
        pl.String(),
        "The attempt that connected, as the block's first line names it: `C8.1.1` (2020's "
        "`8.1.1` becomes `C8.1.1`).",
    ),
    Column(
        "local_endpoint",
        pl.String(),
        "That attempt's local address and port: `192.168.0.25:53756` (2020 blocks put a dot "
        "before the port).",
    ),
    Column(
        "remote_endpoint",
        pl.String(),
        "That attempt's remote address and port: `216.58.215.46:443`, `IPv6#a0c4f19e.443`.",
    ),
    Column(
        "connected_path",
        pl.String(),
        "`Connected Path:` as logged: `satisfied (Path is satisfied), viable, interface: "
        "en0[802.11], ipv4, dns, uses wifi`.",
    ),
    Column(
        "privacy_stance",
        pl.String(),
        "`Privacy Stance:` as logged (`Not Eligible`); null where the block has none (2020).",
    ),
    Column("duration_s", pl.Float64(), "`Duration:`: seconds the connection lasted."),
    Column(
        "dns_s",
        pl.Float64(),
        "Seconds DNS resolution took: `DNS @0.001s took 0.018s` is 0.018; null where not timed.",
    ),
    Column(
        "tcp_s",
        pl.Float64(),
        "Seconds TCP's handshake took (`TCP @0.020s took 0.123s`); null where not timed.",
    ),
    Column(
        "tls_s",
        pl.Float64(),
        "Seconds TLS's handshake took (`TLS 1.3 took 0.062s`; an unlabelled `,  took 0.309s` "
        "after TCP is read as TLS); null where not timed.",
    ),
    Column(
        "tls_version",
        pl.String(),
        "The TLS version the block names: `1.3` in `TLS 1.3 took 0.062s`; null where none.",
    ),
    Column(
        "quic_s",
        pl.Float64(),
        "Seconds QUIC's handshake took (`QUIC @0.004s took 0.051s`); null where not timed.",
    ),
    Column("bytes_in", pl.Int64(), "Bytes received: 48213 in `bytes in/out: 48213/2714`."),
    Column("bytes_out", pl.Int64(), "Bytes sent: 2714 in `bytes in/out: 48213/2714`."),
    Column("packets_in", pl.Int64(), "Packets received (`packets in/out: 41/14`)."),
    Column("packets_out", pl.Int64(), "Packets sent (`packets in/out: 41/14`)."),
    Column("rtt_s", pl.Float64(), "Round-trip time in seconds: `rtt: 0.037s`."),
    Column(
        "retransmitted_bytes",
        pl.Int64(),
        "Bytes retransmitted (`retransmitted bytes: 0`); null in blocks before 2021, which "
        "count packets.",
    ),
    Column(
        "retransmitted_packets",
        pl.Int64(),
        "Packets retransmitted, in blocks before 2021 (`retransmitted packets: 0`); null in "
        "later ones, which count bytes.",
    ),
)
SUMMARY = pl.Struct({f.name: f.dtype for f in SUMMARY_FIELDS})

EVENT_COLUMNS = (
    _SOURCE,
    Column("line_no", pl.Int64(), "1-based physical line of the input where the record starts."),
    Column(
        "n_lines",
        pl.Int32(),
        "Physical lines the record spans: 1, more with its continuation lines.",
    ),
    Column(
        "envelope",
        Envelope,
        "The envelope style of the record's first line: how it reached the text. `unifiedlogs` "
        "is macos-UnifiedLogs' JSONL or CSV; `unknown` a Network message behind text no style "
        "is (kept in `prefix`).",
    ),
    Column(
        "ts",
        pl.Datetime("us", "UTC"),
        "When it was logged, in UTC where the log prints an offset; where it prints none "
        "(compact style, Xcode 8, device relays) the wall-clock time taken as UTC. With no "
        "date printed (Console.app copies) the day is 1970-01-01, with no year (device relays) "
        "the year is 2000; null where the record has no time (bare messages).",
    ),
    Column(
        "utc_offset",
        pl.String(),
        "The UTC offset the log printed (`+0100`); null where it printed none.",
    ),
    Column(
        "level",
        pl.String(),
        "The log level in the words `log show` prints: `Default`, `Info`, `Debug`, `Error`, "
        "`Fault`, `Activity`, `Signpost` (every envelope's spelling mapped to these), else as "
        "printed; null where the envelope gives none.",
    ),
    _PROCESS,
    _PID,
    Column(
        "tid",
        pl.Int64(),
        "Thread id where the envelope gives one (hex ids converted); null where not.",
    ),
    Column(
        "subsystem",
        pl.String(),
        "The logging subsystem where the envelope says: `com.apple.network`; null where not.",
    ),
    Column(
        "category",
        pl.String(),
        "The logging category where the envelope says: `connection`; null where not.",
    ),
    Column(
        "sender",
        pl.String(),
        "The library that logged it where the envelope says: `Network`, `libquic.dylib`, …; "
        "null where not.",
    ),
    Column(
        "function",
        pl.String(),
        "The Network function that logged it, without boringssl's source line: "
        "`nw_socket_handle_socket_event`.",
    ),
    Column(
        "conn_id",
        pl.String(),
        "The connection or attempt, always in C form without the instance: `C8.1.1`; 2016's "
        "`3.2` becomes `C3.2`, CFNetwork's `Connection 12` and `connection=12` become `C12`. "
        "Null where the record names none.",
    ),
    Column(
        "instance",
        pl.Int32(),
        "The protocol instance after the colon: 2 in `[C8.1.1:2]`; null where none.",
    ),
    Column(
        "parent_id",
        pl.String(),
        "`conn_id` without its last part: `C8.1` for `C8.1.1`; null for a root (`C8`).",
    ),
    Column(
        "related_id",
        pl.String(),
        "Another connection the message names: the child in 2016's `received child report:"
        "[3.1 …]`, the failed child of a proxy, a QUIC connection's TLS stream (`TLS stream "
        "is: [C2]`).",
    ),
    Column(
        "task_id",
        pl.String(),
        "CFNetwork's task, `UUID.N` from `Task <UUID>.<N>`.",
    ),
    Column(
        "endpoint",
        pl.String(),
        "The endpoint as logged: `Hostname#d518e96b:443`, `IPv6#fdef88b7.443`, `::1.8081`, "
        "`<private>`.",
    ),
    Column(
        "local_endpoint",
        pl.String(),
        "The local address where a line gives one: `192.168.1.4:65171` in `[C8741.1 <private> "
        "192.168.1.4:65171<->IPv4#28e2b51a:443 channel-flow]`, `local: 192.168.1.10:8080` in a "
        "server connection's parameters.",
    ),
    Column(
        "added_endpoint",
        pl.String(),
        "What a resolver handed to Happy Eyeballs: `IPv4#65424f8e:443` in `Adding endpoint "
        "handler for IPv4#65424f8e:443`.",
    ),
    Column(
        "inbound",
        pl.Boolean(),
        "True where a connection line's parameters say `server` (a listener accepted it); "
        "false on other connection lines, null on the rest.",
    ),
    Column(
        "listener_id",
        pl.String(),
        "The listener, `L1` in `[L1] Handling inbound connection [local: 127.0.0.1:51065, "
        "interface: lo0]`.",
    ),
    Column(
        "host",
        pl.String(),
        "The endpoint's host: `Hostname#d518e96b`, `IPv6#fdef88b7`, `::1` (an address printed "
        "as its bytes in its usual form).",
    ),
    Column(
        "port",
        pl.Int32(),
        "The endpoint's port (IPv6 puts a dot before it: `::1.8081` is 8081); null where none.",
    ),
    Column(
        "transport",
        Transport,
        "`tcp`, `udp` or `quic`: from a connection line's parameters (2020's `stream` is `tcp`, "
        "CFNetwork's `quic-connection` is `quic`), or what a flow connected over: `Transport "
        "protocol connected (tcp)`. Null on other lines.",
    ),
    Column(
        "state",
        pl.String(),
        "A handler's state (`initial`, `waiting`, `in_progress`, `ready`, `failed`, "
        "`cancelled`, `unknown-state`) or a reported connection state (`preparing`, `waiting`, "
        "`ready`, `failed`, `cancelled`, …, as logged).",
    ),
    Column(
        "mode",
        pl.String(),
        "A handler's mode, as logged: `resolver`, `parent-flow`, `socket-flow`, "
        "`channel-flow`, `proxy`, `transform`, `path`, ….",
    ),
    Column(
        "proxy_kind",
        pl.String(),
        "`pac` in a proxy handler's `[C12.1 proxy pac]`, `masque` or `PAC` in a proxy failure, "
        "else as logged.",
    ),
    Column(
        "path",
        pl.String(),
        "The descriptor's path as logged: `satisfied (Path is satisfied), interface: "
        "en0[802.11], ipv4, dns, uses wifi`.",
    ),
    Column(
        "path_status",
        pl.String(),
        "The path's status: `satisfied`, `unsatisfied`, `satisfiable` or `invalid` (the ones "
        "grammars/path.lark reads); null where there is no path.",
    ),
    Column(
        "path_reason",
        pl.String(),
        "Why, as logged: `Path is satisfied`, `No network route`, `Local network prohibited`, ….",
    ),
    Column(
        "viable",
        pl.Boolean(),
        "Whether the path description says `viable`; null where there is none.",
    ),
    Column(
        "interface",
        pl.String(),
        "The interface: `en0`, `pdp_ip0`, `lo0`, … from the path, a scoped endpoint (`@en8`) "
        "or where a QUIC connection migrated to.",
    ),
    Column(
        "event",
        pl.String(),
        "What happened: `flow:finish_connect`, `path:satisfied`, `Output protocol connected`, "
        "`suppressing better path notification`, …; for connection lines their verb: "
        "`start`, `cancel`, `cancelled`, `dealloc`.",
    ),
    Column(
        "elapsed_s",
        pl.Float64(),
        "Seconds since the handler started: `@0.131s`, or iOS 13's leading `0.131s`.",
    ),
    Column(
        "error_code",
        pl.Int32(),
        "Errno or CFNetwork code: 61 in `[61: Connection refused]`; a reset answering a SYN "
        "(`flags=[R.] … state=SYN_SENT`) is 61.",
    ),
    Column(
        "error_domain",
        pl.Int32(),
        "CFNetwork's error domain: 12 in `failed to connect 12:8`; null where the log gives none.",
    ),
    Column(
        "error",
        pl.String(),
        "The error's text: `Connection refused`, `Socket is not connected`, `TLS alert: "
        "internal error`.",
    ),
    Column(
        "kind",
        Kind,
        "What the record is: a Network event by the shape of its message (`handler_event` to "
        "`unknown`), CFNetwork's lines on tasks and connections, another subsystem's record "
        "(`other`), `log`'s `preamble` or `trailer`, or `unparsed` (README.md, *Kinds*).",
    ),
    Column(
        "prefix",
        pl.String(),
        "What stood before the message that no known envelope took (`Line 12: 2024-… banshee: "
        "(Network)`); null where none.",
    ),
    Column(
        "message",
        pl.String(),
        "The full message text, from the recognised message on, continuation lines included.",
    ),
    _struct(
        "summary",
        "The statistics block under a `cancelled` connection line, else null; a field is null "
        "where the block does not give it.",
        SUMMARY_FIELDS,
    ),
)

# On an inbound connection, the client's attempt it came from (tree.client_attempts).
CLIENT_ATTEMPT_FIELDS = (
    Column("source", pl.String(), "The client log's input path."),
    Column("process", pl.String(), "The client's process."),
    Column("pid", pl.Int64(), "The client's process id."),
    Column("conn_id", pl.String(), "The client's attempt: `C1.1.2`."),
    Column("outcome", Outcome, "That attempt's outcome: `won`, `also-ran`, …."),
)
CLIENT_ATTEMPT = pl.Struct({f.name: f.dtype for f in CLIENT_ATTEMPT_FIELDS})


def _figure(name: str, dtype: pl.DataType, what: str) -> Column:
    return Column(
        name,
        dtype,
        f"{what}, from the summary block under this connection's `cancelled` line (the root's, "
        "C8, as a rule); null where it has none.",
    )


CONNECTION_COLUMNS = (
    Column("source", pl.String(), "Input path of the connection's lines."),
    Column("process", pl.String(), "Process name; null where the log gives none."),
    Column("pid", pl.Int64(), "Process id; null where the log gives none."),
    Column(
        "conn_id",
        pl.String(),
        "The connection (`C8`) or attempt (`C8.1.1`); with `source`, `process` and `pid` the "
        "row's key, as numbers restart with each process instance.",
    ),
    Column(
        "parent_id",
        pl.String(),
        "The connection or attempt it is under: `C8.1` for `C8.1.1`; null for a root.",
    ),
    Column("root_id", pl.String(), "The root of its tree: `C8` for `C8.1.1`."),
    Column("depth", pl.Int32(), "How deep in its tree: 0 for `C8`, 2 for `C8.1.1`."),
    Column("n_children", pl.Int32(), "Attempts directly under it."),
    Column(
        "implicit",
        pl.Boolean(),
        "Never logged itself, implied by a child: C8.1 from C8.1.1.",
    ),
    Column(
        "endpoint",
        pl.String(),
        "Its endpoint, the most specific seen: a parent's descriptor names the winning "
        "address once connected (`IPv6#a0c4f19e.443`).",
    ),
    Column("host", pl.String(), "The endpoint's host: `IPv6#a0c4f19e`, `example.com`."),
    Column("port", pl.Int32(), "The endpoint's port: 443; null where none."),
    Column(
        "requested_host",
        pl.String(),
        "The first host it was asked for: `Hostname#5c1e07a3`.",
    ),
    Column(
        "local_endpoint",
        pl.String(),
        "An attempt's local address and port where the log gives it: the summary block's "
        "`192.168.0.25:53756` in `[C8.1.1 <uuid> 192.168.0.25:53756<->216.58.215.46:443]`, an "
        "iOS 13 descriptor's, a server connection's `local: 192.168.1.10:8080`.",
    ),
    Column(
        "remote_endpoint",
        pl.String(),
        "An attempt's remote address and port: the summary block's, an iOS 13 descriptor's, or "
        "the address an attempt was made to; null where the log gives none.",
    ),
    Column(
        "untried_endpoints",
        pl.List(pl.String()),
        "On a resolver, what it added (`Adding endpoint handler for IPv4#…`) and made no attempt "
        "for, in the order added; null where none.",
    ),
    Column(
        "family",
        Family,
        "The endpoint's address family: `ipv4`, `ipv6` or `name` (a host name, hashed or "
        "not); null where there is no endpoint.",
    ),
    Column(
        "mode",
        pl.String(),
        "What it is, its handler's last mode other than `path`: `resolver`, `parent-flow`, "
        "`socket-flow`, `channel-flow`, `proxy`, `transform`, …; null where never logged.",
    ),
    Column(
        "transport",
        Transport,
        "What it connected over: a flow's `Transport protocol connected (tcp)` (so a "
        "`quic-connection` whose flow says so is `tcp`), QUIC's or user-space TCP's own lines, "
        "else what its connection line asked for; a parent takes its first ready attempt's. "
        "Null where unknown.",
    ),
    Column(
        "requested_transport",
        Transport,
        "What its connection (the root's connection line) asked for: `tcp` in `[C8 … tcp, …]`.",
    ),
    Column(
        "first_ts",
        pl.Datetime("us", "UTC"),
        f"When its first line, or the first of an attempt under it, was logged ({_TS_NOTE}).",
    ),
    Column(
        "last_ts",
        pl.Datetime("us", "UTC"),
        f"When its last line, or the last of an attempt under it, was logged ({_TS_NOTE}).",
    ),
    Column(
        "duration_s",
        pl.Float64(),
        "Seconds from `first_ts` to `last_ts`, or the summary block's `Duration:` where that is "
        "longer (`started_before_capture`); null without times.",
    ),
    Column(
        "started_before_capture",
        pl.Boolean(),
        "Its summary block's `Duration:` exceeds what its lines span by over a second: the "
        "capture began after the connection.",
    ),
    Column(
        "ready_ts",
        pl.Datetime("us", "UTC"),
        "When it, or the first attempt under it, was first ready; null if never.",
    ),
    Column(
        "final_state",
        pl.String(),
        "The last state logged for it (see the events' `state`); null where none.",
    ),
    Column(
        "outcome",
        Outcome,
        "How it ended, the first rule that holds, from the log's evidence for it and the "
        "attempts under it (the table below).",
    ),
    Column(
        "outcome_line",
        pl.Int64(),
        "The input line of that evidence (a winner's first ready line, the failure, the end), "
        "for a reader to check; null where none (`unknown`).",
    ),
    Column(
        "error_domain",
        pl.Int32(),
        "CFNetwork's error domain where its error fills `error_code` (`Connection 1: failed to "
        "connect 12:8`): 1 POSIX, 2 unnamed, 3 SecureTransport, 10 NetServices, 12 getaddrinfo; "
        "null where the error is Network's.",
    ),
    Column(
        "error_code",
        pl.Int32(),
        "The code of the failure evidence: an errno (61), or CFNetwork's code in "
        "`error_domain`'s meaning where Network logged none.",
    ),
    Column("error_name", pl.String(), "The code's name: `ECONNREFUSED`, `EAI_NONAME`."),
    Column(
        "error",
        pl.String(),
        "The failure's error text: `Connection refused`, or the code's.",
    ),
    Column(
        "n_errors",
        pl.Int32(),
        "Errors of its life: reads and writes that failed, TLS alerts and errors, states "
        "reported with an error, connects that failed; 0 where none.",
    ),
    Column("last_error_code", pl.Int32(), "The code of the last of those errors; null where none."),
    Column("last_error", pl.String(), "The text of the last of those errors; null where none."),
    Column(
        "start_path_status",
        pl.String(),
        "Its path's status when first logged (`satisfied`, `unsatisfied`, …).",
    ),
    Column(
        "start_path_reason",
        pl.String(),
        "Its path's reason when first logged (`No network route`).",
    ),
    Column("path_status", pl.String(), "Its path's status when last logged."),
    Column("path_reason", pl.String(), "Its path's reason when last logged."),
    Column("interface", pl.String(), "The interface it was last logged on: `en0`, `pdp_ip0`."),
    Column(
        "via_proxy",
        pl.Boolean(),
        "A proxy handler (mode `proxy`) or an attempt under one.",
    ),
    Column(
        "proxy_kind",
        pl.String(),
        "`pac` in `[C12.1 proxy pac]`, `masque` from a relay's failure, else as logged.",
    ),
    Column(
        "replaced",
        pl.Boolean(),
        "Its transform started over (`transform:restart`) and a new attempt took its place.",
    ),
    Column(
        "inbound",
        pl.Boolean(),
        "A listener accepted it: `server` in its parameters.",
    ),
    Column(
        "probable_also_ran",
        pl.Boolean(),
        "Inbound, ended within a second of its start, no bytes logged: what a server sees of a "
        "client's also-ran.",
    ),
    _struct(
        "client_attempt",
        "On an inbound connection, where the client's log is read too: the attempt it came "
        "from, matched by address pair, or, where the client's port is not logged, by the "
        "server's address and port within two seconds; null otherwise.",
        CLIENT_ATTEMPT_FIELDS,
    ),
    Column("n_events", pl.Int32(), "Its own lines (events); 0 where implicit."),
    Column(
        "first_line",
        pl.Int64(),
        "The input line of its first line, or the first of an attempt under it.",
    ),
    _figure("bytes_in", pl.Int64(), "Bytes received"),
    _figure("bytes_out", pl.Int64(), "Bytes sent"),
    _figure("packets_in", pl.Int64(), "Packets received"),
    _figure("packets_out", pl.Int64(), "Packets sent"),
    _figure("rtt_s", pl.Float64(), "Round-trip time in seconds"),
    _figure("retransmitted_bytes", pl.Int64(), "Bytes retransmitted"),
    _figure("dns_s", pl.Float64(), "Seconds DNS took"),
    _figure("tcp_s", pl.Float64(), "Seconds TCP's handshake took"),
    _figure("tls_s", pl.Float64(), "Seconds TLS's handshake took"),
    _figure("quic_s", pl.Float64(), "Seconds QUIC's handshake took"),
    _figure("connected_leaf_id", pl.String(), "The attempt that connected (`C8.1.1`)"),
    Column(
        "tasks",
        pl.List(pl.String()),
        "CFNetwork tasks that named it (`Task <UUID>.<1> now using Connection 1`), as "
        "`UUID.N`; null where none. `logflow.connections(events)` links them only on events "
        "read with `keep_other=True`.",
    ),
    Column(
        "tls_stream_id",
        pl.String(),
        "On a QUIC handler, its TLS stream: `C2` in `TLS stream is: [C2]`.",
    ),
    Column(
        "tls_stream_of",
        pl.String(),
        "On that TLS stream, the QUIC handler it serves.",
    ),
)

RACE_COLUMNS = (
    _SOURCE,
    _PROCESS,
    _PID,
    Column("parent_id", pl.String(), "The parent whose attempts raced: `C8.1`."),
    Column(
        "first_ts",
        pl.Datetime("us", "UTC"),
        f"When its first attempt started ({_TS_NOTE}); null when it tried none.",
    ),
    Column("children", pl.List(pl.String()), "Its attempts, in start order."),
    Column(
        "start_offsets_s",
        pl.List(pl.Float64()),
        "Seconds after the first start each attempt started, one per child as `children`; "
        "null for an attempt never started.",
    ),
    Column(
        "families",
        pl.List(Family),
        "Each attempt's address family, one per child as `children`; null where unknown.",
    ),
    Column("winner_id", pl.String(), "The attempt that won; null when none did."),
    Column("also_rans", pl.List(pl.String()), "The attempts that lost to the winner."),
    Column(
        "not_started",
        pl.List(pl.String()),
        "Endpoints Happy Eyeballs had in hand and never tried: added by the resolver with no "
        "attempt made, or cancelled while still `initial`.",
    ),
    Column("failed", pl.List(pl.String()), "The attempts that failed."),
    Column(
        "winner_connect_s",
        pl.Float64(),
        "Seconds from the first start to the winner's ready; null without a winner.",
    ),
    Column(
        "margin_s",
        pl.Float64(),
        "Seconds from the winner's ready to the next sibling's ready, or to the first loser's "
        "last line; negative when a loser gave up before the winner connected.",
    ),
    Column("outcome", RaceOutcome, "How the race ended (the table below)."),
)

PROXY_FAILURE_COLUMNS = (
    _SOURCE,
    _PROCESS,
    _PID,
    Column(
        "conn_id",
        pl.String(),
        "The proxy handler that failed: `C1.1`; for a PAC script's error the PAC handler "
        "(`[C12.1 proxy pac]`) logged last before it, null where there is none.",
    ),
    Column("ts", pl.Datetime("us", "UTC"), f"When it failed ({_TS_NOTE})."),
    Column("line_no", pl.Int64(), "The input line of the failure."),
    Column(
        "proxy_kind",
        pl.String(),
        "`privacy (MASQUE relay)`, `PAC`, or as logged (an HTTP CONNECT or SOCKS handler's "
        "descriptor word).",
    ),
    Column(
        "proxy_endpoint",
        pl.String(),
        "The proxy it tried: `http://…` in `masque Proxy: http://…`; null where not logged.",
    ),
    Column(
        "failed_child",
        pl.String(),
        "The child that failed: `C1.1.1` in `([C1.1.1] masque Proxy: …)`.",
    ),
    Column(
        "error_code",
        pl.Int32(),
        "The code: an errno (53), or Foundation's for a PAC script (`NSURLErrorDomain: -1003`).",
    ),
    Column(
        "error_name",
        pl.String(),
        "The code's name: `ECONNABORTED`, `NSURLErrorCannotFindHost`; null for another domain.",
    ),
    Column("error", pl.String(), "The code's text."),
    Column(
        "fell_back",
        pl.Boolean(),
        "A sibling of the proxy handler, not a proxy itself, was logged after the failure: the "
        "direct path.",
    ),
    Column("fallback_id", pl.String(), "That sibling: `C1.2`; null where none."),
    Column("fallback_outcome", Outcome, "That sibling's outcome; null where none."),
)

PATH_CHANGE_COLUMNS = (
    _SOURCE,
    _PROCESS,
    _PID,
    Column("conn_id", pl.String(), "The connection or attempt whose path changed."),
    Column("ts", pl.Datetime("us", "UTC"), f"When ({_TS_NOTE})."),
    Column("line_no", pl.Int64(), "The input line of the change."),
    Column(
        "change",
        pl.String(),
        "What changed: `status`, `interface`, `viability`, `migrated` (a `path:migrated` "
        "event, or QUIC promoting a path over another interface), `better path`; for any other "
        "path event the kinds of flag its descriptor changed, joined by `, `: `address "
        "families`, `DNS`, `LQM`, `expensive`, `constrained`, `interface type`, or `properties` "
        "when the log shows no difference.",
    ),
    Column(
        "from",
        pl.String(),
        "Before: `satisfied (Path is satisfied)`, `en0`, `viable`, the interface in use, the "
        "flags gone (`LQM: good`); null where none.",
    ),
    Column(
        "to",
        pl.String(),
        "After: `unsatisfied (No network route)`, `pdp_ip0`, `not viable`, what the evaluator "
        "did (`suppressing better path notification`), the flags come; null where none.",
    ),
    Column(
        "system_change",
        pl.Int32(),
        "A burst of the same change (each within a second of the last) that hits two or more "
        "connections of a log shares a number, in time order; null for one connection's own.",
    ),
)

LISTENER_COLUMNS = (
    _SOURCE,
    _PROCESS,
    _PID,
    Column("listener_id", pl.String(), "The listener: `L1`."),
    Column("first_ts", pl.Datetime("us", "UTC"), f"Its first line ({_TS_NOTE})."),
    Column("last_ts", pl.Datetime("us", "UTC"), f"Its last line ({_TS_NOTE})."),
    Column("n_events", pl.Int32(), "The lines that name it."),
    Column(
        "inbound_handled",
        pl.Int32(),
        "Its `Handling inbound connection` lines.",
    ),
    Column(
        "failure",
        pl.String(),
        "The first thing it says failed: `nw_path_create_evaluator_for_listener failed`, "
        "`failed to create listener inbox`; null when nothing did.",
    ),
)

# ---- Tables -----------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[Column, ...]] = {
    "events": EVENT_COLUMNS,
    "connections": CONNECTION_COLUMNS,
    "races": RACE_COLUMNS,
    "proxy_failures": PROXY_FAILURE_COLUMNS,
    "path_changes": PATH_CHANGE_COLUMNS,
    "listeners": LISTENER_COLUMNS,
}
TABLES = tuple(COLUMNS)

# What a row of each table is.
ROWS = {
    "events": "One row per record: a log entry with its continuation lines. `logflow export` "
    "writes the Network events (with `--keep-other`, the other and unparsed records too); "
    "`logflow.read(...)` gives the same table.",
    "connections": "One row per connection (`C8`) or attempt under it (`C8.1`, `C8.1.1`), "
    "identified by (`source`, `process`, `pid`, `conn_id`), with what the log says of it "
    "(`logflow.connections(events)`).",
    "races": "One row per parent whose attempts had rivals (Happy Eyeballs): two or more "
    "attempts, or addresses its resolver added beyond the ones it tried; an attempt a "
    "`transform:restart` replaced races nothing (`logflow.races(connections)`).",
    "proxy_failures": "One row per failed proxy attempt: a `Privacy proxy failed` line, a proxy "
    "handler that failed without one, or a PAC script that failed to evaluate "
    "(`logflow.proxy_failures(events, connections)`).",
    "path_changes": "One row per change of a connection's path: its status, interface, "
    "viability, a migration, a better path, or the flags of a path event "
    "(`logflow.path_changes(events)`).",
    "listeners": "One row per listener (`[L1]`) of a process instance; the connections it "
    "accepted are rows of the connections table (`inbound`) (`logflow.listeners(events)`).",
}

# The values of an enum column and what each means, shown under its table.
VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("connections", "outcome"): OUTCOMES,
    ("races", "outcome"): RACE_OUTCOMES,
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    table: {column.name: column.dtype for column in columns} for table, columns in COLUMNS.items()
}


def _described(columns: tuple[Column, ...], prefix: str = "") -> dict[str, str]:
    """Each column's description by name, a struct's fields as ``column.field``."""
    described = {}
    for column in columns:
        described[prefix + column.name] = column.description
        described.update(_described(column.fields, f"{prefix}{column.name}."))
    return described


# table -> column -> description; a struct's fields as `column.field` (`summary.bytes_in`).
DESCRIPTIONS: dict[str, dict[str, str]] = {
    table: _described(columns) for table, columns in COLUMNS.items()
}

EVENT_SCHEMA: dict[str, pl.DataType] = SCHEMAS["events"]

# ---- Fleet datasets ---------------------------------------------------------------------------

# `logflow export --dataset` (logflow/fleets) writes each table's rows with one more column,
# in files under `<table>/device=<device>/date=<date>/`: the partition columns come from the
# folder names, as every hive-partitioned reader (Polars, DuckDB, Spark) reads them.
EXPORT_ID = Column(
    "export_id",
    pl.String(),
    "The export the row came from: a stable hash of its device and its path below the input "
    "root (the manifest's `export_id`).",
)
PARTITION_COLUMNS = (
    Column("device", pl.String(), "The device the export came from (a partition folder)."),
    Column(
        "date",
        pl.String(),
        "The day of the row's time, `YYYY-MM-DD` in UTC; `unknown` where the log prints no "
        "date or no year (Console copies, device relays), unless `--date` gave one.",
    ),
)
COUNTS_FIELDS = (
    Column("network_events", pl.Int64(), "Network-framework events read."),
    Column("unparsed", pl.Int64(), "Records that did not parse."),
    *(Column(table, pl.Int64(), f"Rows of `{table}`.") for table in TABLES),
)
MANIFEST_COLUMNS = (
    EXPORT_ID,
    Column("path", pl.String(), "The export's path below the input root, `/`-separated."),
    Column("source", pl.String(), "The export's path as read (the tables' `source`)."),
    PARTITION_COLUMNS[0],
    Column("model", pl.String(), "The device's model, from `--devices`; null where not given."),
    Column("os_version", pl.String(), "The device's OS version, from `--devices`; null where not."),
    Column("size", pl.Int64(), "The export's size in bytes when it was read."),
    Column("mtime", pl.Datetime("us", "UTC"), "Its modification time when it was read."),
    Column("lines", pl.Int64(), "Lines read; null for an export that failed."),
    _struct("counts", "What it held; null for an export that failed.", COUNTS_FIELDS),
    Column("status", pl.String(), "`ok`, or `error` when it could not be read."),
    Column("error", pl.String(), "Why it could not be read; null when it was."),
    Column(
        "files",
        pl.List(pl.String()),
        "Its files in the dataset, relative to the dataset's folder: the files a run that "
        "replaces it removes.",
    ),
)
MANIFEST_SCHEMA: dict[str, pl.DataType] = {c.name: c.dtype for c in MANIFEST_COLUMNS}


# ---- Arrow and Parquet ------------------------------------------------------------------------

DESCRIPTION_KEY = b"description"


def parquet_metadata(table: str) -> dict[str, str]:
    """The key-value metadata of a table's Parquet file: which table, which schema version.

    For Polars' ``sink_parquet(..., metadata=parquet_metadata(name))``; Polars keeps no
    schema-level metadata of an ``arrow_schema``.
    """
    _columns(table)
    return {"logflow.table": table, "logflow.schema_version": str(SCHEMA_VERSION)}


def described_schema(table: str, arrow_schema: pa.Schema) -> pa.Schema:
    """``arrow_schema`` with each field's description in its metadata (``b"description"``),
    a struct's fields' too, beside the metadata it had (Polars' enum categories), and
    :func:`parquet_metadata` as the schema's metadata.

    Raises ``ValueError`` for a column (or a struct's field) this module does not describe,
    so that no column ships undescribed, or for a table it does not know.
    """
    descriptions = DESCRIPTIONS[_columns(table)]
    missing: list[str] = []
    fields = [_describe(field, "", descriptions, missing) for field in arrow_schema]
    if missing:
        msg = (
            f"{table}: no description for {', '.join(missing)}; "
            "describe it in logflow/schema.py (COLUMNS)"
        )
        raise ValueError(msg)
    metadata = dict(arrow_schema.metadata or {})
    metadata.update((k.encode(), v.encode()) for k, v in parquet_metadata(table).items())
    return pa.schema(fields, metadata=metadata)


def parquet_schema(
    table: str, schema: pl.Schema | dict[str, pl.DataType] | None = None
) -> pa.Schema:
    """The described Arrow schema (:func:`described_schema`) of a Polars schema, by default
    the table's own (:data:`SCHEMAS`): for ``sink_parquet(..., arrow_schema=...)``."""
    polars_schema = pl.Schema(SCHEMAS[_columns(table)] if schema is None else schema)
    return described_schema(table, polars_schema.to_arrow())


def _describe(
    field: pa.Field, prefix: str, descriptions: dict[str, str], missing: list[str]
) -> pa.Field:
    name = prefix + field.name
    text = descriptions.get(name)
    if text is None:
        missing.append(name)
        return field
    if pa.types.is_struct(field.type):
        children = [field.type.field(i) for i in range(field.type.num_fields)]
        described = [_describe(child, f"{name}.", descriptions, missing) for child in children]
        field = field.with_type(pa.struct(described))
    return field.with_metadata({**(field.metadata or {}), DESCRIPTION_KEY: text.encode()})


def _columns(table: str) -> str:
    if table not in COLUMNS:
        msg = f"no table {table!r}: the tables are {', '.join(TABLES)}"
        raise ValueError(msg)
    return table


# ---- The schema page --------------------------------------------------------------------------

SCHEMA_PAGE = "docs/schema.md"
MAKE_PAGE = ".venv/bin/python docs/make_schema.py"


def schema_markdown() -> str:
    """docs/schema.md: per table, what a row is and each column's type and description."""
    lines = [
        "# The tables logflow writes",
        "",
        f"<!-- Generated from logflow/schema.py by `{MAKE_PAGE}`: edit that, not this. -->",
        "",
        "`logflow export` writes these six tables (`events.parquet`, `connections.parquet`, "
        "…; or CSV, NDJSON), and `logflow.parse(...)` gives them as Polars `LazyFrame`s. Each "
        "Parquet file carries these descriptions in its fields' metadata (`description`), and "
        f"`logflow.schema_version` ({SCHEMA_VERSION} here) in its key-value metadata: it goes up "
        "when a column changes its meaning or type. Types are as Polars prints them; an `Enum` "
        "is a closed set, and a string column's known values are in its description. Times are "
        "UTC, durations in seconds (`_s`), sizes in bytes; null means the log did not say.",
    ]
    for table in TABLES:
        lines += [
            "",
            f"## {table}",
            "",
            ROWS[table],
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        for column in COLUMNS[table]:
            lines.append(_row(column))
            lines.extend(_row(field, f"{column.name}.") for field in column.fields)
        for (owner, name), values in VALUES.items():
            if owner == table:
                lines += [
                    "",
                    f"`{name}`, the first that holds:",
                    "",
                    "| value | when |",
                    "|---|---|",
                ]
                lines.extend(f"| `{value}` | {_cell(when)} |" for value, when in values.items())
    return "\n".join(lines) + "\n"


def _row(column: Column, prefix: str = "") -> str:
    kind = "Struct" if isinstance(column.dtype, pl.Struct) else str(column.dtype)
    return f"| `{prefix}{column.name}` | `{kind}` | {_cell(column.description)} |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
