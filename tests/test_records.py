"""Which lines make one record, and what a record's fields come from."""

from __future__ import annotations

import polars as pl
import pytest

from logflow.pipeline import Parsed, parse_texts
from logflow.reading import grammar
from logflow.reading.inputs import Block, Text
from logflow.reading.records import (
    CLOSING_SHAPES,
    ENVELOPE_OF_SHAPE,
    FIELD_SHAPES,
    FOUND_SHAPES,
    FRAME_SHAPES,
    ROW_SHAPES,
    record_chunks,
)
from logflow.schema import ENVELOPES, KINDS

LOGSHOW = "2025-03-14 10:32:35.730305+0100 0x1c4a2    Default     0x0                  2317   0    Weather: (Network) [com.apple.network:connection] "
SUMMARY = [
    "\t[C8.1.1 2C84E5B9-7A03-4F6D-B1E8-5D9A0C3F7E24 192.168.1.20:57412<->IPv4#a0c4f19e:443]",
    "\tConnected Path: satisfied (Path is satisfied), viable, interface: en0[802.11], ipv4, dns",
    "\tDuration: 30.318s, DNS @0.001s took 0.018s, TCP @0.020s took 0.123s, TLS 1.3 took 0.062s",
    "\tbytes in/out: 48213/2714, packets in/out: 41/14, rtt: 0.037s, retransmitted bytes: 0, out-of-order bytes: 0",
]
CANCELLED = "[C8 6F1D2A40-93B7-4C1E-8A52-0D7E4F3B9C61 Hostname#5c1e07a3:443 tcp, url hash: 1f2e3d4c, tls, definite, attribution: developer] cancelled"


def parse_lines(*lines: str) -> Parsed:
    return parse_texts([Text("paste.log", "\n".join(lines) + "\n", 0)])


def spans(parsed: Parsed) -> list[tuple[int, int, str]]:
    records = parsed.records.select("line_no", "n_lines", pl.col("kind").cast(pl.String))
    return [tuple(r) for r in records.rows()]


def test_console_key_value_block_keeps_its_summary_block() -> None:
    """A key/value block whose message is a cancelled line keeps the summary under it."""
    parsed = parse_lines(
        "type: default",
        "time: 09:14:02.118406+0200",
        "process: TidePool",
        "subsystem: com.apple.network",
        "category: connection",
        f"message: {CANCELLED}",
        *SUMMARY,
    )
    assert spans(parsed) == [(1, 10, "connection_params")]
    record = parsed.records.row(0, named=True)
    assert record["process"] == "TidePool"
    assert record["summary"]["bytes_in"] == 48213


def test_network_message_pasted_under_an_export_is_its_own_record() -> None:
    """Below a log show row, prose continues it but a Network message starts a record."""
    parsed = parse_lines(
        LOGSHOW + "nw_connection_report_state_with_handler_on_nw_queue [C8] reporting state ready",
        "and then the app printed this",
        "nw_socket_handle_socket_event [C1.1.1:1] Socket SO_ERROR [61: Connection refused]",
    )
    assert spans(parsed) == [(1, 2, "state_report"), (3, 1, "errno_report")]


def test_xcode15_record_runs_to_its_metadata_line() -> None:
    """An Xcode 15 message that wraps over lines is one record, closed by its metadata line."""
    parsed = parse_lines(
        "Task <E07A5C3B-9D14-4B6E-A2F8-61C0D95E3B7A>.<4> finished with error [-1004] Error Domain=NSURLErrorDomain Code=-1004 UserInfo={",
        "NSErrorFailingURLKey=http://localhost:8000/,",
        "_kCFStreamErrorCodeKey=61}",
        "Type: Error | Timestamp: 2025-09-03 08:41:17.304805+09:00 | Process: Wayfarer | Library: CFNetwork | Subsystem: com.apple.CFNetwork | Category: Summary | TID: 0x2c1f4",
        "nw_socket_handle_socket_event [C1.1.1:1] Socket SO_ERROR [61: Connection refused]",
        "Type: Error | Timestamp: 2025-09-03 08:41:17.304905+09:00 | Process: Wayfarer | Library: Network | Subsystem: com.apple.network | Category: connection | TID: 0x2c1f4",
    )
    assert spans(parsed) == [(1, 4, "cfnetwork_task"), (5, 2, "errno_report")]
    first = parsed.records.row(0, named=True)
    assert (first["level"], first["process"], first["envelope"]) == (
        "Error",
        "Wayfarer",
        "xcode_metadata",
    )


def test_quoted_summary_block_is_read() -> None:
    """A summary block pasted inside a markdown quote still gives its figures."""
    parsed = parse_lines("> " + LOGSHOW + CANCELLED, *(f"> {line}" for line in SUMMARY))
    (record,) = parsed.records.to_dicts()
    assert record["n_lines"] == 5
    assert record["summary"]["leaf_id"] == "C8.1.1"
    assert record["summary"]["tls_s"] == 0.062


def test_fields_come_from_the_first_line_not_from_continuations() -> None:
    """A metadata line glued under a compact row does not change the row's time or envelope."""
    parsed = parse_lines(
        "2023-09-19 11:07:49.206 Df DetoxApp[39942:2260c0] [com.apple.network:connection] nw_endpoint_flow_setup_protocols [C10 127.0.0.1:9088 in_progress parent-flow (satisfied (Path is satisfied), interface: lo0)] already set up",
        "    a continuation line",
    )
    record = parsed.records.row(0, named=True)
    assert (record["n_lines"], record["envelope"], record["utc_offset"]) == (2, "compact", None)


def test_relay_with_device_name_and_spaced_process() -> None:
    """idevicesyslog's `iPhone My App(Network)[2147] <Notice>:` keeps the whole process name."""
    parsed = parse_lines(
        "Feb 29 09:21:10 iPhone My App(Network)[2147] <Notice>: [C1.1.1 IPv4#93eca9fc:443 ready channel-flow (satisfied (Path is satisfied), viable, interface: en0)] event: flow:finish_connect @0.120s"
    )
    record = parsed.records.row(0, named=True)
    assert (record["process"], record["pid"], record["conn_id"]) == ("My App", 2147, "C1.1.1")
    assert record["ts"].isoformat() == "2000-02-29T09:21:10+00:00"


@pytest.mark.parametrize(
    "line",
    [
        "nw_socket_handle_socket_event [C1:2] Socket SO_ERROR [99999999999: Unknown error]",
        "[C1 host:99999999999 ready socket-flow (satisfied)] event: flow:finish_connect @0.1s",
        "nw_socket_handle_socket_event [C1:2] Socket SO_ERROR [٦١: Connection refused]",
        '{"timestamp":"2025-06-24 14:32:57.470977+0300","processID":"twelve","subsystem":"com.apple.network","eventMessage":null}',
        '{"timestamp": "2025-06-24 14:32:57',
    ],
)
def test_odd_values_never_raise(line: str) -> None:
    """Numbers too big for their column, foreign digits and odd JSON give nulls, not crashes."""
    parsed = parse_lines(line)
    assert parsed.records["kind"].null_count() == 0


def test_broken_json_object_is_unparsed() -> None:
    """An ndjson line cut short is reported unparsed, with the reason."""
    parsed = parse_lines('{"timestamp": "2025-06-24 14:32:57.470977+0300", "eventMessage": "x"')
    record = parsed.records.row(0, named=True)
    assert (record["kind"], record["problem"]) == ("unparsed", "not valid JSON")


def test_every_record_has_one_known_kind() -> None:
    """Across all samples, kinds are never null and always one of the documented kinds."""
    from conftest import sample_files

    texts = [Text(p.name, p.read_text(encoding="utf-8"), 0) for p in sample_files()]
    kinds = parse_texts(texts).records["kind"].cast(pl.String)
    assert kinds.null_count() == 0
    assert set(kinds) <= set(KINDS)


def test_shape_lists_name_real_shapes() -> None:
    """Every shape the record rules name exists in envelope.lark, and maps to an envelope."""
    shapes = set(grammar.load("envelope").kinds)
    named = {*ROW_SHAPES, *FRAME_SHAPES, *FIELD_SHAPES, *CLOSING_SHAPES} - {*FOUND_SHAPES}
    assert named <= shapes
    assert set(ENVELOPE_OF_SHAPE) <= shapes | {*FOUND_SHAPES}
    assert set(ENVELOPE_OF_SHAPE.values()) <= set(ENVELOPES)


def test_a_paste_with_no_cut_point_is_searched_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks that hold no line a record can start at are carried into the next block, and
    each line is shaped once however many blocks it is carried through (it was shaped again
    in every block, which took minutes on a paste of 40,000 lines in small blocks)."""
    shaped = []
    match = grammar.CompiledGrammar.match

    def counted(self: grammar.CompiledGrammar, lines: pl.Series) -> pl.Series:
        shaped.append(lines.len())
        return match(self, lines)

    monkeypatch.setattr(grammar.CompiledGrammar, "match", counted)
    lines = pl.Series(["0"] * 2000)
    blocks = [
        Block("paste.log", 1 + at, lines[at : at + 8], last=at + 8 >= lines.len())
        for at in range(0, lines.len(), 8)
    ]
    chunks = list(record_chunks(blocks))
    assert [chunk.lines.len() for chunk in chunks] == [2000]
    assert sum(shaped) < 2 * 2000
