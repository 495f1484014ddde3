"""Outcomes and errors as a network engineer reading the log would give them.

Each rule is proved on the real paste that has it (../shared/corpus) and on
sample_logs/logshow-failures-and-losses.log, modelled on real lines where no paste has it.
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from click.testing import CliRunner

from logflow.analysis import tree
from logflow.cli import cli
from logflow.pipeline import Parsed, parse, parse_texts
from logflow.reading.inputs import Text

from conftest import ROOT, SAMPLES, needs_corpus, parse_corpus

SAMPLE = SAMPLES / "logshow-failures-and-losses.log"


@pytest.fixture(scope="module")
def losses() -> dict[str, dict]:
    return by_id(parse(SAMPLE))


def by_id(parsed: Parsed) -> dict[str, dict]:
    return {row["conn_id"]: row for row in parsed.connections().collect().iter_rows(named=True)}


def test_readme_outcome_table_is_the_codes() -> None:
    """The README's outcome table lists the outcomes the code gives, in its order, with the
    evidence the code documents for each."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| outcome | evidence |") :].split("\n\n")[0].splitlines()[2:]
    rows = [re.fullmatch(r"\| `([a-z-]+)` \| (.+) \|", line).groups() for line in table]
    assert rows == list(tree.OUTCOMES.items())


def test_connectx_refused_by_policy_fails_with_eperm(losses) -> None:
    """`nw_socket_connect [C3.1.1:1] connectx failed (fd 15) [1: Operation not permitted]`."""
    attempt = losses["C3.1.1"]
    assert (attempt["outcome"], attempt["error_code"], attempt["error_name"]) == (
        "failed",
        1,
        "EPERM",
    )
    assert losses["C3"]["outcome"] == "failed"


def test_cfnetwork_decodes_its_code_in_its_domain(losses) -> None:
    """`Connection 4: failed to connect 12:8`: getaddrinfo's EAI_NONAME, not errno 8 (ENOEXEC),
    on the connection CFNetwork names, where Network logged no error."""
    c4 = losses["C4"]
    assert (c4["outcome"], c4["error_domain"], c4["error_code"]) == ("failed", 12, 8)
    assert c4["error_name"] == "EAI_NONAME"
    assert c4["error"] == "nodename nor servname provided, or not known"


def test_cfnetwork_error_does_not_depend_on_keep_other() -> None:
    """CFNetwork's lines are other records, yet the answer is the same without them kept."""
    kept = by_id(parse(SAMPLE, keep_other=True))["C4"]
    assert by_id(parse(SAMPLE, keep_other=False))["C4"] == kept


def test_a_reset_connection_that_worked_is_dropped(losses) -> None:
    """Ready, then `Receive failed with error "Connection reset by peer"` and `reporting state
    failed`: it worked, then was lost; the errors are counted on it."""
    c5 = losses["C5"]
    assert c5["outcome"] == "dropped"
    assert (c5["n_errors"], c5["last_error_code"]) == (2, 54)
    assert c5["last_error"] == "Connection reset by peer"


def test_tcp_close_ends_a_flow(losses) -> None:
    """`tcp_close [C6.1.1.1:3] TCP Packets:` with its packet lines ends the flow: completed,
    not open, and the whole tree with it."""
    assert {k: losses[k]["outcome"] for k in ("C6", "C6.1.1.1")} == {
        "C6": "completed",
        "C6.1.1.1": "completed",
    }


def test_a_summary_longer_than_the_capture_gives_the_duration(losses) -> None:
    """C7's block says `Duration: 120.209s`; its lines span 2 s: it began before the capture."""
    c7 = losses["C7"]
    assert (c7["duration_s"], c7["started_before_capture"]) == (120.209, True)
    assert losses["C5"]["started_before_capture"] is False


def test_started_never_ready_is_connecting_and_no_route_is_waiting(losses) -> None:
    assert losses["C8"]["outcome"] == losses["C8.1.1"]["outcome"] == "connecting"
    c9 = losses["C9"]
    assert (c9["outcome"], c9["path_status"], c9["path_reason"]) == (
        "waiting",
        "unsatisfied",
        "No network route",
    )


@needs_corpus
def test_reset_answering_the_syn_is_a_refusal() -> None:
    """107: `tcp_input [C1.1.1:2] flags=[R.] ... state=SYN_SENT` is ECONNREFUSED; CFNetwork's
    `Connection 1: failed to connect 1:61` gives C1 its error."""
    found = by_id(parse_corpus("107"))
    assert (found["C1.1.1"]["outcome"], found["C1.1.1"]["error_name"]) == ("failed", "ECONNREFUSED")
    assert (found["C1"]["outcome"], found["C1"]["error_code"]) == ("failed", 61)


@needs_corpus
@pytest.mark.parametrize(
    ("prefix", "conn_id", "n_errors", "last_error"),
    [
        ("029", "C2", 3, "Operation timed out"),
        ("040", "C3", 2, "Socket is not connected"),
        ("055", "C1", 1, "Operation timed out"),
    ],
)
def test_reads_that_time_out_or_find_no_socket_drop_the_connection(
    prefix: str, conn_id: str, n_errors: int, last_error: str
) -> None:
    """029, 040, 055: a read that fails so is on a connection that worked and was lost."""
    conn = by_id(parse_corpus(prefix))[conn_id]
    assert (conn["outcome"], conn["n_errors"], conn["last_error"]) == (
        "dropped",
        n_errors,
        last_error,
    )


@needs_corpus
def test_a_tls_handshake_failure_fails_the_attempt() -> None:
    """118: `boringssl_session_handshake_error_print ... SSL_HANDSHAKE_FAILURE`."""
    attempt = by_id(parse_corpus("118"))["C11.1"]
    assert (attempt["outcome"], attempt["error"]) == ("failed", "SSL_HANDSHAKE_FAILURE")
    assert attempt["n_errors"] == 3


@needs_corpus
def test_transport_is_what_connected() -> None:
    """004: a `quic-connection` whose flow logs `Transport protocol connected (tcp)` is TCP,
    down to its root; `requested_transport` keeps what was asked for."""
    conns = parse_corpus("004").connections().filter(pl.col("root_id") == "C1").collect()
    assert set(conns["transport"]) == {"tcp"}
    assert set(conns["requested_transport"]) == {"quic"}


@needs_corpus
def test_a_path_unsatisfied_from_the_start_is_waiting() -> None:
    """024: `unsatisfied (Interface type wifi is required by parameters)`, to the root."""
    found = by_id(parse_corpus("024"))
    assert {found[k]["outcome"] for k in found} == {"waiting"}
    leaf = found["C1.1.1.1"]
    assert leaf["start_path_reason"] == "Interface type wifi is required by parameters"


def test_summary_and_tree_say_what_was_lost_and_what_waited() -> None:
    """The summary names the connections that waited on a path and those dropped; the tree
    shows a duration from before the capture and a waiting path's reason."""
    runner = CliRunner()
    summary = runner.invoke(cli, ["summary", str(SAMPLE)]).stdout
    assert "1 connection waited on an unsatisfied path: unsatisfied (No network route)" in summary
    assert (
        "Dropped after connecting: 1 connection\n  Mail[1207] C5: Connection reset by peer"
        in summary
    )
    drawn = runner.invoke(cli, ["tree", str(SAMPLE)]).stdout
    assert "took 2m 00s (began before the capture)" in drawn
    assert "waiting  09:14:11.100  took 0.4 ms  path unsatisfied (No network route)" in drawn


def test_every_path_event_is_a_path_change() -> None:
    """`event: path:satisfied_change` (a 2025 Console export, the Mac's network changing):
    what differs from the connection's descriptor before, the same change on two connections
    within a second one system-wide change, and `properties` where nothing differs."""
    changes = parse(SAMPLES / "console-network-change.tsv.log").path_changes().collect()
    rows = changes.select("conn_id", "change", "from", "to").rows()
    assert rows == [
        ("C1", "address families", None, "ipv6"),
        ("C2", "address families", None, "ipv6"),
        ("C1", "LQM", "LQM: good", "LQM: bad"),
        ("C1", "properties", None, None),
    ]
    system = changes["system_change"].to_list()
    assert system[0] == system[1] is not None and system[2] is None


@needs_corpus
def test_a_pac_script_that_fails_is_a_proxy_failure() -> None:
    """109: `nw_proxy_resolver_create_parsed_array PAC evaluation error: NSURLErrorDomain:
    -1003`, Foundation's error, not an errno."""
    (failure,) = parse_corpus("109").proxy_failures().collect().to_dicts()
    assert (failure["proxy_kind"], failure["error_code"], failure["error_name"]) == (
        "PAC",
        -1003,
        "NSURLErrorCannotFindHost",
    )


PAC_HANDLER = [
    "nw_endpoint_proxy_handler_should_use_proxy [C12.1 proxy pac] Looking up proxy for"
    " hostname: <nil>, ifindex: 0",
    "[C12.1 Hostname#1a2b3c4d:443 failed proxy (satisfied (Path is satisfied), interface: en0,"
    " ipv4, dns, proxy)] event: flow:failed_connect @0.052s",
]
PAC_ERROR = "nw_proxy_resolver_create_parsed_array PAC evaluation error: NSURLErrorDomain: -1003"


@pytest.mark.parametrize("spill", [False, True])
def test_a_pac_handler_that_fails_is_a_pac_failure_with_the_scripts_error(spill: bool) -> None:
    """`[C12.1 proxy pac]` that fails silently is a failure of kind PAC; the PAC error logged
    after it, which names no connection, is its error: one row, C12.1's. (Spilled, the two are
    in two batches of trees.)"""
    options = {"spill_rows": 1} if spill else {}
    silent = parse_texts([Text("pac.log", "\n".join(PAC_HANDLER) + "\n", 0)], **options)
    (failure,) = silent.proxy_failures().collect().to_dicts()
    assert (failure["conn_id"], failure["proxy_kind"], failure["error_code"]) == (
        "C12.1",
        "PAC",
        None,
    )
    text = "\n".join([*PAC_HANDLER, PAC_ERROR]) + "\n"
    explained = parse_texts([Text("pac.log", text, 0)], **options)
    (failure,) = explained.proxy_failures().collect().to_dicts()
    assert (failure["conn_id"], failure["proxy_kind"], failure["error_name"]) == (
        "C12.1",
        "PAC",
        "NSURLErrorCannotFindHost",
    )
    assert failure["line_no"] == 3
    # The direct path after it: a fallback, whichever batch worked it out.
    direct = (
        "[C12.2 Hostname#1a2b3c4d:443 ready socket-flow (satisfied (Path is satisfied),"
        " interface: en0, ipv4, dns)] event: flow:finish_connect @0.090s"
    )
    text = "\n".join([*PAC_HANDLER, PAC_ERROR, direct]) + "\n"
    fell_back = parse_texts([Text("pac.log", text, 0)], **options)
    (failure,) = fell_back.proxy_failures().collect().to_dicts()
    assert (failure["conn_id"], failure["fell_back"], failure["fallback_id"]) == (
        "C12.1",
        True,
        "C12.2",
    )


@pytest.mark.parametrize("kind", ["socks", "http-connect"])
def test_other_proxy_handlers_fail_as_the_kind_they_name(kind: str) -> None:
    """No public capture shows a SOCKS or HTTP CONNECT handler; one written as the PAC handler
    is (`[C12.1 proxy socks]`) fails as a proxy of the kind it names."""
    lines = [line.replace("proxy pac", f"proxy {kind}") for line in PAC_HANDLER]
    parsed = parse_texts([Text("proxy.log", "\n".join(lines) + "\n", 0)])
    (failure,) = parsed.proxy_failures().collect().to_dicts()
    assert (failure["conn_id"], failure["proxy_kind"]) == ("C12.1", kind)


def test_without_times_no_capture_is_said_to_start_late() -> None:
    """A paste with no timestamps spans no known time: its summary block's duration is the
    connection's, and says nothing of when the capture began."""
    rows = SAMPLE.read_text(encoding="utf-8").splitlines()
    at = next(i for i, row in enumerate(rows) if "[C7 6C3D" in row)
    # The C7 lines as a bare paste: the messages without their `log show` columns.
    bare = [row.split("[com.apple.network:connection] ", 1)[-1] for row in rows[at - 2 : at + 7]]
    c7 = by_id(parse_texts([Text("bare.log", "\n".join(bare) + "\n", 0)]))["C7"]
    assert c7["connected_leaf_id"] == "C7.1.1"  # its summary block was read
    assert c7["started_before_capture"] is False
