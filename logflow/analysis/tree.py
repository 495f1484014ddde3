"""Fourth stage: rebuild every connection tree from the events.

Network framework numbers the connections of a process (C8) and every attempt under one
(C8.1, C8.1.1, C8.1.2); the number of a child is its parent's plus one more part. The
connections table has one row per connection or attempt of a process instance, the ones the
log never names but whose children it does included (``implicit``), with what the log says
about each: endpoint, mode, transport, states, errors, the statistics of its summary block,
and ``outcome``.

The evidence, per node and its subtree (a parent is ready when an attempt under it is), is
in :data:`logflow.schema.OUTCOMES`, which the README's outcome table shows.

Log order is line order, but for macos-UnifiedLogs' records (envelope ``unifiedlogs``): the
iterator writes an archive a file and a chunk at a time, not in time order, so their order is
their time. The ``first_line`` and ``outcome_line`` columns still name lines of the input.

"""

from __future__ import annotations

import polars as pl

from logflow.engine import ENGINE
from logflow.errnos import errno_code, errno_text, error_name, error_text
from logflow.reading import grammar
from logflow.reading.events import endpoint_host, parent_of, root_of, wire_address
from logflow.schema import (
    CFNETWORK_KINDS,
    CLIENT_ATTEMPT,
    CONNECTION_KEY,
    NETWORK_KINDS,
    Family,
    Outcome,
    Transport,
)
from logflow.schema import OUTCOMES as OUTCOMES  # the outcomes' evidence: README, --outcome

NODE = CONNECTION_KEY
PROCESS = NODE[:-1]

# `nw_flow_connected [...] Output protocol connected (tls)`: the whole flow is up. (Its
# `Transport protocol connected (tcp)` only says TCP is; TLS may still fail.)
READY_EVENTS = ("flow:finish_connect", "flow:child_finish_connect", "Output protocol connected")
CONNECTED_PREFIX = "quic_crypto_tls_ready"
TRANSPORT_CONNECTED = "Transport protocol connected"
FAILURE_EVENTS = ("flow:failed_connect", "flow:child_failed", "resolver:children_failed")
# A TLS handshake that failed: `boringssl_session_handshake_error_print(205) [C11.1:2][0x…]
# …:SSL_HANDSHAKE_FAILURE:…`, a fatal alert.
FAILURE_FUNCTIONS = (
    "nw_endpoint_flow_failed_with_error",
    "boringssl_session_handshake_error_print",
    "boringssl_context_handle_fatal_alert",
)
# Functions whose error is the connect's: `Socket SO_ERROR [61: ...]`, `connectx failed (fd 15)
# [1: Operation not permitted]`, a reset answering the SYN (`tcp_input ... flags=[R.] ...
# state=SYN_SENT`).
CONNECT_FUNCTIONS = ("nw_socket_handle_socket_event", "nw_socket_connect", "tcp_input")
END_EVENTS = ("cancel", "cancelled", "dealloc")
END_FUNCTIONS = (
    "nw_endpoint_handler_cancel",
    "nw_flow_disconnected",
    "nw_endpoint_flow_protocol_disconnected",
    "nw_socket_close",
    "tcp_close",
)
# Errors that say a connection that worked is gone: the peer or the network dropped it.
LOSS_ERRNOS = (32, 50, 52, 53, 54, 57, 60)
# Errors a connection meets in its life: a read or write that failed, a TLS alert or error,
# a state reported with an error (and any failure). Other errno lines are not: `getsockopt
# TCP_INFO failed [102: ...]` comes with many a healthy connection.
ERROR_KINDS = ("request_error", "tls_error", "state_report")
# Seconds a summary block's duration may exceed what its lines span (rounding, the time
# between its last line and the block).
CAPTURE_SLACK_S = 1.0
# An inbound connection closed this soon, with no data, is what a client's also-ran looks like
# from the server; a client's attempt within this of an inbound connection may be its peer.
ALSO_RAN_WITHIN_S = 1.0
PEER_WINDOW_S = 2.0
# The envelope whose records are not written in log order.
UNORDERED_ENVELOPE = "unifiedlogs"
LIVE_STATES = ("preparing", "waiting", "in_progress", "ready")
# Kinds whose endpoint is a handler's: `[C8.1.1 IPv4#65424f8e:443 ready socket-flow (...)]`.
DESCRIPTOR_KINDS = ("handler_event", "handler_note", "child_report", "proxy_failure")


# The event columns the trees and the diagnoses read.
TREE_EVENT_COLUMNS = (
    *NODE,
    "envelope",
    "line_no",
    "ts",
    "kind",
    "function",
    "instance",
    "related_id",
    "task_id",
    "endpoint",
    "local_endpoint",
    "added_endpoint",
    "inbound",
    "listener_id",
    "host",
    "transport",
    "state",
    "mode",
    "proxy_kind",
    "path",
    "path_status",
    "path_reason",
    "viable",
    "interface",
    "event",
    "error_code",
    "error_domain",
    "error",
    "summary",
)


def tree_events(events: pl.LazyFrame) -> pl.LazyFrame:
    """The rows and columns of the events table that the trees and the diagnoses read.

    Rows that name a connection, Network's and CFNetwork's, or a listener; the message text
    only of the proxy failures, whose proxy the diagnosis reads from it.
    """
    # A proxy failure names no connection where a PAC script failed to evaluate; a listener's
    # lines name the listener.
    named = (
        (pl.col("kind").is_in((*NETWORK_KINDS, *CFNETWORK_KINDS)) & pl.col("conn_id").is_not_null())
        | (pl.col("kind") == "proxy_failure")
        | pl.col("listener_id").is_not_null()
    )
    message = pl.when(pl.col("kind") == "proxy_failure").then(pl.col("message"))
    return events.filter(named).select(*TREE_EVENT_COLUMNS, message.alias("message"))


def connections(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per connection or attempt, identified by (source, process, pid, conn_id).

    Parameters
    ----------
    events
        The events table (:func:`logflow.read`). Read it with ``keep_other=True`` to link the
        CFNetwork tasks that name each connection.

    Examples
    --------
    >>> conns = connections(logflow.read("sample_logs/logshow-default-race.log"))  # doctest: +SKIP
    >>> conns.filter(pl.col("outcome") == "also-ran").collect()  # doctest: +SKIP
    """
    events = events.with_columns(log_order=_log_order())
    logged = _logged(events)
    nodes = pl.concat([logged, _implicit(logged)], how="diagonal_relaxed")
    nodes = nodes.join(_tasks(events), on=list(NODE), how="left", nulls_equal=True)
    nodes = nodes.join(_cfnetwork_failures(events), on=list(NODE), how="left", nulls_equal=True)
    nodes = nodes.with_columns(
        parent_id=parent_of(pl.col("conn_id")),
        root_id=root_of(pl.col("conn_id")),
        depth=pl.col("conn_id").str.count_matches(".", literal=True).cast(pl.Int32),
    )
    # Each stage below reads its input twice (joined with what it says of itself): it is
    # collected in between, so that the plan does not double at each, and a stage the log
    # gives nothing to (no resolver's addresses, no server's connections) is skipped.
    nodes = _with_subtree(_with_family(nodes)).collect(engine=ENGINE)
    # Few lines add an endpoint: read from the events, not aggregated for every connection.
    added = _added(events).collect(engine=ENGINE)
    if added.height:
        untried = _untried(nodes.lazy(), added.lazy()).collect(engine=ENGINE)
        nodes = nodes.join(untried, on=list(NODE), how="left", nulls_equal=True)
    else:
        nodes = nodes.with_columns(untried_endpoints=pl.lit(None, pl.List(pl.String)))
    nodes = _with_address_pair(nodes.lazy()).collect(engine=ENGINE)
    conns = _with_outcome(nodes.lazy()).collect(engine=ENGINE)
    if conns["inbound"].any():
        links = client_attempts(conns.lazy()).collect(engine=ENGINE)
        conns = conns.join(links, on=list(NODE), how="left", nulls_equal=True)
    else:
        conns = conns.with_columns(client_attempt=pl.lit(None, CLIENT_ATTEMPT))
    return (
        _as_input_lines(conns.lazy(), events, "first_line", "outcome_line")
        .select(CONNECTION_COLUMNS)
        .sort(*PROCESS, "first_ts", "first_line", "conn_id", nulls_last=True)
    )


def _unordered() -> pl.Expr:
    return (pl.col("envelope") == UNORDERED_ENVELOPE) & pl.col("ts").is_not_null()


def _log_order() -> pl.Expr:
    """Where an event stands in its process's log: its line, or its time where lines are not
    in log order. Until :func:`_as_input_lines`, the trees' ``*_line`` columns hold these."""
    return pl.when(_unordered()).then(pl.col("ts").dt.epoch("us")).otherwise(pl.col("line_no"))


def _as_input_lines(nodes: pl.LazyFrame, events: pl.LazyFrame, *columns: str) -> pl.LazyFrame:
    """``columns`` of ``nodes`` turned from log order back into lines of the input."""
    lines = (
        events.filter(_unordered())
        .select(*PROCESS, "log_order", "line_no")
        # Two records of a process in one microsecond: the first line, whatever the batch.
        .group_by(*PROCESS, "log_order")
        .agg(pl.col("line_no").min())
    )
    for column in columns:
        nodes = (
            nodes.join(
                lines.rename({"log_order": column, "line_no": "input_line"}),
                on=[*PROCESS, column],
                how="left",
                nulls_equal=True,
            )
            .with_columns(pl.coalesce("input_line", column).alias(column))
            .drop("input_line")
        )
    return nodes


def _first_line(condition: pl.Expr) -> pl.Expr:
    return pl.col("log_order").filter(condition).min()


def _logged(events: pl.LazyFrame) -> pl.LazyFrame:
    """The connections the log names, with what their lines say."""
    ids = events.filter(pl.col("kind").is_in(NETWORK_KINDS) & pl.col("conn_id").is_not_null())
    # `first` and `last` below read the events of a connection in log order: the lines of
    # most styles are in it already (and a filter that keeps every row copies none).
    unordered = _unordered().fill_null(False)
    ids = pl.concat(
        [ids.filter(~unordered), ids.filter(unordered).sort("log_order", maintain_order=True)]
    )
    state, event, function, kind = (
        pl.col("state"),
        pl.col("event"),
        pl.col("function"),
        pl.col("kind"),
    )
    descriptor = pl.col("endpoint").is_not_null() & kind.is_in(DESCRIPTOR_KINDS)
    ready = (
        (state == "ready") | event.is_in(READY_EVENTS) | function.str.starts_with(CONNECTED_PREFIX)
    )
    connect_error = function.is_in(CONNECT_FUNCTIONS) & pl.col("error_code").is_not_null()
    failure = (
        (state == "failed")
        | event.is_in(FAILURE_EVENTS)
        | function.is_in(FAILURE_FUNCTIONS)
        | (kind == "proxy_failure")
        | connect_error
    )
    code = pl.coalesce(pl.col("error_code"), errno_code(pl.col("error")))
    logged_error = pl.col("error").is_not_null() | pl.col("error_code").is_not_null()
    waiting_report = (kind == "state_report") & (state == "waiting")
    # Counted once a line: a descriptor in state `failed` says no error of its own.
    error = (kind.is_in(ERROR_KINDS) | failure) & logged_error & ~waiting_report
    last_error = pl.struct(code.alias("code"), pl.col("error").alias("text")).filter(error).last()
    lost = (kind == "request_error") & code.is_in(LOSS_ERRNOS)
    failure_error = pl.col("error").filter(failure).drop_nulls().last()
    path_status = pl.col("path_status")
    return ids.group_by(NODE).agg(
        implicit=pl.lit(False),
        first_ts=pl.col("ts").min(),
        last_ts=pl.col("ts").max(),
        first_line=pl.col("log_order").min(),
        n_events=pl.len().cast(pl.Int32),
        # A parent's descriptor names the attempt that connected once it has, so the endpoint
        # of the last descriptor line is the most specific the log gives.
        endpoint=pl.coalesce(
            pl.col("endpoint").filter(descriptor).last(), pl.col("endpoint").drop_nulls().last()
        ),
        # `0.024s [C8741.1 <private> 192.168.1.4:65171<->IPv4#28e2b51a:443 channel-flow]`
        local_endpoint=pl.col("local_endpoint").drop_nulls().last(),
        # The endpoint a connection was asked for: its first.
        requested_host=pl.col("host").drop_nulls().first(),
        # A handler starts in mode `path` and becomes what it is (resolver, socket-flow, ...).
        mode=pl.coalesce(
            pl.col("mode").filter(pl.col("mode") != "path").last(),
            pl.col("mode").drop_nulls().last(),
        ),
        logged_transport=pl.col("transport").filter(kind == "connection_params").first(),
        connected_transport=pl.col("transport").filter(event == TRANSPORT_CONNECTED).last(),
        uses_quic=function.str.starts_with("quic_").any(),
        uses_user_tcp=function.is_in(("tcp_input", "tcp_output")).any(),
        final_state=state.drop_nulls().last(),
        ready_line=_first_line(ready),
        ready_ts=pl.col("ts").filter(ready).min(),
        failure_line=_first_line(failure),
        # A transform that starts over (after `resolver:receive_alternative`, an HTTPS record's
        # answer) replaces the attempts it had made.
        restart_line=pl.col("log_order").filter(event == "transform:restart").max(),
        # A read that failed with a lost connection's error: it had been connected.
        lost_line=_first_line(lost),
        last_failed_line=pl.col("log_order").filter(state == "failed").max(),
        was_live=state.is_in(LIVE_STATES).any()
        | event.is_not_null().any()
        | pl.col("instance").is_not_null().any(),
        end_line=_first_line(
            (state == "cancelled") | event.is_in(END_EVENTS) | function.is_in(END_FUNCTIONS)
        ),
        error_code=pl.coalesce(
            pl.col("error_code").filter(failure).drop_nulls().last(), errno_code(failure_error)
        ),
        error=failure_error,
        n_errors=error.sum().cast(pl.Int32),
        last_error_code=last_error.struct.field("code"),
        last_error=last_error.struct.field("text"),
        start_path_status=path_status.drop_nulls().first(),
        start_path_reason=pl.col("path_reason").filter(path_status.is_not_null()).first(),
        path_status=path_status.drop_nulls().last(),
        path_reason=pl.col("path_reason").filter(path_status.is_not_null()).last(),
        ever_satisfied=(path_status == "satisfied").any(),
        interface=pl.col("interface").drop_nulls().last(),
        is_proxy=(pl.col("mode") == "proxy").any(),
        # `[C12.1 proxy pac]`; a relay's failure names its kind: `([C1.1.1] masque Proxy: …)`.
        proxy_kind=pl.col("proxy_kind").drop_nulls().first(),
        inbound=pl.col("inbound").any(),
        summary=pl.col("summary").drop_nulls().last(),
        # `quic_crypto_new_flow [C1.1.1.1:2] [...] TLS stream is: [C2]`
        tls_stream_id=pl.col("related_id").filter(kind == "conn_note").drop_nulls().first(),
    )


def _cfnetwork_failures(events: pl.LazyFrame) -> pl.LazyFrame:
    """CFNetwork's word on the connections it names: `Connection 1: failed to connect 1:61,
    reason -1` (domain 1, POSIX; code 61), the last it gave for each."""
    failed = events.filter(
        (pl.col("kind") == "cfnetwork_connection") & pl.col("error_code").is_not_null()
    )
    return failed.group_by(NODE).agg(
        cfn_error_domain=pl.col("error_domain").sort_by("log_order").last(),
        cfn_error_code=pl.col("error_code").sort_by("log_order").last(),
        cfn_failure_line=pl.col("log_order").min(),
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


def _ancestry(nodes: pl.LazyFrame, *columns: str) -> pl.LazyFrame:
    """Each node paired with each of its proper ancestors (``ancestor``), with ``columns``."""
    parts = pl.col("conn_id").str.split(".")
    return (
        nodes.select(*NODE, *columns, depth=pl.int_ranges(1, parts.list.len()), parts=parts)
        .explode("depth")
        .drop_nulls("depth")
        .with_columns(ancestor=pl.col("parts").list.head(pl.col("depth")).list.join("."))
        .drop("parts", "depth")
    )


def _implicit(logged: pl.LazyFrame) -> pl.LazyFrame:
    """Ancestors the log never names, implied by their descendants (C8.1 from C8.1.1)."""
    ancestors = (
        _ancestry(logged)
        .select(*PROCESS, conn_id="ancestor")
        .unique()
        .join(logged.select(NODE), on=list(NODE), how="anti", nulls_equal=True)
    )
    return ancestors.with_columns(
        implicit=pl.lit(True),
        n_events=pl.lit(0, pl.Int32),
        was_live=pl.lit(False),
        inbound=pl.lit(False),
    )


def _with_subtree(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """What a node's descendants say: when they ran, whether one was ready, whether all failed."""
    leaf = pl.col("n_children") == 0
    children = nodes.group_by(*PROCESS, "parent_id").agg(n_children=pl.len().cast(pl.Int32))
    nodes = nodes.join(
        children.rename({"parent_id": "conn_id"}), on=list(NODE), how="left", nulls_equal=True
    ).with_columns(pl.col("n_children").fill_null(0))
    below = (
        _ancestry(
            nodes.with_columns(
                leaf=leaf,
                leaf_failed=leaf & pl.col("failure_line").is_not_null(),
                leaf_ended=leaf & pl.col("end_line").is_not_null(),
                leaf_waiting=leaf & _waiting() & pl.col("end_line").is_null(),
            ),
            "first_ts",
            "last_ts",
            "first_line",
            "ready_line",
            "ready_ts",
            "failure_line",
            "lost_line",
            "end_line",
            "connected_transport",
            "was_live",
            "leaf",
            "leaf_failed",
            "leaf_ended",
            "leaf_waiting",
        )
        .group_by(*PROCESS, "ancestor")
        .agg(
            sub_first_ts=pl.col("first_ts").min(),
            sub_last_ts=pl.col("last_ts").max(),
            sub_first_line=pl.col("first_line").min(),
            sub_ready_line=pl.col("ready_line").min(),
            sub_ready_ts=pl.col("ready_ts").min(),
            sub_failure_line=pl.col("failure_line").min(),
            sub_lost_line=pl.col("lost_line").min(),
            sub_end_line=pl.col("end_line").max(),
            sub_was_live=pl.col("was_live").any(),
            # What the first attempt under it to be ready connected over.
            sub_connected_transport=pl.col("connected_transport")
            .filter(pl.col("ready_line").is_not_null())
            .sort_by(pl.col("ready_line").filter(pl.col("ready_line").is_not_null()))
            .drop_nulls()
            .first(),
            all_leaves_failed=pl.col("leaf_failed").sum() == pl.col("leaf").sum(),
            all_leaves_ended=pl.col("leaf_ended").sum() == pl.col("leaf").sum(),
            all_leaves_waiting=pl.col("leaf_waiting").sum() == pl.col("leaf").sum(),
        )
        .rename({"ancestor": "conn_id"})
    )
    return nodes.join(below, on=list(NODE), how="left", nulls_equal=True).with_columns(
        first_ts=pl.min_horizontal("first_ts", "sub_first_ts"),
        last_ts=pl.max_horizontal("last_ts", "sub_last_ts"),
        first_line=pl.min_horizontal("first_line", "sub_first_line"),
        ready_line=pl.min_horizontal("ready_line", "sub_ready_line"),
        ready_ts=pl.min_horizontal("ready_ts", "sub_ready_ts"),
        lost_line=pl.min_horizontal("lost_line", "sub_lost_line"),
        was_live=pl.col("was_live") | pl.col("sub_was_live").fill_null(False),
        connected_transport=pl.coalesce("connected_transport", "sub_connected_transport"),
        subtree_failed=pl.col("all_leaves_failed").fill_null(False),
        subtree_ended=pl.col("all_leaves_ended").fill_null(False),
        # Waiting, as every attempt under it is, where its own path was never satisfied.
        waiting=_waiting().fill_null(True) & pl.col("all_leaves_waiting").fill_null(_waiting()),
    )


def _waiting() -> pl.Expr:
    """Whether a node's path, as its own lines show it, was never satisfied (null: no path)."""
    return pl.when(pl.col("path_status").is_not_null()).then(~pl.col("ever_satisfied"))


def _with_family(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """``host``, ``port`` and ``family`` (ipv4, ipv6, name) of the endpoint, by endpoint.lark."""
    nodes = grammar.load("endpoint").extract(nodes, pl.col("endpoint"), into="ep")
    ep = pl.col("ep").struct.field
    shape = ep("kind")
    return nodes.with_columns(
        host=endpoint_host(pl.col("ep")),
        port=ep("port").cast(pl.Int32, strict=False),
        family=pl.when(shape.str.starts_with("ipv6"))
        .then(pl.lit("ipv6"))
        .when(shape.str.starts_with("ipv4"))
        .then(pl.lit("ipv4"))
        .when(shape.is_not_null())
        .then(pl.lit("name"))
        .cast(Family),
    ).drop("ep")


def _added(events: pl.LazyFrame) -> pl.LazyFrame:
    """What each resolver handed to Happy Eyeballs (`Adding endpoint handler for IPv4#…`),
    once each, in log order: ``order`` and ``added``."""
    return (
        events.filter(pl.col("added_endpoint").is_not_null())
        .select(*NODE, order="log_order", added="added_endpoint")
        .sort("order")
        .unique([*NODE, "added"], keep="first", maintain_order=True)
    )


def _untried(nodes: pl.LazyFrame, added: pl.LazyFrame) -> pl.LazyFrame:
    """``untried_endpoints``: what a resolver added (:func:`_added`) and no attempt under it
    was made for, in the order added."""
    made = nodes.filter(pl.col("endpoint").is_not_null()).select(
        *PROCESS, conn_id="parent_id", made="endpoint"
    )
    # A line cut short added `20.`: the attempt at 20.150.22.100:443 was made for it.
    for_it = pl.col("made").str.starts_with(pl.col("added")).fill_null(False)
    return (
        added.join(made, on=list(NODE), how="left", nulls_equal=True)
        .group_by("order", *NODE, "added")
        .agg(made=for_it.any())
        .filter(~pl.col("made"))
        .sort("order")
        .group_by(NODE, maintain_order=True)
        .agg(untried_endpoints="added")
    )


def _with_address_pair(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """``local_endpoint`` and ``remote_endpoint`` of an attempt, where the log gives them: the
    summary block's `[C8.1.1 <uuid> 192.168.0.25:53756<->216.58.215.46:443]`, an iOS 13
    descriptor's `192.168.1.4:65171<->IPv4#28e2b51a:443`, or an attempt's address."""
    summary = pl.col("summary").struct.field
    blocks = nodes.filter(summary("leaf_id").is_not_null()).select(
        *PROCESS,
        conn_id=summary("leaf_id"),
        block_local=summary("local_endpoint"),
        block_remote=summary("remote_endpoint"),
    )
    blocks = blocks.unique(NODE, keep="last", maintain_order=True)
    address = pl.col("family").is_in(("ipv4", "ipv6")) & (pl.col("n_children") == 0)
    paired = pl.col("local_endpoint").is_not_null()
    return (
        nodes.join(blocks, on=list(NODE), how="left", nulls_equal=True)
        .with_columns(
            local_endpoint=pl.coalesce("block_local", "local_endpoint"),
            remote_endpoint=pl.coalesce(
                "block_remote",
                pl.when(paired | address).then(pl.col("endpoint")),
            ),
        )
        .drop("block_local", "block_remote")
    )


def _with_outcome(nodes: pl.LazyFrame) -> pl.LazyFrame:
    siblings = [*PROCESS, "parent_id"]
    tree = [*PROCESS, "root_id"]
    leaf = pl.col("summary").struct.field("leaf_id").drop_nulls().first().over(tree)
    conn_id = pl.col("conn_id")
    root = pl.col("depth") == 0
    by_parent = nodes.select(
        *PROCESS,
        parent_id="conn_id",
        n_untried=pl.col("untried_endpoints").list.len(),
        parent_restart_line="restart_line",
    )
    nodes = nodes.join(by_parent, on=siblings, how="left", nulls_equal=True)
    # Begun before its transform restarted, and not ready by then; and all under it.
    restarted = pl.col("parent_restart_line")
    replaced = (pl.col("first_line") < restarted) & ~(pl.col("ready_line") < restarted).fill_null(
        False
    )
    nodes = nodes.with_columns(replaced=replaced.fill_null(False))
    replaced_ids = nodes.filter("replaced").select(*PROCESS, replaced_id="conn_id")
    under = (
        nodes.select(NODE)
        .join(replaced_ids, on=list(PROCESS), nulls_equal=True)
        .filter(pl.col("conn_id").str.starts_with(pl.col("replaced_id") + "."))
        .select(NODE)
        .unique()
        .with_columns(under_replaced=pl.lit(True))
    )
    nodes = (
        nodes.join(under, on=list(NODE), how="left", nulls_equal=True)
        .with_columns(replaced=pl.col("replaced") | pl.col("under_replaced").fill_null(False))
        .drop("under_replaced")
    )
    nodes = nodes.with_columns(
        # Siblings that raced it: not the attempts a restart replaced.
        n_siblings=(~pl.col("replaced")).sum().over(siblings).cast(pl.Int32),
        first_ready=pl.col("ready_line").filter(~pl.col("replaced")).min().over(siblings),
        named_leaf=leaf,
        on_winning_path=(leaf == conn_id) | leaf.str.starts_with(conn_id + "."),
        ended=pl.col("end_line").is_not_null(),
        root_end_line=pl.col("end_line").filter(root).min().over(tree),
        requested_transport=pl.col("logged_transport").filter(root).first().over(tree),
        transport=pl.coalesce(
            pl.col("connected_transport"),
            pl.when(pl.col("uses_quic")).then(pl.lit("quic", Transport)),
            pl.when(pl.col("uses_user_tcp")).then(pl.lit("tcp", Transport)),
            pl.col("logged_transport"),
            pl.col("logged_transport").filter(root).first().over(tree),
        ),
        # CFNetwork's error where Network logged none.
        error_domain=pl.when(pl.col("error_code").is_null()).then(pl.col("cfn_error_domain")),
        error_code=pl.coalesce("error_code", "cfn_error_code"),
    )
    # Rivals: its siblings, and the addresses its resolver added and never tried.
    rivals = pl.col("n_siblings") - 1 + pl.col("n_untried").fill_null(0)
    raced = (rivals > 0) & pl.col("parent_id").is_not_null() & ~pl.col("replaced")
    # It connected: a ready line, a summary block, or a read that failed as only a connection
    # that worked can.
    worked = (
        pl.col("ready_line").is_not_null()
        | pl.col("summary").is_not_null()
        | pl.col("lost_line").is_not_null()
    )
    # The summary block names the attempt that connected; without one, the first ready wins.
    first_ready = pl.col("ready_line") == pl.col("first_ready")
    won = raced & pl.when(pl.col("named_leaf").is_not_null()).then(
        pl.col("on_winning_path")
    ).otherwise(first_ready)
    nodes = nodes.with_columns(won=won.fill_null(False))
    failed = ~worked & (
        pl.col("failure_line").is_not_null()
        | pl.col("cfn_failure_line").is_not_null()
        | pl.col("subtree_failed")
    )
    lost = pl.col("lost_line").is_not_null() | (
        pl.col("last_failed_line") > pl.col("ready_line")
    ).fill_null(False)
    ended = (
        pl.col("ended")
        | pl.col("root_end_line").is_not_null()
        | pl.col("summary").is_not_null()
        | pl.col("subtree_ended")
    )
    waiting = pl.col("waiting").fill_null(False)
    outcome = (
        pl.when(pl.col("replaced"))
        .then(pl.lit("cancelled"))
        .when(pl.col("won"))
        .then(pl.lit("won"))
        .when(failed)
        .then(pl.lit("failed"))
        .when(raced & pl.col("won").any().over(siblings))
        .then(pl.lit("also-ran"))
        .when(worked & lost)
        .then(pl.lit("dropped"))
        .when(worked & ended)
        .then(pl.lit("completed"))
        .when(ended & pl.col("was_live"))
        .then(pl.lit("cancelled"))
        .when(worked)
        .then(pl.lit("open"))
        .when(waiting & ~ended)
        .then(pl.lit("waiting"))
        .when(pl.col("was_live") & ~ended)
        .then(pl.lit("connecting"))
        .otherwise(pl.lit("unknown"))
    )
    # The line that decided the outcome, for a reader to check.
    evidence = {
        "won": pl.coalesce("ready_line", "root_end_line"),
        "failed": pl.coalesce("failure_line", "sub_failure_line", "cfn_failure_line"),
        "also-ran": pl.coalesce("end_line", "first_ready"),
        "dropped": pl.coalesce("lost_line", "last_failed_line"),
        "completed": pl.coalesce("end_line", "root_end_line", "sub_end_line"),
        "cancelled": pl.coalesce(
            pl.when(pl.col("replaced")).then("parent_restart_line"),
            "end_line",
            "root_end_line",
            "sub_end_line",
        ),
        "open": pl.coalesce("ready_line", "first_line"),
        "waiting": pl.col("first_line"),
        "connecting": pl.col("first_line"),
    }
    outcome_line = pl.lit(None, pl.Int64)
    for name, line in evidence.items():
        outcome_line = pl.when(pl.col("outcome") == name).then(line).otherwise(outcome_line)
    observed_s = (pl.col("last_ts") - pl.col("first_ts")).dt.total_microseconds() / 1e6
    block_s = pl.col("summary").struct.field("duration_s")
    # A summary block that gives a longer duration than the lines show: the capture began
    # after the connection did.
    before_capture = pl.when(observed_s.is_not_null()).then(block_s - observed_s > CAPTURE_SLACK_S)
    return (
        nodes.with_columns(outcome=outcome.cast(Outcome))
        .with_columns(outcome_line=outcome_line)
        .with_columns(
            started_before_capture=before_capture.fill_null(False),
            duration_s=pl.when(before_capture).then(block_s).otherwise(observed_s.round(6)),
            error=pl.coalesce(
                pl.col("error"), error_text(pl.col("error_code"), pl.col("error_domain"))
            ),
            error_name=error_name(pl.col("error_code"), pl.col("error_domain")),
            last_error=pl.coalesce(pl.col("last_error"), errno_text(pl.col("last_error_code"))),
            n_errors=pl.col("n_errors").fill_null(0),
        )
        .with_columns(probable_also_ran=_probable_also_ran())
        .join(_behind_proxy(nodes), on=list(NODE), how="left", nulls_equal=True)
        .with_columns(via_proxy=pl.col("via_proxy").fill_null(False))
        .join(tls_stream_links(nodes), on=list(NODE), how="left", nulls_equal=True)
    )


def _probable_also_ran() -> pl.Expr:
    """An inbound connection that opened and closed within a moment, its summary block
    counting no bytes: what a server sees of a client's Happy Eyeballs also-ran."""
    # Null where the log gives no counts: unknown, not none.
    moved = pl.col("summary").struct.field("bytes_in") + pl.col("summary").struct.field("bytes_out")
    return (
        pl.col("inbound")
        & pl.col("end_line").is_not_null()
        # Without times, the summary block's duration.
        & (
            pl.coalesce("duration_s", pl.col("summary").struct.field("duration_s"))
            < ALSO_RAN_WITHIN_S
        )
        & (moved == 0)
    ).fill_null(False)


def client_attempts(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """``client_attempt``: on an inbound connection, the client's attempt it came from, where a
    client's log is read with the server's: its address pair is the inbound one's reversed
    (the client's local address where logged, else the server's address within
    :data:`PEER_WINDOW_S` of the inbound connection's start).

    Client and server are different trees, and often different files: whoever builds the
    trees a batch at a time links them again over the whole table.
    """
    inbound = nodes.filter(pl.col("inbound") & pl.col("local_endpoint").is_not_null())
    inbound = inbound.select(
        *NODE,
        "first_ts",
        server=_address_key(pl.col("local_endpoint")),
        client=_address_key(pl.col("remote_endpoint")),
    )
    attempts = nodes.filter(~pl.col("inbound") & pl.col("remote_endpoint").is_not_null())
    attempts = attempts.select(
        pl.struct(*NODE, "outcome").cast(CLIENT_ATTEMPT).alias("client_attempt"),
        attempt_ts="first_ts",
        server=_address_key(pl.col("remote_endpoint")),
        client=_address_key(pl.col("local_endpoint")),
    )
    apart_s = _seconds_apart(pl.col("attempt_ts"), pl.col("first_ts"))
    paired = (pl.col("client") == pl.col("attempt_client")).fill_null(False)
    # By time only where the client's port is not logged: a logged one that differs is
    # another connection.
    near = pl.col("attempt_client").is_null() & (apart_s <= PEER_WINDOW_S).fill_null(False)
    return (
        inbound.join(attempts.rename({"client": "attempt_client"}), on="server", how="inner")
        .filter(paired | near)
        .sort(paired, apart_s, descending=[True, False], nulls_last=True)
        # Each server connection came from one attempt, and each attempt made one: the best
        # match of each, the pair first, then the nearest in time.
        .unique(NODE, keep="first", maintain_order=True)
        .unique("client_attempt", keep="first", maintain_order=True)
        .select(*NODE, "client_attempt")
    )


def _seconds_apart(one: pl.Expr, other: pl.Expr) -> pl.Expr:
    """How far apart two instants are; by the clock alone where either has no date (a Console
    copy prints none: its day is 1970-01-01)."""
    # Its day in UTC is 1969-12-31 where the offset is ahead of UTC.
    undated = (one.dt.year() <= 1970) | (other.dt.year() <= 1970)
    day_us = 86_400_000_000
    by_clock = (one.dt.time().cast(pl.Int64) - other.dt.time().cast(pl.Int64)) // 1000
    by_clock = pl.min_horizontal(by_clock.abs(), day_us - by_clock.abs())
    full = (one - other).dt.total_microseconds().abs()
    return pl.when(undated).then(by_clock).otherwise(full) / 1e6


def _address_key(endpoint: pl.Expr) -> pl.Expr:
    """An address and port as both ends print them (:func:`wire_address`): `fe80::1%en0.8080`
    is `fe80::1 8080`; null without both."""
    wire = wire_address(endpoint).struct.field
    return wire("host") + " " + wire("port")


def tls_stream_links(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """``tls_stream_of``: on a QUIC connection's TLS stream (C2), the QUIC handler it serves.

    The two are different trees (C2 and C1), so whoever builds the trees a batch at a time
    links them again over the whole table.
    """
    return (
        nodes.filter(pl.col("tls_stream_id").is_not_null())
        .select(*PROCESS, conn_id="tls_stream_id", tls_stream_of="conn_id")
        .unique(NODE, keep="first", maintain_order=True)
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
    "requested_host",
    "local_endpoint",
    "remote_endpoint",
    "untried_endpoints",
    "family",
    "mode",
    "transport",
    "requested_transport",
    "first_ts",
    "last_ts",
    "duration_s",
    "started_before_capture",
    "ready_ts",
    "final_state",
    "outcome",
    "outcome_line",
    "error_domain",
    "error_code",
    "error_name",
    "error",
    "n_errors",
    "last_error_code",
    "last_error",
    "start_path_status",
    "start_path_reason",
    "path_status",
    "path_reason",
    "interface",
    "via_proxy",
    "proxy_kind",
    "replaced",
    "inbound",
    "probable_also_ran",
    "client_attempt",
    "n_events",
    "first_line",
    *(pl.col("summary").struct.field(f).alias(f) for f in SUMMARY_FIGURES),
    pl.col("summary").struct.field("leaf_id").alias("connected_leaf_id"),
    "tasks",
    "tls_stream_id",
    "tls_stream_of",
]
