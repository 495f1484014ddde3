"""Third stage: turn records into rows of the events table.

The message of each record is matched against grammars/message.lark, its endpoint against
endpoint.lark and its path against path.lark, column-wise; the raw captures become the typed
columns of :data:`logflow.schema.EVENT_SCHEMA`. Which records are Network-framework events is
decided here too: by subsystem where the envelope names one, otherwise by the sender library,
otherwise by whether the message has a Network-framework shape.
"""

from __future__ import annotations

import polars as pl

from logflow.errnos import errno_text
from logflow.reading import grammar
from logflow.reading.records import FRAME_SHAPES, env_fields
from logflow.schema import (
    CFNETWORK_KINDS,
    EVENT_SCHEMA,
    OTHER,
    SUMMARY,
    TRANSPORTS,
    UNKNOWN,
    UNPARSED,
)

NO_DATE = "1970-01-01"
# The year of a row whose log prints none (device relays): a leap year, so Feb 29 exists.
NO_YEAR = 2000

NETWORK_SUBSYSTEM = "com.apple.network"
# Libraries that log for com.apple.network, by era (log-formats.md section 2.1).
NETWORK_SENDERS = (
    "Network",
    "libnetwork.dylib",
    "libsystem_network.dylib",
    "libquic.dylib",
    "libboringssl.dylib",
    "libusrtcp.dylib",
    "boringssl",
    "quic",
)
CFNETWORK_SENDERS = ("CFNetwork",)

# Every spelling of a level, in lowercase, to the words `log show` prints.
LEVELS = {
    "default": "Default", "df": "Default", "notice": "Default",
    "info": "Info", "i": "Info",
    "debug": "Debug", "db": "Debug",
    "error": "Error", "e": "Error", "er": "Error", "warning": "Error",
    "fault": "Fault", "f": "Fault", "fa": "Fault",
    "critical": "Fault", "alert": "Fault", "emergency": "Fault",
    "a": "Activity", "activity": "Activity", "signpost": "Signpost",
}  # fmt: skip


def to_events(records: pl.LazyFrame) -> pl.LazyFrame:
    """The events table, one row per record, in input order, as a lazy frame.

    Besides the columns of ``EVENT_SCHEMA`` it keeps ``problem``: why an unparsed record is.
    """
    head = pl.col("message").str.split("\n").list.first()
    records = records.with_row_index("record")
    parsed = grammar.load("message").extract(records, head, into="m")
    parsed = parsed.join(_summaries(records), on="record", how="left", maintain_order="left")
    parsed = grammar.load("endpoint").extract(parsed, _m("endpoint"), into="ep")
    parsed = grammar.load("path").extract(parsed, _m("path"), into="pth")
    columns = _event_columns()
    # Values the grammar accepts can still overflow a type (a 20-digit port): null, not a crash.
    return parsed.with_columns(_envelope_columns()).select(
        *(
            columns.get(name, pl.col(name)).cast(dtype, strict=False).alias(name)
            for name, dtype in EVENT_SCHEMA.items()
        ),
        "problem",
    )


def _summaries(records: pl.LazyFrame) -> pl.LazyFrame:
    """``record`` and ``summary``: the statistics block among a record's continuation lines."""
    lines = (
        records.filter(pl.col("message").str.contains("\n", literal=True))
        .select("record", line=pl.col("message").str.split("\n").list.slice(1))
        .explode("line")
    )
    parsed = grammar.load("summary").extract(lines, pl.col("line"), into="s")
    fields = grammar.load("summary").captures
    firsts = (
        parsed.filter(pl.col("s").struct.field("kind").is_not_null())
        .group_by("record")
        .agg(pl.col("s").struct.field(name).drop_nulls().first().alias(name) for name in fields)
    )
    leaf = pl.coalesce(pl.col("leaf_id"), "C" + pl.col("leaf_id__old")).alias("leaf_id")
    columns = [
        leaf if name == "leaf_id" else pl.col(name).cast(dtype, strict=False).alias(name)
        for name, dtype in SUMMARY.to_schema().items()
    ]
    return firsts.select("record", pl.struct(columns).alias("summary"))


def _m(field: str) -> pl.Expr:
    return pl.col("m").struct.field(field)


def _env(field: str) -> pl.Expr:
    return pl.col("env").struct.field(field)


def _json(field: str) -> pl.Expr:
    return pl.col("json").struct.field(field)


def _basename(path: pl.Expr) -> pl.Expr:
    return path.str.split("/").list.last()


def parent_of(conn_id: pl.Expr) -> pl.Expr:
    """``C8.1`` for ``C8.1.1``; null for a top-level ``C8``."""
    # What stands before the last dot: two passes over the text (a split took three times as long).
    return conn_id.str.head(conn_id.str.find(r"\.[^.]*$"))


def root_of(conn_id: pl.Expr) -> pl.Expr:
    """``C8`` for ``C8.1.1``: the connection a handler belongs to, the root of its tree."""
    return conn_id.str.split(".").list.first()


def _hex(text: pl.Expr) -> pl.Expr:
    return text.str.strip_prefix("0x").str.to_integer(base=16, strict=False)


def endpoint_host(parts: pl.Expr) -> pl.Expr:
    """The host of an endpoint parsed by endpoint.lark, whichever of its shapes matched; an
    address printed as its bytes (`'00 00 … 01'`) in its usual form (`::1`)."""
    hosts = [name for name in grammar.load("endpoint").captures if name.split("__")[0] == "host"]
    printed = [parts.struct.field(name) for name in hosts if not name.endswith("bytes")]
    return pl.coalesce(
        *printed,
        grammar.where_present(parts.struct.field("host__v6bytes"), _ipv6_of_bytes),
        grammar.where_present(parts.struct.field("host__v4bytes"), _ipv4_of_bytes),
    )


def wire_address(endpoint: pl.Expr) -> pl.Expr:
    """An endpoint as a packet carries it: a struct of ``family`` (``ipv4``, ``ipv6``),
    ``host`` and ``port``, or null fields for a name, a hashed (`IPv4#65424f8e:443`) or a
    `<private>` address. A zone (`fe80::1%en0`) names an interface of the machine that logged
    it and is dropped; `::ffff:10.0.0.1` is IPv4 on the wire; port 0 is "any", no port."""
    shapes = grammar.load("endpoint")
    parts = endpoint.map_batches(shapes.match, return_dtype=shapes.dtype, is_elementwise=True)
    shape = parts.struct.field("kind")
    host = endpoint_host(parts).str.replace(r"%.*$", "").str.to_lowercase()
    mapped_v4 = host.str.extract(r"^::ffff:([0-9.]+)$")
    family = (
        pl.when((shape == "ipv4") | mapped_v4.is_not_null())
        .then(pl.lit("ipv4"))
        .when(shape.is_in(("ipv6", "ipv6_mapped")))
        .then(pl.lit("ipv6"))
    )
    port = parts.struct.field("port")
    return pl.struct(
        family=family,
        host=pl.when(family.is_not_null()).then(pl.coalesce(mapped_v4, host)),
        port=pl.when(port != "0").then(port),
    )


def _ipv6_of_bytes(hex_bytes: pl.Expr) -> pl.Expr:
    """`00 00 … 00 01` as `::1`: eight groups without leading zeros, the first run of zero
    groups written `::` (RFC 5952 takes the longest; a tie or two runs is rare in a log)."""
    pairs = hex_bytes.str.replace_all(" ", "", literal=True)
    groups = [
        pairs.str.slice(4 * i, 4).str.strip_chars_start("0").replace("", "0") for i in range(8)
    ]
    full = pl.concat_str(groups, separator=":")
    return full.str.replace(r"(?:^|:)0(?::0)+(?::|$)", "::")


def _ipv4_of_bytes(hex_bytes: pl.Expr) -> pl.Expr:
    """`7f 00 00 01` as `127.0.0.1`."""
    octets = hex_bytes.str.split(" ")
    decimal = [octets.list.get(i).str.to_integer(base=16).cast(pl.String) for i in range(4)]
    return pl.concat_str(decimal, separator=".")


def _variants(field: str) -> list[pl.Expr]:
    """Every envelope capture of ``field``: ``process``, ``process__logshow``, ...."""
    return [_env(name) for name in env_fields() if name == field or name.startswith(f"{field}__")]


def process_name() -> pl.Expr:
    """A record's process, whichever envelope gave it."""
    return pl.coalesce(*_variants("process"), _basename(_json("processImagePath")))


def device_name() -> pl.Expr:
    """The device a syslog or device-relay row names."""
    return pl.coalesce(*_variants("host"))


def _envelope_columns() -> list[pl.Expr]:
    """Envelope fields, the same whichever envelope carried them."""
    return [
        pl.coalesce(*_variants("subsystem"), _json("subsystem")).alias("subsystem"),
        pl.coalesce(*_variants("category"), _json("category")).alias("category"),
        pl.coalesce(*_variants("sender"), _basename(_json("senderImagePath"))).alias("sender"),
        _utc_offset().alias("utc_offset"),
    ]


def _utc_offset() -> pl.Expr:
    stamp = _json("timestamp")
    zulu = _env("utc_offset__z").is_not_null() | stamp.str.ends_with("Z")
    logged = pl.coalesce(
        _env("utc_offset"), pl.when(zulu).then(pl.lit("+0000")), stamp.str.slice(-5)
    )
    return logged.str.replace(":", "", literal=True)


def _level() -> pl.Expr:
    """The level in the words `log show` prints, or as printed where it is none of them."""
    printed = pl.coalesce(*_variants("level"), _json("messageType"))
    return printed.str.to_lowercase().replace_strict(LEVELS, default=printed)


def _ts() -> pl.Expr:
    """The instant of the record, in UTC.

    Where the log prints no offset (compact style, Xcode 8, device relays) the wall-clock
    time is taken as UTC and ``utc_offset`` is null. Where it prints no date (Console copies)
    the date is 1970-01-01; where it prints no year (device relays) the year is 2000, a leap
    year, so that Feb 29 exists.
    """
    month_day = (f"{NO_YEAR} " + _env("month_day").str.replace_all(" +", " ")).str.to_date(
        "%Y %b %d", strict=False
    )
    date = pl.when(_env("month_day").is_null()).then(pl.lit(NO_DATE))
    date = pl.coalesce(_env("date"), month_day.dt.to_string("%Y-%m-%d"), date)
    clock = _env("clock")
    clock = pl.when(clock.str.contains(".", literal=True)).then(clock).otherwise(clock + ".0")
    offset = pl.col("utc_offset").fill_null("+0000")
    # unifiedlog_iterator writes UTC as RFC 3339 (`2025-03-14T09:32:05.410Z`), and in its JSONL
    # nanoseconds too, as a float that falls a few nanoseconds off: rounded to microseconds.
    stamp = _json("timestamp").str.replace(r"^(\S+)T(\S+)Z$", "$1 $2+0000")
    text = pl.coalesce(stamp, pl.concat_str(date, pl.lit(" "), clock, offset))
    nanoseconds = pl.from_epoch((_json("time_ns") / 1000).round().cast(pl.Int64), time_unit="us")
    return pl.coalesce(
        nanoseconds.dt.replace_time_zone("UTC"),
        text.str.to_datetime(
            "%Y-%m-%d %H:%M:%S%.f%z", time_unit="us", time_zone="UTC", strict=False
        ),
    )


def _loose_tid() -> pl.Expr:
    """A thread id in an unknown envelope: hex where it says so (`0x`, a letter), else decimal."""
    tid = _env("tid__loose")
    decimal = grammar.where_present(tid, lambda text: text.str.contains("^[0-9]+$"), pl.Boolean)
    return pl.when(decimal).then(tid.cast(pl.Int64, strict=False)).otherwise(_hex(tid))


def _connected_transport() -> pl.Expr:
    """What a flow connected over: `Transport protocol connected (tcp)`. (A socket flow says
    `(socket)`: the kernel's, TCP or UDP as asked.)"""
    protocol = _m("protocol")
    connected = (_m("protocol_change") == "Transport protocol connected") & protocol.is_in(
        TRANSPORTS
    )
    return pl.when(connected).then(protocol)


def _inbound() -> pl.Expr:
    """True where a connection's parameters say `server`: a listener accepted it."""
    server = r"(?:^|, )server(?:,|$)"
    return grammar.where_present(
        _m("params"), lambda params: params.str.contains(server), pl.Boolean
    )


def _reset_while_connecting() -> pl.Expr:
    """61 (ECONNREFUSED) for a reset answering a SYN: `flags=[R.] ... state=SYN_SENT`."""
    reset = grammar.where_present(
        _m("tcp_flags"), lambda flags: flags.str.contains("R", literal=True), pl.Boolean
    )
    received = _m("function") == "tcp_input"
    return pl.when(received & reset & (_m("tcp_state") == "SYN_SENT")).then(pl.lit(61))


def _tls_error() -> pl.Expr:
    """boringssl's error: `TLS alert: internal error`, `SSL_HANDSHAKE_FAILURE`, ...."""
    return pl.coalesce(
        "TLS alert: " + _m("tls_alert"),
        pl.concat_str(_m("tls_reason"), _m("error"), separator=": "),
        _m("tls_reason"),
    )


def _conn_id() -> pl.Expr:
    cfnetwork = _m("cfn_connection")
    return pl.coalesce(
        _m("conn_id"),
        "C" + _m("conn_id__old"),
        # `Connection 0` is CFNetwork's name for a connection not yet numbered.
        pl.when(cfnetwork != "0").then("C" + cfnetwork),
    )


def _category() -> pl.Expr:
    """``network``, ``cfnetwork`` or ``other``: whose record this is.

    By subsystem where the envelope names one; otherwise by the library that logged it;
    otherwise (Console copies, Xcode, bare pastes) by the shape of the message.
    """
    subsystem, sender, shape = pl.col("subsystem"), pl.col("sender"), _m("kind").fill_null(UNKNOWN)
    by_shape = (
        pl.when(shape.is_in(CFNETWORK_KINDS))
        .then(pl.lit("cfnetwork"))
        .when(shape != UNKNOWN)
        .then(pl.lit("network"))
        .otherwise(pl.lit("other"))
    )
    # Where the message was found behind a prefix, the envelope named no subsystem and the
    # message decides: a `[NetworkManager.swift:42]` tag before it is no subsystem's.
    return (
        pl.when(pl.col("prefix").is_not_null())
        .then(by_shape)
        .when(subsystem == NETWORK_SUBSYSTEM)
        .then(pl.lit("network"))
        .when(subsystem.is_not_null() | sender.is_in(CFNETWORK_SENDERS))
        .then(pl.when(by_shape == "cfnetwork").then(by_shape).otherwise(pl.lit("other")))
        .when(sender.is_in(NETWORK_SENDERS))
        .then(pl.lit("network"))
        .otherwise(by_shape)
    )


def _kind() -> pl.Expr:
    shape = pl.col("shape")
    category = _category()
    return (
        pl.when(pl.col("problem").is_not_null())
        .then(pl.lit(UNPARSED))
        .when(shape.is_in(FRAME_SHAPES))
        .then(shape)
        .when(category == "other")
        .then(pl.lit(OTHER))
        .otherwise(_m("kind").fill_null(UNKNOWN))
    )


def _event_columns() -> dict[str, pl.Expr]:
    """Expressions for the event columns that are not taken over as they are."""
    conn_id = _conn_id()
    return {
        "ts": _ts(),
        "level": _level(),
        "process": process_name(),
        "pid": pl.coalesce(_env("pid").cast(pl.Int64, strict=False), _json("processID")),
        "tid": pl.coalesce(
            _hex(_env("tid__hex")),
            _hex(_env("tid__barehex")),
            _env("tid__dec").cast(pl.Int64, strict=False),
            _loose_tid(),
            _json("threadID"),
        ),
        "function": pl.coalesce(_m("function"), _m("function__legacy"), _m("function__other")),
        "conn_id": conn_id,
        "instance": _m("instance"),
        "parent_id": parent_of(conn_id),
        "related_id": pl.coalesce(_m("related_id"), "C" + _m("related_id__old")),
        "task_id": pl.concat_str(_m("task_uuid"), pl.lit("."), _m("task_number")),
        "endpoint": _m("endpoint"),
        "local_endpoint": pl.when(_m("local_endpoint") != "<NULL>").then(_m("local_endpoint")),
        "added_endpoint": _m("added_endpoint"),
        "inbound": _inbound(),
        "listener_id": _m("listener_id"),
        "host": endpoint_host(pl.col("ep")),
        "port": pl.col("ep").struct.field("port"),
        # 2020's `stream` is TCP; `quic-connection` is how CFNetwork's HTTP/3 loads say QUIC.
        "transport": pl.coalesce(_m("transport"), _connected_transport()).replace(
            {"stream": "tcp", "quic-connection": "quic"}
        ),
        "state": pl.coalesce(_m("state"), _m("state__conn")),
        "mode": _m("mode"),
        # `[C12.1 proxy pac]`: the word after a proxy handler's mode.
        "proxy_kind": pl.coalesce(
            _m("proxy_kind"), pl.when(_m("mode") == "proxy").then(_m("proxy_kind__handler"))
        ),
        "path": _m("path"),
        "path_status": pl.col("pth").struct.field("path_status"),
        "path_reason": pl.col("pth").struct.field("path_reason"),
        "viable": pl.when(pl.col("pth").struct.field("kind") == "status_path").then(
            pl.col("pth").struct.field("viable").is_not_null()
        ),
        "interface": pl.coalesce(
            pl.col("pth").struct.field("interface"),
            pl.col("ep").struct.field("interface"),
            _m("interface__promoted"),  # where a QUIC connection migrated to
        ),
        # Connection lines have a lifecycle verb (start, cancel, cancelled, dealloc) instead;
        # flows say what changed: `Output protocol connected`, `suppressing better path
        # notification`, QUIC's `promoted path`.
        "event": pl.coalesce(
            _m("event"),
            _m("verb"),
            _m("protocol_change"),
            _m("better_path"),
            _m("path_promotion"),
            _m("listener_event"),
        ),
        "elapsed_s": _m("elapsed"),
        "error_code": pl.coalesce(_m("error_code"), _reset_while_connecting()),
        "error_domain": _m("cfn_domain"),
        "error": pl.coalesce(
            _tls_error(), _m("error"), _m("error__quoted"), errno_text(_reset_while_connecting())
        ),
        "kind": _kind(),
    }
