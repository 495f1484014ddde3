"""Endpoints and descriptors of every shape Apple prints, and Network's function heads.

Through the compiled patterns (what the pipeline runs) and, where it matters, through
``logflow.read`` on a small export; tests/test_grammar.py proves that Lark agrees.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import logflow
from logflow.reading import grammar

from conftest import needs_corpus, parse_corpus

HEX_V6 = "'00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01'"
HEX_V6_BYTES = HEX_V6.strip("'")
# A real 2021 `log stream --style compact` capture.
HEX_HANDLER = (
    f"[C1.1 {HEX_V6}.49510 in_progress socket-flow (satisfied (Path is satisfied), interface: lo0)]"
)
HEX_START = f"nw_endpoint_handler_start {HEX_HANDLER}"
HEX_EVENT = f"{HEX_HANDLER} event: flow:start_connect @0.001s"


def message(text: str) -> dict:
    """The message grammar's fields for ``text``, as the pipeline extracts them."""
    return _extract("message", text)


def endpoint(text: str) -> dict:
    """The endpoint grammar's fields for ``text``, with ``host`` from whichever host capture."""
    row = _extract("endpoint", text)
    hosts = [value for name, value in row.items() if name.split("__")[0] == "host" and value]
    row["host"] = hosts[0] if hosts else None
    return row


def _extract(name: str, text: str) -> dict:
    frame = pl.LazyFrame({"text": [text]})
    parsed = grammar.load(name).extract(frame, pl.col("text"), into="p")
    (row,) = parsed.select("p").unnest("p").collect().to_dicts()
    return row


def compact_export(tmp_path: Path, *messages: str) -> Path:
    """A `log stream --style compact` export of ``messages`` from com.apple.network."""
    rows = [
        f"2021-03-02 10:15:{i:02d}.100 Df node[4242:1a2b] [com.apple.network:connection] {m}"
        for i, m in enumerate(messages)
    ]
    path = tmp_path / "compact.log"
    path.write_text("Timestamp               Ty Process[PID:TID]\n" + "\n".join(rows) + "\n")
    return path


# ---- 1. an address printed as its bytes in hex ---------------------------------------------


def test_hex_ipv6_handler_start_is_a_handler_descriptor() -> None:
    row = message(HEX_START)
    assert row["kind"] == "handler_note"
    assert row["function"] == "nw_endpoint_handler_start"
    assert row["conn_id"] == "C1.1"
    assert row["endpoint"] == f"{HEX_V6}.49510"
    assert (row["state"], row["mode"]) == ("in_progress", "socket-flow")
    assert row["path"] == "satisfied (Path is satisfied), interface: lo0"


def test_hex_ipv6_handler_event_keeps_its_event() -> None:
    row = message(HEX_EVENT)
    assert row["kind"] == "handler_event"
    assert (row["conn_id"], row["endpoint"]) == ("C1.1", f"{HEX_V6}.49510")
    assert (row["state"], row["mode"]) == ("in_progress", "socket-flow")
    assert (row["event"], row["elapsed"]) == ("flow:start_connect", "0.001")


def test_sixteen_hex_bytes_are_an_ipv6_endpoint() -> None:
    row = endpoint(f"{HEX_V6}.49510")
    assert row["kind"] == "ipv6"
    assert row["host__v6bytes"] == HEX_V6_BYTES
    assert row["port"] == "49510"


@pytest.mark.parametrize("text", ["'7f 00 00 01':8080", "'7f 00 00 01'.8080"])
def test_four_hex_bytes_are_an_ipv4_endpoint(text: str) -> None:
    row = endpoint(text)
    assert row["kind"] == "ipv4"
    assert (row["host__v4bytes"], row["port"]) == ("7f 00 00 01", "8080")


def test_hex_bytes_of_no_address_length_are_no_address() -> None:
    assert endpoint("'7f 00 01'.80")["kind"] is None


def test_hex_endpoint_reaches_the_events_table(tmp_path: Path) -> None:
    (row,) = logflow.read(compact_export(tmp_path, HEX_START)).collect().to_dicts()
    assert row["kind"] == "handler_note"
    assert row["function"] == "nw_endpoint_handler_start"
    assert (row["conn_id"], row["parent_id"]) == ("C1.1", "C1")
    assert row["endpoint"] == f"{HEX_V6}.49510"
    # logflow.events turns the bytes into the address.
    assert row["host"] in ("::1", HEX_V6_BYTES)
    assert row["port"] == 49510
    assert (row["state"], row["mode"], row["interface"]) == ("in_progress", "socket-flow", "lo0")


# ---- 2. <private> with a port, scoped endpoints ---------------------------------------------


@pytest.mark.parametrize("text", ["<private>:443", "<private>.443"])
def test_private_endpoint_keeps_its_port(text: str) -> None:
    row = endpoint(text)
    assert (row["host"], row["port"]) == ("<private>", "443")


def test_private_endpoint_without_port_is_a_host() -> None:
    row = endpoint("<private>")
    assert (row["kind"], row["host"], row["port"]) == ("host_only", "<private>", None)


def test_scoped_endpoint_names_its_interface() -> None:
    row = endpoint("IPv4#c9080d21:9123@en8")
    assert row["kind"] == "ipv4_hashed"
    assert (row["host"], row["port"], row["interface"]) == ("IPv4#c9080d21", "9123", "en8")


@pytest.mark.parametrize(
    ("text", "interface"),
    [("IPv4#c9080d21:9123@en0[802.11]", "en0"), ("Hostname#d518e96b:443@utun4[lte]", "utun4")],
)
def test_scope_with_interface_type_names_the_interface(text: str, interface: str) -> None:
    row = endpoint(text)
    assert row["port"] is not None
    assert row["interface"] == interface


def test_descriptor_carries_a_scope_with_interface_type() -> None:
    row = message(
        "[C1.1.1.1 IPv4#c9080d21:9123@en0[802.11] waiting path (unsatisfied (Interface type "
        "wifi is required by parameters), interface: en0[802.11], scoped, ipv4, dns)] "
        "event: path:unsatisfied @0.092s"
    )
    assert row["kind"] == "handler_event"
    assert (row["conn_id"], row["endpoint"]) == ("C1.1.1.1", "IPv4#c9080d21:9123@en0[802.11]")
    assert (row["state"], row["mode"], row["event"]) == ("waiting", "path", "path:unsatisfied")


def test_private_endpoint_in_a_descriptor(tmp_path: Path) -> None:
    text = "nw_endpoint_flow_x [C3.1 <private>.443 ready socket-flow (satisfied)] connected"
    (row,) = logflow.read(compact_export(tmp_path, text)).collect().to_dicts()
    assert (row["kind"], row["conn_id"], row["endpoint"]) == (
        "handler_note",
        "C3.1",
        "<private>.443",
    )
    assert (row["host"], row["port"], row["state"]) == ("<private>", 443, "ready")


# ---- 3. short descriptors, and descriptors no shape can split ------------------------------


def test_proxy_handler_short_descriptor_is_a_handler_note() -> None:
    row = message("nw_endpoint_proxy_handler_should_use_proxy [C12.1 proxy pac]")
    assert row["kind"] == "handler_note"
    assert row["function"] == "nw_endpoint_proxy_handler_should_use_proxy"
    assert (row["conn_id"], row["mode"], row["endpoint"], row["state"]) == (
        "C12.1",
        "proxy",
        None,
        None,
    )


@pytest.mark.parametrize(
    "text",
    [
        "nw_something [C8.1 an endpoint no shape knows (x)] some text",
        "nw_endpoint_flow_x [C8.1 <mask.hash: 'g8r1'> in_progress socket-flow (satisfied)] some text",
        "nw_x [C8.1 Hostname#1:443 ready socket-flow (a (b (c (d))))] deep path",
        "[C8.1 weird] event: flow:start_connect",
    ],
)
def test_descriptor_no_shape_splits_keeps_its_connection_id(text: str) -> None:
    row = message(text)
    assert row["kind"] == "conn_note"
    assert row["conn_id"] == "C8.1"
    assert row["function"] == (None if text.startswith("[") else text.split(" ", 1)[0])
    assert row["note"] == " " + text.split("] ", 1)[1]
    assert row["endpoint"] is None


def test_unsplit_descriptor_reaches_the_events_table(tmp_path: Path) -> None:
    text = "nw_something [C8.1 an endpoint no shape knows (x)] some text"
    (row,) = logflow.read(compact_export(tmp_path, text)).collect().to_dicts()
    assert (row["kind"], row["conn_id"], row["parent_id"]) == ("conn_note", "C8.1", "C8")
    assert row["function"] == "nw_something"
    assert row["event"] is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "[C4 D935AE40-57F8-4924-9BCC-AA9E2B8CE0B6 127.0.0.1:8000 tcp, definite] cancelled",
            "connection_params",
        ),
        ("[C3 host.example:443 tcp, definite] dealloc", "connection_params"),
        (
            "nw_flow_connected [C1.1 h:443 ready socket-flow (satisfied)] Output protocol connected (tls)",
            "handler_note",
        ),
        (
            "nw_socket_handle_socket_event [C2:2] Socket SO_ERROR [61: Connection refused]",
            "errno_report",
        ),
        (
            "nw_path_libinfo_path_check [8EA5DB47-E91C-4B92-844A-62BB86452E1E Hostname#950c7a8b:0 tcp, legacy-socket]",
            "path_evaluator",
        ),
    ],
)
def test_fallback_leaves_the_specific_shapes_their_lines(text: str, kind: str) -> None:
    assert message(text)["kind"] == kind


def test_only_lifecycle_verbs_make_a_connection_line() -> None:
    row = message("nw_x [C8.1 weird endpoint here] some text")
    assert (row["kind"], row["conn_id"], row["event"]) == ("conn_note", "C8.1", None)


def test_summary_block_first_line_is_no_message_of_its_own(tmp_path: Path) -> None:
    """Alone, `[C4 <uuid> local<->remote]` is the summary's leaf line, not a descriptor_note:
    it stays with its `cancelled` record."""
    leaf = "[C4 D935AE40-57F8-4924-9BCC-AA9E2B8CE0B6 127.0.0.1:49281<->127.0.0.1:8000]"
    assert message(leaf)["kind"] == "unknown"
    path = compact_export(
        tmp_path, "[C4 D935AE40-57F8-4924-9BCC-AA9E2B8CE0B6 127.0.0.1:8000 tcp, definite] cancelled"
    )
    path.write_text(path.read_text() + f"\t{leaf}\n\tDuration: 0.121s\n")
    (row,) = logflow.read(path).collect().to_dicts()
    assert (row["kind"], row["n_lines"]) == ("connection_params", 3)
    assert row["summary"]["leaf_id"] == "C4"


# ---- 4. Network function heads ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("quic_fsm_conn_change idle -> initial_sent", "quic_fsm_conn_change"),
        (
            "quic_tp_serialize_parameter active_connection_id_limit=64",
            "quic_tp_serialize_parameter",
        ),
        ("tcp_connection_is_cellular No connected path", "tcp_connection_is_cellular"),
        (
            "__nw_frame_claim Claiming bytes failed because start (18) is beyond end (0 - 0)",
            "__nw_frame_claim",
        ),
        (
            "____nwlog_simulate_crash_inner_block_invoke dlopen CrashReporterSupport failed",
            "____nwlog_simulate_crash_inner_block_invoke",
        ),
    ],
)
def test_network_function_heads_make_a_function_note(text: str, function: str) -> None:
    row = message(text)
    assert (row["kind"], row["function"], row["conn_id"]) == ("function_note", function, None)
    assert row["note"] == text.split(" ", 1)[1]


@pytest.mark.parametrize(
    ("text", "conn_id"),
    [
        ("tcp_connection_cancel 7", "7"),
        ("tcp_connection_start 3 starting", "3"),
        ("__tcp_connection_start_block_invoke 1 sending event TCP_CONNECTION_EVENT_CONNECTED", "1"),
        ("tcp_connection_start 3 setsockopt failed [42] Protocol not available", "3"),
    ],
)
def test_numbered_tcp_connection_stays_legacy_numbered(text: str, conn_id: str) -> None:
    row = message(text)
    assert (row["kind"], row["conn_id__old"]) == ("legacy_numbered", conn_id)
    assert row["function__legacy"] == text.split(" ", 1)[0]


def test_quic_function_before_a_descriptor_is_its_function() -> None:
    row = message("quic_x [C1.1.1.1 IPv4#65424f8e:443 ready channel-flow (satisfied)] migrated")
    assert (row["kind"], row["function"], row["conn_id"]) == ("handler_note", "quic_x", "C1.1.1.1")


@needs_corpus
def test_quic_fsm_paste_has_function_notes() -> None:
    events = parse_corpus("114").events().collect()
    quic = events.filter(pl.col("function").str.starts_with("quic_"))
    assert quic.height == 9
    assert set(quic["kind"]) == {"function_note"}
    assert "quic_fsm_conn_change" in set(quic["function"])
    flow = events.filter(pl.col("function") == "nw_protocol_instance_access_flow_state")
    assert set(flow["conn_id"]) == {"C8.1.1"}


@needs_corpus
def test_cellular_no_path_paste_keeps_its_connections() -> None:
    events = parse_corpus("106").events().collect()
    cellular = events.filter(pl.col("function") == "tcp_connection_is_cellular")
    assert cellular.height == 2
    assert set(cellular["kind"]) == {"function_note"}
    copied = events.filter(pl.col("function") == "nw_connection_copy_connected_path")
    assert copied["conn_id"].to_list() == ["C1", "C2"]


# ---- Lark agrees on every line above ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("message", HEX_START),
        ("message", HEX_EVENT),
        ("message", "nw_endpoint_proxy_handler_should_use_proxy [C12.1 proxy pac]"),
        ("message", "nw_something [C8.1 an endpoint no shape knows (x)] some text"),
        ("message", "tcp_connection_start 3 setsockopt failed [42] Protocol not available"),
        ("endpoint", f"{HEX_V6}.49510"),
        ("endpoint", "'7f 00 00 01'.8080"),
        ("endpoint", "<private>.443"),
        ("endpoint", "IPv4#c9080d21:9123@en0[802.11]"),
    ],
)
def test_lark_agrees(name: str, text: str) -> None:
    assert _extract(name, text) == grammar.load(name).parse_with_lark(text)
