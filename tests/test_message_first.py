"""The message decides, not the envelope: a Network message is found whatever stands before it."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logflow.outputs.report import Report
from logflow.pipeline import Parsed, parse_texts
from logflow.reading.inputs import Text
from logflow.schema import NETWORK_KINDS

from conftest import corpus_body, corpus_files, needs_corpus, parse_corpus

KNOWN = ("logshow", "compact", "syslog", "xcode", "relay", "console")
MESSAGE_FIELDS = ["conn_id", "function", "kind", "message"]


def parse_lines(lines: list[str]) -> Parsed:
    return parse_texts([Text("paste.log", "\n".join(lines) + "\n", 0)])


def first_record(lines: list[str]) -> dict:
    return (
        parse_lines(lines).records.select(*MESSAGE_FIELDS, "envelope", "n_lines").row(0, named=True)
    )


def _network_lines() -> list[tuple[str, str, dict]]:
    """(the line, its message, its message fields) of every one-line Network event with a
    connection id that a known envelope carries in the real corpus."""
    found = []
    for path in corpus_files():
        lines = corpus_body(path)
        records = parse_lines(lines).records.filter(
            pl.col("envelope").cast(pl.String).is_in(KNOWN)
            & pl.col("kind").cast(pl.String).is_in(NETWORK_KINDS)
            & pl.col("conn_id").is_not_null()
            & (pl.col("n_lines") == 1)
        )
        for row in records.select("line_no", *MESSAGE_FIELDS).to_dicts():
            line = lines[row.pop("line_no") - 1]
            found.append((line, row["message"], row))
    return found


NETWORK_LINES = _network_lines()
# Arbitrary printable junk that holds no Network function or descriptor: no `[`, `_` or `<`;
# nor a backtick, which may open a code span that quotes the message (see below).
JUNK = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="[_<`\n\r"
    ),
    max_size=40,
)
STAMPS = ["", "2024-12-12 21:45:11.830877+0100 ", "21:45:11.830 ", "2019-07-21T19:57:30.042Z "]
LEVELS = ["", "Default ", "default ", "DEBUG ", "Df ", "E  ", "<Notice>: ", "Info "]
PROCESSES = ["", "Weather[2317:1a2b] ", "My App(Network)[2146] ", "banshee: ", "nscurl[62822]: "]
SOURCES = ["", "(Network) ", "[com.apple.network:connection] ", "[BoringSSL] ", "[] "]


@needs_corpus
@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(NETWORK_LINES or [("", "", {})]),
    JUNK,
    st.sampled_from(STAMPS),
    st.sampled_from(LEVELS),
    st.sampled_from(PROCESSES),
    st.sampled_from(SOURCES),
)
def test_a_message_behind_any_envelope_reads_the_same(
    line: tuple[str, str, dict], junk: str, stamp: str, level: str, process: str, source: str
) -> None:
    """A real Network message behind junk and any fragments of an envelope gives the same
    connection, function, kind and message as behind its own envelope."""
    _, message, fields = line
    pasted = f"{junk} {stamp}{level}{process}{source}{message}".lstrip()
    record = first_record([pasted])
    assert {name: record[name] for name in MESSAGE_FIELDS} == fields


LEVEL_SPELLINGS = {
    # `log show` prints one spelling of each level; Console and relays print others.
    " Default     ": [" Info        ", " Notice      ", " Error       "],
    " Df ": [" I  ", " E  ", " Db "],
    "<Notice>": ["<notice>", "<NOTICE>", "<Info>", "<Error>"],
    "default\t": ["Default\t", "DEFAULT\t", "error\t", "Fault\t"],
}


@needs_corpus
@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NETWORK_LINES or [("", "", {})]), st.data())
def test_a_level_in_any_spelling_keeps_the_envelope(
    line: tuple[str, str, dict], data: st.DataObject
) -> None:
    """Changing how a known envelope spells its level changes neither the envelope nor the
    message fields."""
    text, _, fields = line
    spellings = [(was, now) for was, nows in LEVEL_SPELLINGS.items() if was in text for now in nows]
    if not spellings:
        return
    was, now = data.draw(st.sampled_from(spellings))
    before, after = first_record([text]), first_record([text.replace(was, now, 1)])
    assert {name: after[name] for name in MESSAGE_FIELDS} == fields
    assert after["envelope"] == before["envelope"]


def _multi_line_records() -> list[list[str]]:
    """The lines of every real record that spans lines and starts with a Network message."""
    found = []
    for path in corpus_files():
        lines = corpus_body(path)
        records = parse_lines(lines).records.filter(
            (pl.col("n_lines") > 1)
            & pl.col("kind").cast(pl.String).is_in(NETWORK_KINDS)
            # Xcode 15's metadata line closes its record: it is an envelope of its own.
            & (pl.col("envelope") != "xcode_metadata")
        )
        for start, n, message in records.select("line_no", "n_lines", "message").iter_rows():
            head = message.split("\n", 1)[0]
            found.append([head, *lines[start : start - 1 + n]])
    return found


MULTI_LINE = _multi_line_records()


@needs_corpus
@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(MULTI_LINE or [["x"]]),
    st.sampled_from(["2024-12-12 21:45:11.830877+0100 banshee: ", "Oct 11 09:21:10.123 App "]),
    JUNK.map(lambda junk: junk.strip()),
)
def test_summary_blocks_and_error_dumps_stay_one_record(
    record: list[str], stamp: str, junk: str
) -> None:
    """A summary block, a backtrace or an NSError dump under a Network message behind an
    envelope nobody knows stays one record with it, lines below it untouched."""
    head, *more = record
    lines = [f"{junk} {stamp}{head}".lstrip(), *more, "2024-12-12 21:45:12.0 App: after it"]
    records = parse_lines(lines).records
    assert records["n_lines"].to_list()[:1] == [len(record)]
    assert records["envelope"].cast(pl.String).to_list()[:1] == ["unknown"]


def test_the_boringssl_category_of_xcode_10_is_a_category() -> None:
    """Xcode 10's `[BoringSSL]` is a category: the row stays an Xcode row, the message a
    boringssl line of its connection (corpus 118)."""
    line = (
        "2018-09-09 21:20:32.669103-0300 Fuelzee Dev[39625:370742] [BoringSSL] "
        "boringssl_session_errorlog(224) [C11.1:2][0x7fd9987a3a20] [boringssl_session_read] "
        "SSL_ERROR_SSL(1): operation failed within the library"
    )
    events = parse_lines([line]).events().collect()
    assert events.select("envelope", "process", "category", "conn_id", "function").row(0) == (
        "xcode",
        "Fuelzee Dev",
        "BoringSSL",
        "C11.1",
        "boringssl_session_errorlog",
    )


def test_a_trimmed_log_show_row_is_read_for_what_it_holds() -> None:
    """A `log show` row pasted without its thread, type and activity columns is a Network
    event of an unknown envelope that keeps the time, process, sender and subsystem."""
    line = (
        "2024-12-12 21:45:11.830877+0100 banshee: (Network) [com.apple.network:connection] "
        "[C1 Hostname#1e4f17b5:443 initial parent-flow ((null))] event: path:start @0.000s"
    )
    parsed = parse_lines([line])
    event = parsed.events().collect().row(0, named=True)
    assert event["envelope"] == "unknown"
    assert (
        event["prefix"]
        == "2024-12-12 21:45:11.830877+0100 banshee: (Network) [com.apple.network:connection]"
    )
    assert event["message"].startswith("[C1 Hostname#1e4f17b5:443 initial")
    assert (event["process"], event["sender"], event["subsystem"], event["category"]) == (
        "banshee",
        "Network",
        "com.apple.network",
        "connection",
    )
    assert event["ts"].isoformat() == "2024-12-12T20:45:11.830877+00:00"
    assert (event["kind"], event["conn_id"], event["event"]) == (
        "handler_event",
        "C1",
        "path:start",
    )


def test_a_prefix_of_junk_is_kept_and_read() -> None:
    """Before a message, text that is no envelope is kept in `prefix`; what it plainly holds
    (a level, `Process[pid:tid]`, a category) fills the fields."""
    line = "app_1  | 12:01:02.345 E Nero[2814:34333] [BoringSSL] nw_socket_handle_socket_event [C2034.1:1] Socket SO_ERROR [61: Connection refused]"
    event = parse_lines([line]).events().collect().row(0, named=True)
    assert event["prefix"] == "app_1  | 12:01:02.345 E Nero[2814:34333] [BoringSSL]"
    assert (event["level"], event["process"], event["pid"], event["tid"], event["category"]) == (
        "Error",
        "Nero",
        2814,
        34333,
        "BoringSSL",
    )
    assert (event["kind"], event["conn_id"], event["error_code"]) == ("errno_report", "C2034.1", 61)


@pytest.mark.parametrize(
    "wrapped",
    [
        "`nw_socket_handle_socket_event [C2:2] Socket SO_ERROR [61: Connection refused]`",
        "Line 12: nw_socket_handle_socket_event [C2:2] Socket SO_ERROR [61: Connection refused]",
        "> > nw_socket_handle_socket_event [C2:2] Socket SO_ERROR [61: Connection refused]",
    ],
)
def test_wrapping_noise_is_stripped(wrapped: str) -> None:
    """Backticks, an editor's `Line 12:` and quote marks are noise, not an envelope."""
    event = parse_lines([wrapped]).events().collect().row(0, named=True)
    assert (event["envelope"], event["prefix"], event["conn_id"], event["error"]) == (
        "bare",
        None,
        "C2",
        "Connection refused",
    )


@pytest.mark.parametrize(
    "prose",
    [
        "The id is in `[C8.1.1 <uuid> 192.168.0.25:53756<->216.58.215.46:443]`, as logged.",
        "`interface`, `proxy_kind` (`pac` in `[C12.1 proxy pac]`, `masque` from a relay's",
        "| `errno_report` | `nw_socket_handle_socket_event [C121.1.1:1] Socket SO_ERROR [61: ...]` |",
        "| Xcode 8 | `2016-10-17 09:11:08.524946 App[15547:200638] [] nw_… [3.1 ::1.8097 initial]` |",
    ],
)
def test_a_message_quoted_in_prose_is_not_an_event(prose: str) -> None:
    """A README or an issue that quotes a message in inline code, after its own words, has
    logged nothing: the line is another record, not a connection's event."""
    records = parse_lines(["Some notes:", prose]).records
    assert records["kind"].cast(pl.String).to_list() == ["other", "other"]


def test_text_that_only_mentions_a_function_is_not_a_message() -> None:
    """A function name inside a word starts no message."""
    records = parse_lines(["xnw_socket is fine", "libnw_socket_handle_socket_event too"])
    assert records.records["kind"].cast(pl.String).to_list() == ["other", "other"]


def test_the_report_counts_unknown_envelopes() -> None:
    """The report says how many Network events came with an unknown envelope, with examples,
    and the one-line account says so."""
    report = Report.of(
        parse_lines(
            [
                "2024-12-12 21:45:11.830877+0100 banshee: [C8] reporting state ready",
                "nw_socket_handle_socket_event [C2:2] Socket SO_ERROR [61: Connection refused]",
            ]
        )
    )
    assert report.unknown_envelopes["count"] == 1
    assert report.unknown_envelopes["examples"] == [
        {"source": "paste.log", "line_no": 1, "prefix": "2024-12-12 21:45:11.830877+0100 banshee:"}
    ]
    assert "1 with an unknown envelope" in report.account()


@needs_corpus
def test_boringssl_lines_of_2018_belong_to_their_connections() -> None:
    """Corpus 118 and 119: every `[BoringSSL]` line is an event of its connection."""
    for prefix, ids in (("118", ["C11.1", "C11.1", "C11.1", "C12.1"]), ("119", ["C24.1", "C24.1"])):
        events = parse_corpus(prefix).events().collect()
        boringssl = events.filter(pl.col("category") == "BoringSSL")
        assert boringssl["conn_id"].to_list() == ids


@pytest.mark.parametrize(
    ("line", "conn_id"),
    [
        # A function glued to the character before it, in a blog or a chat.
        (
            "错误日志：nw_socket_handle_socket_event [C2:1] Socket SO_ERROR [61: Connection refused]",
            "C2",
        ),
        ("✅nw_socket_connect [C8.1.1:1] Calling connectx(…)", "C8.1.1"),
        # Non-breaking spaces where the log had spaces.
        (
            "nw_socket_handle_socket_event\xa0[C2:1]\xa0Socket SO_ERROR [61: Connection refused]",
            "C2",
        ),
        # Metro's indented level column.
        (
            " LOG  nw_endpoint_flow_failed_with_error [C4.1.1 ::1.8081 in_progress socket-flow (satisfied)] already failing, returning",
            "C4.1.1",
        ),
        # A line cut inside its descriptor.
        (
            "nw_endpoint_flow_failed_with_error [C4.1.1 2607:f8b0:4020:802::200e.443 in_progress channel-flow (satisfied (Path is sat…",
            "C4.1.1",
        ),
        ("nw_socket_handle_socket_event [C2:1", "C2"),
        # A file:line tag is no subsystem.
        (
            "14:02:11.204 [NetworkManager.swift:42] nw_socket_handle_socket_event [C2:1] Socket SO_ERROR [61: Connection refused]",
            "C2",
        ),
    ],
)
def test_a_message_is_found_in_lines_real_users_paste(line: str, conn_id: str) -> None:
    """Lines as people paste them into chats, blogs and CI logs are events of their connection."""
    events = parse_lines(["Console:", line]).events().collect()
    assert events["conn_id"].to_list() == [conn_id]
