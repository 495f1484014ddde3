"""What Happy Eyeballs had in hand, what it tried, and where its also-rans show up.

The addresses a resolver added but never tried, a transform that starts over, the address
pair of each attempt and the Wireshark filter built from them, and the inbound connections a
listener sees of a client's race.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from logflow.cli import cli
from logflow.pipeline import Parsed, parse

from conftest import SAMPLES, needs_corpus, parse_corpus

RESTART = SAMPLES / "console-transform-restart.tsv.log"
CLIENT = SAMPLES / "console-client-local-race.tsv.log"
SERVER = SAMPLES / "logshow-server-listener.log"
RACE = SAMPLES / "logshow-default-race.log"


def by_id(parsed: Parsed) -> dict[str, dict]:
    return {row["conn_id"]: row for row in parsed.connections().collect().iter_rows(named=True)}


def races_of(parsed: Parsed) -> dict[str, dict]:
    return {row["parent_id"]: row for row in parsed.races().collect().iter_rows(named=True)}


@needs_corpus
def test_addresses_a_resolver_added_and_never_tried_are_not_started() -> None:
    """015: C31's resolver added two IPv4 addresses and connected on the first; the second is
    what Happy Eyeballs had in hand, and the first won against it."""
    parsed = parse_corpus("015")
    race = races_of(parsed)["C31"]
    assert race["children"] == ["C31.1"]
    assert race["not_started"] == ["IPv4#60c5f8f1:443"]
    assert (race["winner_id"], race["outcome"]) == ("C31.1", "won")
    assert by_id(parsed)["C31.1"]["outcome"] == "won"


@needs_corpus
@pytest.mark.parametrize(("prefix", "parent", "added"), [("007", "C3", 6), ("018", "C1.1.1", 7)])
def test_a_resolver_that_tried_nothing_yet_shows_what_it_had(
    prefix: str, parent: str, added: int
) -> None:
    """007 (2017) and 018 (2024): the capture ends after the resolver's answers; every
    address it added is listed, none tried, the race undecided."""
    race = races_of(parse_corpus(prefix))[parent]
    assert (race["children"], race["families"], race["winner_id"]) == ([], [], None)
    assert len(race["not_started"]) == added
    assert race["outcome"] == "undecided"


@needs_corpus
def test_a_cut_address_is_the_attempt_made_for_it() -> None:
    """004's Console copy cut `Adding endpoint handler for 20.`; the attempt at
    20.150.22.100:443 was made for it, so it raced nothing."""
    parsed = parse_corpus("004")
    assert "C1.1.1" not in races_of(parsed)
    assert by_id(parsed)["C1.1.1"]["untried_endpoints"] is None


def test_a_transform_that_restarts_replaces_its_attempt() -> None:
    """An alternative-service answer (`resolver:receive_alternative`) makes the transform
    start over: C1.1.1 is replaced, not raced; C1.1.2 carries the outcome."""
    parsed = parse([RESTART])
    conns = by_id(parsed)
    assert (conns["C1.1.1"]["outcome"], conns["C1.1.1"]["replaced"]) == ("cancelled", True)
    assert conns["C1.1.2"]["outcome"] == "completed"
    races = races_of(parsed)
    assert "C1.1" not in races
    assert races["C1.1.2"]["winner_id"] == "C1.1.2.1"
    assert races["C1.1.2"]["not_started"] == ["IPv4#5d2a90c7:443", "IPv4#a83f1e26:443"]
    lines = RESTART.read_text().splitlines()
    assert "transform:restart" in lines[conns["C1.1.1"]["outcome_line"] - 1]


def test_every_attempt_carries_the_address_pair_the_log_gives() -> None:
    """The summary block's `[C1.1.2 <uuid> 192.168.1.20:53757<->192.168.1.10:8080]` names the
    winner's pair; an also-ran has the address it was made to."""
    conns = by_id(parse([CLIENT]))
    winner, also_ran = conns["C1.1.2"], conns["C1.1.1"]
    assert (winner["local_endpoint"], winner["remote_endpoint"]) == (
        "192.168.1.20:53757",
        "192.168.1.10:8080",
    )
    assert (also_ran["local_endpoint"], also_ran["remote_endpoint"]) == (
        None,
        "fe80::1c4e:22ff:fe9b:3a10%en0.8080",
    )


@needs_corpus
def test_an_ios13_descriptor_gives_the_local_address() -> None:
    """049 (iOS 13): `[C3.1 <private> 192.168.155.123:53286<->IPv4#3f012589:443 channel-flow]`."""
    conns = by_id(parse_corpus("049"))
    pairs = {(c["local_endpoint"], c["remote_endpoint"]) for c in conns.values()}
    assert ("192.168.155.123:53286", "IPv4#3f012589:443") in pairs


def test_wireshark_filters_select_the_also_rans_and_the_winners() -> None:
    """`races --wireshark` selects the also-ran by its address and port (the IPv6 zone, which
    names an interface of the phone, left out); `--wireshark-winners` the winner by its pair."""
    runner = CliRunner()
    also = runner.invoke(cli, ["races", str(CLIENT), "--wireshark"])
    assert also.exit_code == 0, also.output
    assert also.output == "(ipv6.addr == fe80::1c4e:22ff:fe9b:3a10 && tcp.port == 8080)\n"
    won = runner.invoke(cli, ["races", str(CLIENT), "--wireshark-winners"])
    assert won.output.strip() == (
        "(ip.addr == 192.168.1.20 && tcp.port == 53757 && ip.addr == 192.168.1.10"
        " && tcp.port == 8080)"
    )


def test_a_wireshark_filter_leaves_out_hashed_addresses_and_says_so() -> None:
    """The race sample's also-ran is `IPv4#3d7e52b8:443`: no address a trace shows, one
    clear line and exit 1; its winner is kept by its local address and port."""
    result = CliRunner().invoke(cli, ["races", str(RACE), "--wireshark"])
    assert result.exit_code == 1
    assert "1 also-ran left out" in result.output
    assert "Error: no also-ran that was started has an address" in result.output
    won = CliRunner().invoke(cli, ["races", str(RACE), "--wireshark-winners"])
    assert "ipv6.addr == 2a02:8109:a1c0:5e00:6d4f:2c1b:9a3e:71f2 && tcp.port == 57412" in (
        won.output
    )
    assert "IPv" not in won.output


def test_a_server_sees_the_also_ran_as_a_short_inbound_connection() -> None:
    """DeskServer's C2 was accepted (`server` in its parameters) and closed within 2 ms with
    no bytes: a probable also-ran; C1 carried the data."""
    conns = by_id(parse([SERVER]))
    assert conns["C2"]["inbound"] and conns["C2"]["probable_also_ran"]
    assert conns["C1"]["inbound"] and not conns["C1"]["probable_also_ran"]
    assert conns["C2"]["local_endpoint"] == "fe80::1c4e:22ff:fe9b:3a10%en0.8080"
    assert conns["C2"]["client_attempt"] is None  # the client's log was not read


def test_client_and_server_logs_read_together_pair_each_inbound_connection() -> None:
    """Read with the client's Console copy, each inbound connection shows the attempt it came
    from: C1 by its address pair, C2 (no client port logged) by address and time."""
    conns = parse([SERVER, CLIENT]).connections().filter("inbound").collect()
    came_from = {row["conn_id"]: row["client_attempt"] for row in conns.iter_rows(named=True)}
    assert (came_from["C1"]["conn_id"], came_from["C1"]["outcome"]) == ("C1.1.2", "won")
    assert (came_from["C2"]["conn_id"], came_from["C2"]["outcome"]) == ("C1.1.1", "also-ran")
    assert came_from["C2"]["process"] == "Remote"


def test_the_summary_has_a_listeners_section() -> None:
    result = CliRunner().invoke(cli, ["summary", str(SERVER), str(CLIENT)])
    assert result.exit_code == 0, result.output
    listening = f"DeskServer[880] ({SERVER}) L1: 2 inbound connections, 1 probable also-ran (C2)"
    assert listening in result.output
    assert "C2 came from Remote C1.1.1 (also-ran)" in result.output
    # The server's clients are not hosts anyone asked for.
    assert "192.168.1.20 (1)" not in result.output


@needs_corpus
def test_a_listener_that_failed_to_start_says_so() -> None:
    """003: `nw_listener_start_locked [L2] nw_path_create_evaluator_for_listener failed`."""
    (listener,) = parse_corpus("003").listeners().collect().to_dicts()
    assert listener["listener_id"] == "L2"
    assert listener["failure"] == "nw_path_create_evaluator_for_listener failed"


def test_a_failed_connectx_gives_the_address_it_was_made_to() -> None:
    """A real 2022 Xcode line: `connectx(34, [srcif=0, srcaddr=<NULL>, dstaddr=127.0.0.1:9089],
    …) failed: [61: Connection refused]` fails the attempt and says where it went."""
    from logflow.pipeline import parse_texts
    from logflow.reading.inputs import Text

    line = (
        "2022-10-11 13:01:36.494119-0400 AVID_App[700:62716] [connection] nw_socket_connect"
        " [C12.2:1] connectx(34, [srcif=0, srcaddr=<NULL>, dstaddr=127.0.0.1:9089],"
        " SAE_ASSOCID_ANY, 0, NULL, 0, NULL, SAE_CONNID_ANY) failed: [61: Connection refused]\n"
    )
    attempt = by_id(parse_texts([Text("xcode.log", line, 0)]))["C12.2"]
    assert (attempt["outcome"], attempt["error_name"]) == ("failed", "ECONNREFUSED")
    assert (attempt["local_endpoint"], attempt["remote_endpoint"]) == (None, "127.0.0.1:9089")


def test_the_tree_marks_inbound_connections_and_whose_they_were() -> None:
    result = CliRunner().invoke(cli, ["tree", str(SERVER), str(CLIENT)])
    assert result.exit_code == 0, result.output
    (c2,) = [line for line in result.output.splitlines() if line.startswith("  C2 ")]
    assert "inbound, probable also-ran  from Remote C1.1.1 (also-ran)" in c2


def test_an_attempt_never_started_sent_nothing_to_filter() -> None:
    """xcode-2016's 3.2 (127.0.0.1) was cancelled while still `initial`: no packet of it."""
    result = CliRunner().invoke(cli, ["races", str(SAMPLES / "xcode-2016.log"), "--wireshark"])
    assert result.exit_code == 1
    assert "127.0.0.1" not in result.output


def test_without_times_the_summary_block_says_how_short_an_inbound_connection_was() -> None:
    """The server's log as a bare paste (messages only): C2's block says `Duration: 0.001s`
    and 0 bytes, so it is still a probable also-ran; C1's 9.509 s is not."""
    from logflow.pipeline import parse_texts
    from logflow.reading.inputs import Text

    rows = SERVER.read_text(encoding="utf-8").splitlines()
    bare = [re.split(r"\[com\.apple\.network:[a-z]+\] ", row)[-1] for row in rows]
    conns = by_id(parse_texts([Text("bare.log", "\n".join(bare) + "\n", 0)]))
    assert conns["C2"]["probable_also_ran"] and not conns["C1"]["probable_also_ran"]


def _server_text(*, blocks: bool = True) -> str:
    rows = SERVER.read_text(encoding="utf-8").splitlines()
    return "\n".join(row for row in rows if blocks or not row.startswith("\t")) + "\n"


def test_without_its_summary_block_an_inbound_connection_is_not_called_an_also_ran() -> None:
    """No block, no byte counts: a short inbound connection may have carried data."""
    from logflow.pipeline import parse_texts
    from logflow.reading.inputs import Text

    conns = by_id(parse_texts([Text("server.log", _server_text(blocks=False), 0)]))
    assert conns["C2"]["inbound"] and not conns["C2"]["probable_also_ran"]


def test_a_client_port_that_differs_is_another_connection() -> None:
    """The client logged its port (53757) for C1.1.2: a server connection from another port
    at the same moment is not that attempt's, and no attempt is claimed twice."""
    from logflow.pipeline import parse_texts
    from logflow.reading.inputs import Text

    other = _server_text().replace("192.168.1.20:53757", "192.168.1.20:53999")
    client = Text(str(CLIENT), CLIENT.read_text(encoding="utf-8"), 0)
    conns = parse_texts([Text("server.log", other, 0), client]).connections()
    came_from = {
        row["conn_id"]: row["client_attempt"]
        for row in conns.filter("inbound").collect().iter_rows(named=True)
    }
    assert came_from["C1"] is None
    assert came_from["C2"]["conn_id"] == "C1.1.1"


def test_everything_under_a_replaced_attempt_is_replaced() -> None:
    """A replaced resolver's own attempts raced nothing the reader needs: they are replaced
    too, and no race is listed under the old resolver."""
    from logflow.pipeline import parse_texts
    from logflow.reading.inputs import Text

    rows = RESTART.read_text(encoding="utf-8").splitlines()
    at = next(i for i, row in enumerate(rows) if "resolver:receive_alternative" in row)
    started = [
        row.replace("C1.1.2.1", "C1.1.1.1").replace("@0.009s", "@0.005s")
        for row in rows
        if "[C1.1.2.1 " in row and "path:start" in row
    ]
    text = "\n".join([*rows[:at], *started, *rows[at:]]) + "\n"
    parsed = parse_texts([Text("restart.log", text, 0)])
    conns = by_id(parsed)
    assert conns["C1.1.1.1"]["replaced"] and conns["C1.1.1.1"]["outcome"] == "cancelled"
    assert "C1.1.1" not in races_of(parsed)
