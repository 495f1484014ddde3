"""Fifth stage: the diagnoses built on the connection trees.

- :func:`races`: every parent whose children were attempted side by side (Happy Eyeballs),
  which one won, which were also-rans;
- :func:`proxy_failures`: proxy handlers that failed, and whether the connection fell back
  to a direct path;
- :func:`listeners`: the listeners of a server's log, what they accepted and what failed;
- :func:`path_changes`: each change of a connection's path (status, interface, migration),
  with changes that hit many connections at once grouped as one system-wide change.
"""

from __future__ import annotations

import polars as pl

from logflow.analysis.tree import NODE, PROCESS
from logflow.engine import ENGINE
from logflow.errnos import (
    URL_ERROR_DOMAIN,
    errno_name,
    errno_text,
    url_error_name,
    url_error_text,
)
from logflow.reading import grammar
from logflow.reading.events import root_of, wire_address
from logflow.schema import RaceOutcome

# Changes to two or more connections, each within a second of the last, are one change of the
# system's path.
SYSTEM_MIN_CONNECTIONS = 2

# Events that move a connection to another interface: a handler's path migrating, a QUIC
# connection promoting the path over another interface to primary.
MIGRATION_EVENTS = ("path:migrated", "promoted path")
BETTER_PATH = "better path notification"

# How a proxy names itself in `... ([C1.1.1] masque Proxy: http://...)`, and what it is.
PROXY_KINDS = {"masque": "privacy (MASQUE relay)", "pac": "PAC"}


def races(connections: pl.LazyFrame) -> pl.LazyFrame:
    """One row per parent whose attempt had rivals: two or more children, or addresses its
    resolver added (`Adding endpoint handler for IPv4#…`) beyond the ones it tried.

    Columns: the parent's key, ``first_ts`` (when its first attempt started; null when it
    tried none), ``children`` (ids in start order), ``start_offsets_s`` (each
    child's start after the first), ``families`` (the address family of each child), ``winner_id``
    (null when none won), ``also_rans``, ``not_started`` (the endpoints Happy Eyeballs had in
    hand and never tried: added and never attempted, or cancelled while still ``initial``),
    ``failed``, ``winner_connect_s`` (from the first start
    to the winner's ready), ``margin_s`` (from the winner's ready to the next sibling's ready,
    or, if none got ready, to the first loser's last line; negative when a loser gave up before
    the winner connected) and ``outcome``: ``won``, ``all-failed`` or ``undecided``
    (:data:`logflow.schema.RACE_OUTCOMES`).
    """
    # An attempt a restart replaced raced nothing: its transform started over.
    children = connections.filter(pl.col("parent_id").is_not_null() & ~pl.col("replaced"))
    children = children.sort("first_ts", "conn_id")
    never_started = pl.col("final_state") == "initial"
    by_parent = children.group_by(*PROCESS, "parent_id").agg(
        children=pl.col("conn_id"),
        # An attempt never started has no start: its only line is its cancel.
        start_offsets_s=pl.when(~never_started).then(
            _seconds(pl.col("first_ts") - pl.col("first_ts").min())
        ),
        # One per child, as `children` (null where the endpoint says no family).
        families=pl.col("family"),
        winner_id=pl.col("conn_id").filter(pl.col("outcome") == "won").first(),
        also_rans=pl.col("conn_id").filter(pl.col("outcome") == "also-ran"),
        # `nw_endpoint_handler_cancel [C1.1.1.2 ... initial path ((null))]`: never started.
        cancelled_initial=pl.col("endpoint").filter(never_started),
        failed=pl.col("conn_id").filter(pl.col("outcome") == "failed"),
        first_start=pl.col("first_ts").min(),
        winner_ready=pl.col("ready_ts").filter(pl.col("outcome") == "won").first(),
        # How far behind the winner the others were: the next ready, else the first to give up.
        next_ready=pl.col("ready_ts").filter(pl.col("outcome") != "won").min(),
        first_loser_end=pl.col("last_ts")
        .filter(pl.col("outcome").is_in(("also-ran", "failed")))
        .min(),
    )
    untried = connections.filter(
        (pl.col("untried_endpoints").list.len() > 0) & ~pl.col("replaced")
    ).select(*PROCESS, parent_id="conn_id", untried="untried_endpoints")
    n_children = pl.col("children").list.len().fill_null(0)
    return (
        by_parent.join(
            untried, on=[*PROCESS, "parent_id"], how="full", coalesce=True, nulls_equal=True
        )
        .filter(n_children + pl.col("untried").list.len().fill_null(0) > 1)
        .with_columns(
            # A resolver that tried none of what it added: empty lists, not nulls.
            *(
                pl.col(name).fill_null(pl.lit([], dtype))
                for name, dtype in by_parent.collect_schema().items()
                if isinstance(dtype, pl.List)
            ),
            winner_connect_s=_seconds(pl.col("winner_ready") - pl.col("first_start")),
            margin_s=_seconds(
                pl.coalesce("next_ready", "first_loser_end") - pl.col("winner_ready")
            ),
        )
        .with_columns(
            not_started=pl.concat_list(
                "cancelled_initial", pl.col("untried").fill_null(pl.lit([], pl.List(pl.String)))
            ),
            outcome=pl.when(pl.col("winner_id").is_not_null())
            .then(pl.lit("won"))
            .when((n_children > 0) & (pl.col("failed").list.len() == n_children))
            .then(pl.lit("all-failed"))
            .otherwise(pl.lit("undecided"))
            .cast(RaceOutcome),
        )
        .select(
            *PROCESS,
            "parent_id",
            pl.col("first_start").alias("first_ts"),
            "children",
            "start_offsets_s",
            "families",
            "winner_id",
            "also_rans",
            "not_started",
            "failed",
            "winner_connect_s",
            "margin_s",
            "outcome",
        )
        .sort(*PROCESS, "parent_id")
    )


def listeners(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per listener (`[L1]`) of a process instance.

    Columns: the process's key, ``listener_id``, ``first_ts``, ``last_ts``, ``n_events``,
    ``inbound_handled`` (its `Handling inbound connection` lines) and ``failure`` (the first
    thing it says failed: `nw_path_create_evaluator_for_listener failed`, `failed to create
    listener inbox`), null when none did. The inbound connections themselves are rows of the
    connections table (``inbound``); their lines do not name their listener.
    """
    event = pl.col("event")
    return (
        events.filter(pl.col("listener_id").is_not_null())
        .group_by(*PROCESS, "listener_id")
        .agg(
            first_ts=pl.col("ts").min(),
            last_ts=pl.col("ts").max(),
            n_events=pl.len().cast(pl.Int32),
            inbound_handled=(event == "Handling inbound connection").sum().cast(pl.Int32),
            failure=event.filter(event.str.contains("failed", literal=True)).first(),
        )
        .sort(*PROCESS, "listener_id")
    )


def wireshark_filter(connections: pl.LazyFrame, outcome: str) -> tuple[str, int]:
    """A Wireshark display filter that selects the attempts with ``outcome`` (``also-ran``,
    ``won``) by the address pair the log gives, and how many of them it could not include.

    Each attempt is its addresses (`ip.addr`, `ipv6.addr`) and ports (`tcp.port`, `udp.port`
    for QUIC) as logged; hashed (`IPv4#65424f8e:443`) and `<private>` addresses are left out,
    and an attempt with no address and no local port cannot be told apart: it is counted. An
    attempt never started (still ``initial`` when cancelled) sent nothing: it is not in it.
    """
    started = pl.col("final_state").ne_missing("initial")
    chosen = connections.filter((pl.col("outcome") == outcome) & started).select(
        *PROCESS, chosen="conn_id"
    )
    # A winner is often a resolver: its packets are those of the attempts under it.
    attempts = connections.filter(pl.col("remote_endpoint").is_not_null() & started)
    under = pl.col("conn_id").str.starts_with(pl.col("chosen") + ".")
    picked = (
        chosen.join(attempts, on=list(PROCESS), how="left", nulls_equal=True)
        .filter((pl.col("conn_id") == pl.col("chosen")) | under)
        .unique([*PROCESS, "conn_id"], maintain_order=True)
    )
    # Chosen ones with no attempt under them that has an address count as unknown.
    unaddressed = chosen.join(
        picked.select(*PROCESS, "chosen"), on=[*PROCESS, "chosen"], how="anti", nulls_equal=True
    )
    udp = pl.col("transport").is_in(("quic", "udp"))
    port_field = pl.when(udp).then(pl.lit("udp.port")).otherwise(pl.lit("tcp.port"))
    clauses = {}
    for side in ("local", "remote"):
        wire = wire_address(pl.col(f"{side}_endpoint")).struct.field
        field = wire("family").replace_strict(
            {"ipv4": "ip.addr", "ipv6": "ipv6.addr"}, return_dtype=pl.String
        )
        clauses[side] = (field + " == " + wire("host"), port_field + " == " + wire("port"))
    local_host, local_port = clauses["local"]
    remote_host, remote_port = clauses["remote"]
    known = local_host.is_not_null() | remote_host.is_not_null() | local_port.is_not_null()
    term = pl.concat_str(
        local_host, local_port, remote_host, remote_port, separator=" && ", ignore_nulls=True
    )
    found = picked.select(
        filter=("(" + term.filter(known) + ")").str.join(" || "),
        unknown=(~known).sum(),
    ).collect(engine=ENGINE)
    missing = unaddressed.select(pl.len()).collect(engine=ENGINE).item()
    return found["filter"][0], found["unknown"][0] + missing


def proxy_failures(events: pl.LazyFrame, connections: pl.LazyFrame) -> pl.LazyFrame:
    """One row per failed proxy attempt.

    Columns: the proxy handler's key, ``ts`` and ``line_no`` (of the failure); ``proxy_kind``
    (``privacy (MASQUE relay)``, ``PAC``, or as logged), ``proxy_endpoint``, ``failed_child``,
    ``error_code``, ``error_name``, ``error``; ``fell_back`` (a sibling of the proxy handler
    started after it failed), ``fallback_id`` and ``fallback_outcome``.
    """
    reported = grammar.load("message").extract(
        events.filter(pl.col("kind") == "proxy_failure"),
        pl.col("message").str.split("\n").list.first(),
        into="m",
    )
    failures = reported.select(
        *NODE,
        "ts",
        "line_no",
        proxy_kind=pl.col("proxy_kind").replace(PROXY_KINDS),
        proxy_endpoint=pl.col("m").struct.field("proxy_endpoint"),
        failed_child="related_id",
        error_code="error_code",
        error_domain_name=pl.col("m").struct.field("error_domain_name"),
    )
    # Proxy handlers that failed without saying how.
    silent = (
        connections.filter(pl.col("via_proxy") & (pl.col("mode") == "proxy"))
        .filter(pl.col("outcome") == "failed")
        .join(failures.select(NODE), on=list(NODE), how="anti", nulls_equal=True)
        .select(
            *NODE,
            ts="last_ts",
            line_no="first_line",
            error_code="error_code",
            proxy_kind=pl.col("proxy_kind").replace(PROXY_KINDS),
        )
    )
    failures = link_pac_failures(pl.concat([failures, silent], how="diagonal_relaxed"), connections)
    # The direct path: a sibling of the proxy handler that is not a proxy itself.
    # (Roots have no parent, and no siblings: two connections of a process are not a race.)
    siblings = connections.filter(~pl.col("via_proxy") & pl.col("parent_id").is_not_null()).select(
        *PROCESS,
        "parent_id",
        fallback_id="conn_id",
        fallback_line="first_line",
        fallback_outcome="outcome",
    )
    parent_of = connections.select(*NODE, "parent_id")
    fallbacks = (
        failures.join(parent_of, on=list(NODE), how="left", nulls_equal=True)
        .join(siblings, on=[*PROCESS, "parent_id"], how="left", nulls_equal=True)
        # Line order, not time: pastes without timestamps keep it too.
        .filter(pl.col("fallback_line") > pl.col("line_no"))
        .sort("fallback_line")
        .group_by(NODE)
        .agg(pl.col("fallback_id").first(), pl.col("fallback_outcome").first())
    )
    # A PAC script's error is Foundation's (`NSURLErrorDomain: -1003`); the others are errnos.
    url_error = pl.col("error_domain_name").eq_missing(URL_ERROR_DOMAIN)
    # Another named domain's code is no errno: left unnamed.
    errno = pl.col("error_domain_name").is_null()
    return (
        failures.join(fallbacks, on=list(NODE), how="left", nulls_equal=True)
        .with_columns(
            fell_back=pl.col("fallback_id").is_not_null(),
            error_name=pl.when(url_error)
            .then(url_error_name(pl.col("error_code")))
            .when(errno)
            .then(errno_name(pl.col("error_code"))),
            error=pl.when(url_error)
            .then(url_error_text(pl.col("error_code")))
            .when(errno)
            .then(errno_text(pl.col("error_code"))),
        )
        .select(
            *NODE,
            "ts",
            "line_no",
            "proxy_kind",
            "proxy_endpoint",
            "failed_child",
            "error_code",
            "error_name",
            "error",
            "fell_back",
            "fallback_id",
            "fallback_outcome",
        )
        .sort(*PROCESS, "ts")
    )


FALLBACK_COLUMNS = ("fell_back", "fallback_id", "fallback_outcome")


def link_pac_failures(failures: pl.LazyFrame, connections: pl.LazyFrame) -> pl.LazyFrame:
    """A PAC script's error (`nw_proxy_resolver_create_parsed_array PAC evaluation error: …`)
    names no connection: it is the error of the PAC proxy handler (`[C12.1 proxy pac]`) last
    logged before it in that process, where there is one, and replaces that handler's
    failure without an error.

    The two are two trees: whoever builds the trees a batch at a time links them again over
    the whole table.
    """
    failures = failures.with_row_index("row")
    unnamed = failures.filter(pl.col("conn_id").is_null() & (pl.col("proxy_kind") == "PAC"))
    handlers = connections.filter(pl.col("proxy_kind").str.to_lowercase() == "pac").select(
        *PROCESS, handler="conn_id", handler_line="first_line"
    )
    linked = (
        unnamed.select("row", *PROCESS, "line_no")
        .join(handlers, on=list(PROCESS), nulls_equal=True)
        .filter(pl.col("handler_line") < pl.col("line_no"))
        .sort("handler_line")
        .group_by("row")
        .agg(pl.col("handler").last())
    )
    failures = failures.join(linked, on="row", how="left").with_columns(
        conn_id=pl.coalesce("conn_id", "handler")
    )
    # The handler's failure without an error, now that its error is known, gives way to it;
    # where the fallbacks were already worked out (a batch at a time), the handler's stand.
    explained = pl.col("handler").is_not_null().any().over(NODE)
    linked_row = pl.col("handler").is_not_null()
    fallback = [name for name in FALLBACK_COLUMNS if name in failures.collect_schema()]
    if fallback:
        was = failures.filter(explained & ~linked_row).select(
            *NODE, *(pl.col(name).alias(f"{name}_was") for name in fallback)
        )
        failures = failures.join(
            was.unique(NODE, keep="first"), on=list(NODE), how="left", nulls_equal=True
        ).with_columns(
            pl.when(linked_row & pl.col(f"{name}_was").is_not_null())
            .then(pl.col(f"{name}_was"))
            .otherwise(pl.col(name))
            .alias(name)
            for name in fallback
        )
        failures = failures.drop(f"{name}_was" for name in fallback)
    return failures.filter(~explained | linked_row).drop("row", "handler")


def path_changes(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per change of a connection's path.

    ``change`` is ``status`` (satisfied/unsatisfied, with the reason), ``interface`` (en0 ->
    pdp_ip0), ``viability`` (a flow that was viable losing it, or getting it back),
    ``migrated`` (a ``path:migrated`` event, or a QUIC connection promoting the path over
    another interface to primary: from the interface before to the one after) or ``better
    path`` (the evaluator found a better path: from the interface in use to what it did,
    e.g. ``suppressing better path notification``). ``system_change`` numbers
    the bursts of one kind of change that hit several connections, each within a second of the
    last; it is null for a change of one connection alone.
    """
    return group_system_changes(connection_path_changes(events))


def connection_path_changes(events: pl.LazyFrame) -> pl.LazyFrame:
    """The changes of each connection's path, without ``system_change``: one tree at a time."""
    paths = events.filter(pl.col("conn_id").is_not_null()).sort("ts", "line_no")
    with_reason = pl.concat_str(
        pl.col("path_status"), pl.lit(" ("), pl.col("path_reason"), pl.lit(")"), ignore_nulls=True
    ).str.strip_suffix(" ()")
    status = pl.when(pl.col("path_status").is_not_null()).then(with_reason)
    observed = paths.filter(
        pl.col("path_status").is_not_null() | pl.col("interface").is_not_null()
    ).with_columns(
        status=status,
        prev_status=status.forward_fill().shift(1).over(NODE),
        prev_path_status=pl.col("path_status").forward_fill().shift(1).over(NODE),
        prev_interface=pl.col("interface").forward_fill().shift(1).over(NODE),
        prev_viable=pl.col("viable").forward_fill().shift(1).over(NODE),
        prev_path=pl.when(pl.col("path_status").is_not_null())
        .then(pl.col("path"))
        .forward_fill()
        .shift(1)
        .over(NODE),
    )
    status = pl.col("status")
    status_changes = observed.filter(
        status.is_not_null()
        & pl.col("prev_status").is_not_null()
        & (pl.col("path_status") != pl.col("prev_path_status"))
    ).select(*NODE, "ts", "line_no", change=pl.lit("status"), old="prev_status", new=status)
    interface, event = pl.col("interface"), pl.col("event")
    migrated = event.is_in(MIGRATION_EVENTS)
    interface_changes = observed.filter(
        interface.is_not_null()
        & pl.col("prev_interface").is_not_null()
        & (interface != pl.col("prev_interface"))
        & ~migrated.fill_null(False)
    ).select(
        *NODE, "ts", "line_no", change=pl.lit("interface"), old="prev_interface", new=interface
    )
    migrations = (
        paths.with_columns(prev_interface=interface.forward_fill().shift(1).over(NODE))
        .filter(migrated)
        .select(
            *NODE, "ts", "line_no", change=pl.lit("migrated"), old="prev_interface", new=interface
        )
    )
    better_paths = paths.filter(event.str.ends_with(BETTER_PATH)).select(
        *NODE, "ts", "line_no", change=pl.lit("better path"), old=interface, new=event
    )
    # A path event that changed neither status nor interface: what else its descriptor says.
    unchanged = (
        (pl.col("path_status") == pl.col("prev_path_status"))
        & (interface == pl.col("prev_interface"))
        & pl.col("viable").eq_missing(pl.col("prev_viable"))
    ).fill_null(True)
    after_another = pl.col("prev_path_status").is_not_null()
    property_changes = _property_changes(
        observed.filter(_is_path_event() & unchanged & after_another)
    )
    return pl.concat(
        [
            status_changes,
            interface_changes,
            _viability_changes(paths),
            migrations,
            better_paths,
            property_changes,
        ]
    ).sort("ts", "line_no")


def _is_path_event() -> pl.Expr:
    """`event: path:satisfied_change @22.121s`: every path event but a handler's first."""
    event = pl.col("event")
    return event.str.starts_with("path:") & ~event.is_in(("path:start", *MIGRATION_EVENTS))


def _property_changes(events: pl.LazyFrame) -> pl.LazyFrame:
    """Path events, with what their descriptor's flags say that the one before did not.

    ``change`` names the kinds of flag that differ (``address families``, ``DNS``, ``LQM``,
    ``expensive``, ...), or is ``properties`` when the log shows no difference; ``old`` and
    ``new`` are the flags gone and come.
    """
    # (Split here, on the few path events: splitting every descriptor cost a tenth of a parse.)
    flags, prev_flags = _flags(pl.col("path")), _flags(pl.col("prev_path"))
    added = flags.list.set_difference(prev_flags)
    removed = prev_flags.list.set_difference(flags)
    kinds = (
        pl.concat_list(removed, added)
        .list.eval(_flag_kind(pl.element()))
        .list.unique(maintain_order=True)
        .list.join(", ")
    )
    return events.select(
        *NODE,
        "ts",
        "line_no",
        change=pl.when(kinds != "").then(kinds).otherwise(pl.lit("properties")),
        old=pl.when(removed.list.len() > 0).then(removed.list.join(", ")),
        new=pl.when(added.list.len() > 0).then(added.list.join(", ")),
    )


def _flags(path: pl.Expr) -> pl.Expr:
    """The flags of a path description: `satisfied (Path is satisfied), interface:
    en0[802.11], ipv4, dns, uses wifi, LQM: good` has ipv4, dns, uses wifi, LQM: good (its
    status, interface and viability are changes of their own)."""
    parts = path.str.split(", ").list.slice(1)
    own = pl.element().str.starts_with("interface:") | (pl.element() == "viable")
    return parts.list.filter(~own)


def _flag_kind(flag: pl.Expr) -> pl.Expr:
    return (
        pl.when(flag.is_in(("ipv4", "ipv6")))
        .then(pl.lit("address families"))
        .when(flag == "dns")
        .then(pl.lit("DNS"))
        .when(flag.str.starts_with("LQM"))
        .then(pl.lit("LQM"))
        .when(flag.is_in(("expensive", "constrained")))
        .then(flag)
        .when(flag.str.starts_with("uses "))
        .then(pl.lit("interface type"))
        .otherwise(pl.lit("properties"))
    )


def _viability_changes(paths: pl.LazyFrame) -> pl.LazyFrame:
    """A flow losing viability, and getting it back; not its first becoming viable."""
    viable = pl.col("viable")
    flags = paths.filter(viable.is_not_null()).with_columns(
        prev_viable=viable.shift(1).over(NODE),
        was_viable=viable.cast(pl.Int8).cum_max().shift(1).over(NODE) == 1,
    )
    label = pl.when(viable).then(pl.lit("viable")).otherwise(pl.lit("not viable"))
    prev_label = (
        pl.when(pl.col("prev_viable")).then(pl.lit("viable")).otherwise(pl.lit("not viable"))
    )
    return flags.filter((viable != pl.col("prev_viable")) & pl.col("was_viable")).select(
        *NODE, "ts", "line_no", change=pl.lit("viability"), old=prev_label, new=label
    )


def group_system_changes(changes: pl.LazyFrame) -> pl.LazyFrame:
    """Number the changes of one kind that several connections see within a second.

    A burst starts at a change more than a second after the one before it (of the same kind
    and values, in the same log); it is system-wide when it touches two or more connections
    (counted by their root: C2 and C2.1.1 are one connection), and bursts are numbered in
    the order they happened.
    """
    what = ["source", "change", "old", "new"]
    gap = pl.col("ts").diff().over(what) > pl.duration(seconds=1)
    bursts = changes.sort("ts", "line_no").with_columns(
        burst=gap.fill_null(True).cum_sum().over(what)
    )
    burst = [*what, "burst"]
    connection = pl.concat_str(
        "process", "pid", root_of(pl.col("conn_id")), separator="/", ignore_nulls=True
    )
    shared = connection.n_unique().over(burst) >= SYSTEM_MIN_CONNECTIONS
    started = pl.col("ts").min().over(burst).alias("started")
    numbered = bursts.with_columns(
        system_change=pl.when(shared).then(pl.struct(started, *burst)).rank("dense").cast(pl.Int32)
    )
    # One line can change a connection's status and its interface at once: order them too.
    return (
        numbered.drop("burst")
        .sort(*PROCESS, "ts", "line_no", "conn_id", "change")
        .rename({"old": "from", "new": "to"})
    )


def _seconds(delta: pl.Expr) -> pl.Expr:
    """A duration in seconds, to the microsecond the log gives."""
    return (delta.dt.total_microseconds() / 1e6).round(6)
