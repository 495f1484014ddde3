"""What a reader of the real pastes in ../shared/corpus sees, logflow finds."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from conftest import needs_corpus, parse_corpus

pytestmark = needs_corpus


def events_of(prefix: str) -> pl.DataFrame:
    """All records of the corpus file whose name starts with ``prefix``."""
    return parse_corpus(prefix).records


def row(events: pl.DataFrame, **where: object) -> dict:
    (found,) = events.filter(**where).to_dicts()
    return found


def test_console_key_value_blocks_are_one_event_each() -> None:
    """064: each six-line Console key/value block is one Debug event of C8.1.1 or C8.1.2."""
    events = events_of("064")
    assert events.select("line_no", "n_lines", "conn_id").rows() == [
        (1, 6, "C8.1.1"),
        (7, 6, "C8.1.2"),
    ]
    first = events.row(0, named=True)
    assert first["process"] == "TestAlsoRanConnections"
    assert first["level"] == "Debug"
    assert first["function"] == "nw_socket_connect"
    assert first["instance"] == 1
    assert first["parent_id"] == "C8.1"
    # Console prints no date: the time of day lands on 1970-01-01, the offset is kept.
    assert first["ts"] == datetime(1970, 1, 1, 11, 22, 26, 825331, tzinfo=timezone.utc)
    assert first["utc_offset"] == "+0100"


def test_cancelled_summary_block_stays_with_its_connection() -> None:
    """017: the `cancelled` line and its six tab-indented lines are one record of C4."""
    record = events_of("017").row(0, named=True)
    assert (record["n_lines"], record["kind"], record["conn_id"]) == (7, "connection_params", "C4")
    assert (record["host"], record["port"], record["event"]) == ("127.0.0.1", 8000, "cancelled")
    assert record["summary"]["leaf_id"] == "C4"
    assert record["summary"]["bytes_in"] == 111
    assert record["summary"]["bytes_out"] == 85518
    assert record["summary"]["tcp_s"] == 0.001


def test_unindented_summary_block_in_a_console_copy() -> None:
    """063: a Console copy lost the tabs of the summary block; it still belongs to C2."""
    record = row(events_of("063"), event="cancelled")
    assert (record["conn_id"], record["n_lines"]) == ("C2", 6)
    assert record["summary"]["quic_s"] == 0.0
    assert record["summary"]["tls_version"] == "1.3"
    proxy = row(events_of("063"), function="nw_endpoint_proxy_receive_report")
    assert (proxy["conn_id"], proxy["mode"], proxy["state"]) == ("C1.1", "proxy", "in_progress")


def test_2016_ids_without_c_are_normalised() -> None:
    """009: Xcode 8's `[1.1 ::1.8081 ready socket-flow (satisfied)]` is C1.1 on ::1 port 8081."""
    record = row(events_of("009"), line_no=2)
    assert record["conn_id"] == "C1.1"
    assert (record["host"], record["port"]) == ("::1", 8081)
    assert (record["state"], record["mode"], record["path_status"]) == (
        "ready",
        "socket-flow",
        "satisfied",
    )
    assert record["event"] == "flow:finish_connect"
    assert record["utc_offset"] is None


def test_ios13_elapsed_events() -> None:
    """047: `0.024s [C8741.1 <private> a<->b channel-flow] path:start` keeps time and remote end."""
    record = row(events_of("047"), line_no=6)
    assert (record["conn_id"], record["elapsed_s"], record["event"]) == (
        "C8741.1",
        0.024,
        "path:start",
    )
    assert record["endpoint"] == "IPv4#28e2b51a:443"


def test_xcode15_metadata_line_supplies_the_envelope() -> None:
    """022: the `Type: Error | Timestamp: ... | TID:` line under a message is its envelope."""
    record = events_of("022").row(0, named=True)
    assert (record["n_lines"], record["envelope"], record["level"]) == (
        2,
        "xcode_metadata",
        "Error",
    )
    assert record["ts"] == datetime(2026, 1, 13, 2, 27, 56, 482798, tzinfo=timezone.utc)
    assert record["tid"] == 0xB1F10
    assert (record["conn_id"], record["error_code"]) == ("C1", 102)


def test_scoped_endpoint_and_unsatisfied_path() -> None:
    """024: an OSLogStore dump of `IPv4#c9080d21:9123@en8` waiting on an unsatisfied path."""
    record = row(events_of("024"), line_no=2)
    assert (record["host"], record["port"], record["interface"]) == ("IPv4#c9080d21", 9123, "en8")
    assert (record["path_status"], record["event"]) == ("unsatisfied", "path:unsatisfied")


def test_device_relay_envelope() -> None:
    """040: idevicesyslog's `App(Network)[2146] <Notice>:` gives process, sender, pid, level."""
    record = events_of("040").row(0, named=True)
    assert (record["process"], record["sender"], record["pid"]) == ("App", "Network", 2146)
    assert record["level"] == "Default"
    assert (record["conn_id"], record["state"]) == ("C3.1.1.1", "ready")


def test_ndjson_records() -> None:
    """021: ndjson records give their subsystem, level and the socket error of C3103.1.1."""
    events = events_of("021")
    refused = row(events, conn_id="C3103.1.1")
    assert (refused["level"], refused["error_code"], refused["error"]) == (
        "Error",
        61,
        "Connection refused",
    )
    assert refused["subsystem"] == "com.apple.network"
    dealloc = row(events, event="dealloc")
    assert (dealloc["conn_id"], dealloc["port"]) == ("C2430", 63995)


@pytest.mark.parametrize(
    ("prefix", "line_no", "conn_id"),
    [
        ("011", 1, "C1"),  # markdown `> ` quote
        ("051", 6, "C3"),  # flutter `[DEVICE LOG]`, CFNetwork `now using Connection 3`
        ("013", 2, "C5.1.2"),  # expo's `[Network]` prefix
        ("028", 9, "C1.1.1"),  # indented under app lines
        ("037", 8, "C5"),  # several messages run together on one line
    ],
)
def test_wrapped_lines_are_unwrapped(prefix: str, line_no: int, conn_id: str) -> None:
    """Pasted wrappers do not hide the Network message inside them."""
    assert row(events_of(prefix), line_no=line_no)["conn_id"] == conn_id


def test_other_apps_lines_are_not_network_events() -> None:
    """004: a Console copy's UIKit and audio rows are other records, its Network rows events."""
    kinds = events_of("004")["kind"].cast(pl.String)
    assert (kinds == "other").sum() > 50
    assert (kinds == "handler_event").sum() > 20
