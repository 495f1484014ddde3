"""Fourth stage: rebuild every connection tree from the events.

Network framework numbers the connections of a process (C8) and every attempt under one
(C8.1, C8.1.1, C8.1.2); the number of a child is its parent's plus one more part. The
connections table has one row per connection or attempt of a process instance, the ones the
log never names but whose children it does included (``implicit``), with what the log says
about each: endpoint, mode, transport, states, errors, the statistics of its summary block,
and ``outcome``.

How ``outcome`` is decided, first rule that holds:

``won``
    it has siblings (its parent raced them) and was the first of them, in the log's order, to
    reach ``ready`` (a ``ready`` state in any of its lines), or the summary block of its
    connection names it (or a descendant) as the attempt that connected;
``failed``
    its last state is ``failed``, or an error was logged for it before it was ever ready;
``also-ran``
    a sibling won;
``completed``
    it was ready, then its connection was cancelled (a ``cancelled`` line, a
    ``nw_endpoint_handler_cancel``, a summary block);
``cancelled``
    it was cancelled before it was ever ready;
``open``
    it was logged as preparing, waiting, in progress or ready and never ended;
``unknown``
    too little was logged (an implicit parent, a lone protocol line).
"""

from __future__ import annotations

import polars as pl

from logflow.errnos import errno_code, errno_name, errno_text
from logflow.events import parent_of
from logflow.schema import NETWORK_KINDS

PROCESS = ("source", "process", "pid")
NODE = (*PROCESS, "conn_id")

CANCEL_FUNCTION = "nw_endpoint_handler_cancel"
CANCEL_EVENTS = ("cancel", "cancelled", "dealloc")
LIVE_STATES = ("preparing", "waiting", "in_progress", "ready")

# Kinds whose endpoint is a handler's: `[C8.1.1 IPv4#65424f8e:443 ready socket-flow (...)]`.
DESCRIPTOR_KINDS = ("handler_event", "handler_note", "child_report", "proxy_failure")

OUTCOMES = ("won", "also-ran", "failed", "completed", "cancelled", "open", "unknown")
Outcome = pl.Enum(OUTCOMES)


def connections(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per connection or attempt, identified by (source, process, pid, conn_id).

    Parameters
    ----------
    events
        The events table (:func:`logflow.read`); other records are ignored.

    Examples
    --------
    >>> conns = connections(logflow.read("sample_logs/logshow-default-race.log"))  # doctest: +SKIP
    >>> conns.filter(pl.col("outcome") == "also-ran").collect()  # doctest: +SKIP
    """
    logged = _logged(events).join(
        _tasks(events), on=list(NODE), how="left", nulls_equal=True, maintain_order="left"
    )
    nodes = pl.concat([logged, _implicit(logged)], how="diagonal_relaxed")
    nodes = nodes.with_columns(
        parent_id=parent_of(pl.col("conn_id")),
        root_id=pl.col("conn_id").str.split(".").list.first(),
        depth=pl.col("conn_id").str.count_matches(".", literal=True).cast(pl.Int32),
    )
    nodes = _with_family(nodes)
    return _with_outcome(nodes).select(CONNECTION_COLUMNS).sort(*PROCESS, "first_ts", "conn_id")


def _logged(events: pl.LazyFrame) -> pl.LazyFrame:
    """The connections the log names, with what their lines say."""
    ids = events.filter(pl.col("kind").is_in(NETWORK_KINDS) & pl.col("conn_id").is_not_null())
    state = pl.col("state")
    # A parent's descriptor names the attempt that connected once it has, so the endpoint of
    # the last descriptor line is the most specific the log gives.
    has_endpoint = pl.col("endpoint").is_not_null() & pl.col("kind").is_in(DESCRIPTOR_KINDS)
    error_text = pl.col("error").drop_nulls().last()
    return ids.group_by(NODE).agg(
        implicit=pl.lit(False),
        first_ts=pl.col("ts").min(),
        last_ts=pl.col("ts").max(),
        first_line=pl.col("line_no").min(),
        n_events=pl.len().cast(pl.Int32),
        endpoint=pl.coalesce(
            pl.col("endpoint").filter(has_endpoint).last(), pl.col("endpoint").drop_nulls().last()
        ),
        host=pl.col("host").filter(has_endpoint).last(),
        port=pl.col("port").filter(has_endpoint).last(),
        # A handler starts in mode `path` and becomes what it is (resolver, socket-flow, ...).
        mode=pl.coalesce(
            pl.col("mode").filter(pl.col("mode") != "path").last(),
            pl.col("mode").drop_nulls().last(),
        ),
        logged_transport=pl.col("transport").drop_nulls().first(),
        uses_quic=pl.col("function").str.starts_with("quic_").any(),
        uses_user_tcp=pl.col("function").is_in(("tcp_input", "tcp_output")).any(),
        final_state=state.drop_nulls().last(),
        ready_ts=pl.col("ts").filter(state == "ready").min(),
        # Pastes without timestamps still keep the log's order.
        ready_line=pl.col("line_no").filter(state == "ready").min(),
        was_live=state.is_in(LIVE_STATES).any(),
        ended=(pl.col("function") == CANCEL_FUNCTION).any()
        | (state == "cancelled").any()
        | pl.col("event").is_in(CANCEL_EVENTS).any(),
        error_code=pl.coalesce(pl.col("error_code").drop_nulls().last(), errno_code(error_text)),
        error=error_text,
        first_error_line=pl.col("line_no")
        .filter(pl.col("error_code").is_not_null() | pl.col("error").is_not_null())
        .min(),
        interface=pl.col("interface").drop_nulls().last(),
        is_proxy=(pl.col("mode") == "proxy").any(),
        summary=pl.col("summary").drop_nulls().last(),
        # `quic_crypto_new_flow [C1.1.1.1:2] [...] TLS stream is: [C2]`
        tls_stream_id=pl.col("related_id")
        .filter(pl.col("kind") == "conn_note")
        .drop_nulls()
        .first(),
    )


def _tasks(events: pl.LazyFrame) -> pl.LazyFrame:
    """The CFNetwork tasks that name each connection (`Task <...>.<1> now using Connection 1`).

    CFNetwork's lines are another subsystem's records: only events read with
    ``keep_other=True`` have them.
    """
    return (
        events.filter(pl.col("task_id").is_not_null() & pl.col("conn_id").is_not_null())
        .group_by(NODE)
        .agg(tasks=pl.col("task_id").unique(maintain_order=True))
    )


def _implicit(logged: pl.LazyFrame) -> pl.LazyFrame:
    """Ancestors the log never names, implied by their descendants (C8.1 from C8.1.1)."""
    parts = pl.col("conn_id").str.split(".")
    ancestors = (
        logged.select(
            *PROCESS,
            "first_ts",
            "last_ts",
            "first_line",
            depth=pl.int_ranges(1, parts.list.len()),
            parts=parts,
        )
        .explode("depth")
        .drop_nulls("depth")
        .with_columns(conn_id=pl.col("parts").list.head(pl.col("depth")).list.join("."))
        .group_by(NODE)
        .agg(
            pl.col("first_ts").min(),
            pl.col("last_ts").max(),
            pl.col("first_line").min(),
        )
    )
    return ancestors.join(
        logged.select(NODE), on=list(NODE), how="anti", nulls_equal=True
    ).with_columns(implicit=pl.lit(True), n_events=pl.lit(0, pl.Int32))


def _with_family(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """``family``: ipv4, ipv6 or name, from the shape of the endpoint (endpoint.lark)."""
    from logflow import grammar

    nodes = grammar.load("endpoint").extract(nodes, pl.col("endpoint"), into="ep")
    shape = pl.col("ep").struct.field("kind")
    return nodes.with_columns(
        family=pl.when(shape.str.starts_with("ipv6"))
        .then(pl.lit("ipv6"))
        .when(shape.str.starts_with("ipv4"))
        .then(pl.lit("ipv4"))
        .when(shape.is_not_null())
        .then(pl.lit("name"))
    ).drop("ep")


def _with_outcome(nodes: pl.LazyFrame) -> pl.LazyFrame:
    siblings = [*PROCESS, "parent_id"]
    tree = [*PROCESS, "root_id"]
    leaf = pl.col("summary").struct.field("leaf_id").drop_nulls().first().over(tree)
    conn_id = pl.col("conn_id")
    nodes = nodes.with_columns(
        n_siblings=pl.len().over(siblings).cast(pl.Int32),
        first_ready=pl.col("ready_line").min().over(siblings),
        on_winning_path=(leaf == conn_id) | leaf.str.starts_with(conn_id + "."),
        root_ended=(pl.col("ended") & (pl.col("depth") == 0)).any().over(tree),
        transport=pl.coalesce(
            pl.col("logged_transport"),
            pl.when(pl.col("uses_quic")).then(pl.lit("quic")),
            pl.when(pl.col("uses_user_tcp")).then(pl.lit("tcp")),
            pl.col("logged_transport").filter(pl.col("depth") == 0).first().over(tree),
        ),
    )
    raced = (pl.col("n_siblings") > 1) & pl.col("parent_id").is_not_null()
    # A summary block is written only for a connection that connected.
    ready = pl.col("ready_line").is_not_null() | pl.col("summary").is_not_null()
    won = raced & ((pl.col("ready_line") == pl.col("first_ready")) | pl.col("on_winning_path"))
    nodes = nodes.with_columns(won=won.fill_null(False))
    errored_early = pl.col("first_error_line").is_not_null() & (
        pl.col("ready_line").is_null() | (pl.col("first_error_line") < pl.col("ready_line"))
    )
    ended = pl.col("ended") | pl.col("root_ended") | pl.col("summary").is_not_null()
    outcome = (
        pl.when(pl.col("won"))
        .then(pl.lit("won"))
        .when((pl.col("final_state") == "failed") | errored_early)
        .then(pl.lit("failed"))
        .when(raced & pl.col("won").any().over(siblings))
        .then(pl.lit("also-ran"))
        .when(ready & ended)
        .then(pl.lit("completed"))
        .when(ended & ~pl.col("implicit"))
        .then(pl.lit("cancelled"))
        .when(pl.col("was_live") | ready)
        .then(pl.lit("open"))
        .otherwise(pl.lit("unknown"))
    )
    children = nodes.group_by(*PROCESS, "parent_id").agg(n_children=pl.len().cast(pl.Int32))
    return (
        nodes.with_columns(outcome=outcome.cast(Outcome))
        .join(
            children.rename({"parent_id": "conn_id"}),
            on=list(NODE),
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .with_columns(
            n_children=pl.col("n_children").fill_null(0),
            duration_s=(
                (pl.col("last_ts") - pl.col("first_ts")).dt.total_microseconds() / 1e6
            ).round(6),
            error=pl.coalesce(pl.col("error"), errno_text(pl.col("error_code"))),
            error_name=errno_name(pl.col("error_code")),
        )
        .join(
            _behind_proxy(nodes), on=list(NODE), how="left", nulls_equal=True, maintain_order="left"
        )
        .with_columns(via_proxy=pl.col("via_proxy").fill_null(False))
    )


def _behind_proxy(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """``via_proxy``: true for a proxy handler and every attempt under it."""
    proxies = nodes.filter(pl.col("is_proxy")).select(*PROCESS, proxy_id="conn_id")
    candidates = nodes.select(NODE).join(proxies, on=list(PROCESS), nulls_equal=True)
    under = (pl.col("conn_id") == pl.col("proxy_id")) | pl.col("conn_id").str.starts_with(
        pl.col("proxy_id") + "."
    )
    return candidates.filter(under).select(NODE).unique().with_columns(via_proxy=pl.lit(True))


SUMMARY_FIGURES = (
    "bytes_in",
    "bytes_out",
    "packets_in",
    "packets_out",
    "rtt_s",
    "retransmitted_bytes",
    "dns_s",
    "tcp_s",
    "tls_s",
    "quic_s",
)

CONNECTION_COLUMNS = [
    *NODE,
    "parent_id",
    "root_id",
    "depth",
    "n_children",
    "implicit",
    "endpoint",
    "host",
    "port",
    "family",
    "mode",
    "transport",
    "first_ts",
    "last_ts",
    "duration_s",
    "ready_ts",
    "final_state",
    "outcome",
    "error_code",
    "error_name",
    "error",
    "interface",
    "via_proxy",
    "n_events",
    "first_line",
    *(pl.col("summary").struct.field(f).alias(f) for f in SUMMARY_FIGURES),
    pl.col("summary").struct.field("leaf_id").alias("connected_leaf_id"),
    "tasks",
    "tls_stream_id",
]
