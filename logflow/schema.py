"""The events table: column names, types and enums shared by every stage and by notebooks.

One row per record (a log entry, with its continuation lines). The Parquet files carry these
names unchanged; README.md documents each column.
"""

from __future__ import annotations

import polars as pl

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

# The statistics block under a `cancelled` connection line (grammars/summary.lark): the attempt
# that connected, the time each protocol took to set up, and the traffic.
SUMMARY = pl.Struct(
    {
        "leaf_id": pl.String(),
        "local_endpoint": pl.String(),
        "remote_endpoint": pl.String(),
        "connected_path": pl.String(),
        "privacy_stance": pl.String(),
        "duration_s": pl.Float64(),
        "dns_s": pl.Float64(),
        "tcp_s": pl.Float64(),
        "tls_s": pl.Float64(),
        "tls_version": pl.String(),
        "quic_s": pl.Float64(),
        "bytes_in": pl.Int64(),
        "bytes_out": pl.Int64(),
        "packets_in": pl.Int64(),
        "packets_out": pl.Int64(),
        "rtt_s": pl.Float64(),
        "retransmitted_bytes": pl.Int64(),
        "retransmitted_packets": pl.Int64(),
    }
)

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "line_no": pl.Int64(),
    "n_lines": pl.Int32(),
    "envelope": Envelope,
    "ts": pl.Datetime("us", "UTC"),
    "utc_offset": pl.String(),
    "level": pl.String(),
    "process": pl.String(),
    "pid": pl.Int64(),
    "tid": pl.Int64(),
    "subsystem": pl.String(),
    "category": pl.String(),
    "sender": pl.String(),
    "function": pl.String(),
    "conn_id": pl.String(),
    "instance": pl.Int32(),
    "parent_id": pl.String(),
    "related_id": pl.String(),
    "task_id": pl.String(),
    "endpoint": pl.String(),
    "local_endpoint": pl.String(),
    "added_endpoint": pl.String(),
    "inbound": pl.Boolean(),
    "listener_id": pl.String(),
    "host": pl.String(),
    "port": pl.Int32(),
    "transport": pl.String(),
    "state": pl.String(),
    "mode": pl.String(),
    "proxy_kind": pl.String(),
    "path": pl.String(),
    "path_status": pl.String(),
    "path_reason": pl.String(),
    "viable": pl.Boolean(),
    "interface": pl.String(),
    "event": pl.String(),
    "elapsed_s": pl.Float64(),
    "error_code": pl.Int32(),
    "error_domain": pl.Int32(),
    "error": pl.String(),
    "kind": Kind,
    "prefix": pl.String(),
    "message": pl.String(),
    "summary": SUMMARY,
}

# A connection is numbered per process instance: C8 in one pid is not C8 in another.
CONNECTION_KEY = ("source", "process", "pid", "conn_id")
