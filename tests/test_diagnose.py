"""The diagnoses a reader of a log would make: trees, races, proxy failures, path changes.

Each is proved on a bundled scenario log and on a real paste from ../shared/corpus.
"""

from __future__ import annotations

import polars as pl
import pytest

from logflow.pipeline import Parsed, parse

from conftest import SAMPLES, needs_corpus, parse_corpus


def sample(name: str) -> Parsed:
    return parse([SAMPLES / name])


def corpus(prefix: str) -> Parsed:
    return parse_corpus(prefix)


def outcomes(parsed: Parsed) -> dict[str, str]:
    conns = parsed.connections().collect()
    return dict(zip(conns["conn_id"], conns["outcome"].cast(pl.String), strict=True))


def test_ipv6_wins_the_race_and_ipv4_is_an_also_ran() -> None:
    """Happy Eyeballs: C8.1.1 over IPv6 connects first, C8.1.2 over IPv4 is cancelled."""
    parsed = sample("logshow-default-race.log")
    (race,) = parsed.races().collect().to_dicts()
    assert (race["parent_id"], race["winner_id"], race["also_rans"]) == (
        "C8.1",
        "C8.1.1",
        ["C8.1.2"],
    )
    assert race["families"] == ["ipv6", "ipv4"]
    assert race["outcome"] == "won"
    assert 0 < race["start_offsets_s"][1] < 0.2  # the IPv4 attempt started ~100 ms later
    found = outcomes(parsed)
    assert (found["C8"], found["C8.1.1"], found["C8.1.2"]) == ("completed", "won", "also-ran")
    winner = parsed.connections().filter(pl.col("conn_id") == "C8.1.1").collect().row(0, named=True)
    lines = (SAMPLES / "logshow-default-race.log").read_text().splitlines()
    assert "Output protocol connected" in lines[winner["outcome_line"] - 1]
    root = parsed.connections().filter(pl.col("conn_id") == "C8").collect().row(0, named=True)
    assert (root["connected_leaf_id"], root["bytes_in"], root["transport"]) == (
        "C8.1.1",
        48213,
        "tcp",
    )


def test_every_attempt_refused() -> None:
    """A localhost race where ::1 and 127.0.0.1 are both refused fails as a whole."""
    parsed = sample("logstream-compact-refused.log")
    (race,) = parsed.races().collect().to_dicts()
    assert race["outcome"] == "all-failed"
    assert race["winner_id"] is None
    failed = parsed.connections().filter(pl.col("outcome") == "failed").collect()
    children = failed.filter(pl.col("parent_id") == race["parent_id"])
    assert set(children["error_name"]) == {"ECONNREFUSED"}


def test_privacy_proxy_failure_falls_back_to_direct() -> None:
    """The MASQUE relay child fails with ECONNABORTED; the direct attempt C1.2 then wins."""
    (failure,) = sample("console-copy.tsv.log").proxy_failures().collect().to_dicts()
    assert failure["conn_id"] == "C1.1"
    assert failure["proxy_kind"] == "privacy (MASQUE relay)"
    assert (failure["failed_child"], failure["error_code"], failure["error_name"]) == (
        "C1.1.1",
        53,
        "ECONNABORTED",
    )
    assert (failure["fell_back"], failure["fallback_id"], failure["fallback_outcome"]) == (
        True,
        "C1.2",
        "won",
    )


def test_wifi_to_cellular_path_change() -> None:
    """C2 loses its Wi-Fi path (no network route), then comes back over pdp_ip0."""
    changes = sample("xcode15-metadata.log").path_changes().collect()
    c2 = changes.filter(pl.col("conn_id") == "C2")
    assert ("interface", "en0", "pdp_ip0") in c2.select("change", "from", "to").rows()
    flow = changes.filter(pl.col("conn_id") == "C2.1.1").select("change", "from", "to").rows()
    assert ("viability", "viable", "not viable") in flow
    assert (
        "status",
        "satisfied (Path is satisfied)",
        "unsatisfied (No network route)",
    ) in c2.select("change", "from", "to").rows()


def test_better_path_notification_is_a_path_change() -> None:
    """C3, connected over cellular, is told of a better path (and the notice is suppressed)."""
    changes = sample("xcode15-metadata.log").path_changes().collect()
    c3 = changes.filter(pl.col("conn_id") == "C3").select("change", "from", "to").rows()
    assert ("better path", "pdp_ip0", "suppressing better path notification") in c3


def test_quic_connection_migrates_to_cellular() -> None:
    """The QUIC flow promotes its path over pdp_ip0 to primary: one migration, from en0, and
    no separate interface change for the same move."""
    changes = sample("device-relay.log").path_changes().collect()
    flow = changes.filter(pl.col("conn_id") == "C41.1.1.1").select("change", "from", "to")
    assert flow.rows() == [("migrated", "en0", "pdp_ip0")]


def test_resolver_tries_its_addresses_in_turn() -> None:
    """C5.1.1 times out, C5.1.2 is refused, C5.1.3 connects: one race, won by the third."""
    parsed = sample("logshow-resolver-in-turn.log")
    (race,) = parsed.races().collect().to_dicts()
    assert race["children"] == ["C5.1.1", "C5.1.2", "C5.1.3"]
    assert (race["winner_id"], race["failed"], race["also_rans"]) == (
        "C5.1.3",
        ["C5.1.1", "C5.1.2"],
        [],
    )
    errors = parsed.connections().filter(pl.col("outcome") == "failed").collect()
    assert dict(zip(errors["conn_id"], errors["error_name"], strict=True)) == {
        "C5.1.1": "ETIMEDOUT",
        "C5.1.2": "ECONNREFUSED",
    }


def test_cfnetwork_tasks_and_quic_tls_streams_are_linked() -> None:
    """`Task <...>.<3> setting up Connection 41` and `TLS stream is: [C42]` link to the tree."""
    conns = sample("device-relay.log").connections().collect()
    c41 = conns.filter(pl.col("conn_id") == "C41").row(0, named=True)
    assert c41["tasks"] == ["A3E07C52-6B1F-4D89-8C24-F59B10D7E36A.3"]
    quic = conns.filter(pl.col("tls_stream_id").is_not_null())
    assert quic.select("conn_id", "tls_stream_id").rows() == [("C41.1.1.1", "C42")]
    stream = conns.filter(pl.col("conn_id") == "C42").row(0, named=True)
    assert stream["tls_stream_of"] == "C41.1.1.1"


def test_tree_links_parents_and_implicit_ancestors() -> None:
    """Every attempt hangs under its parent; a parent the log never names is implicit."""
    conns = sample("logshow-default-race.log").connections().collect()
    ids = set(conns["conn_id"])
    assert all(p in ids for p in conns["parent_id"].drop_nulls())
    c8 = conns.filter(pl.col("conn_id") == "C8.1").row(0, named=True)
    assert (c8["n_children"], c8["depth"], c8["root_id"], c8["implicit"]) == (2, 1, "C8", False)


@needs_corpus
def test_masque_relay_failure_in_a_real_console_copy() -> None:
    """063: curl's MASQUE relay C1.1 fails at child C1.1.1 with error 53; nothing fell back,
    so the connection C1 (implied by them) failed too."""
    (failure,) = corpus("063").proxy_failures().collect().to_dicts()
    assert (failure["conn_id"], failure["failed_child"], failure["error_name"]) == (
        "C1.1",
        "C1.1.1",
        "ECONNABORTED",
    )
    assert failure["proxy_endpoint"] == "http://192.168.4.197:4433"
    assert failure["fell_back"] is False
    found = outcomes(corpus("063"))
    assert (found["C1.1"], found["C1.1.1"], found["C1"]) == ("failed", "failed", "failed")


@needs_corpus
def test_also_ran_pair_from_the_forum_post() -> None:
    """064: C8.1.1 and C8.1.2 race under C8.1, which is implied by them; no winner is logged."""
    parsed = corpus("064")
    (race,) = parsed.races().collect().to_dicts()
    assert (race["parent_id"], race["children"], race["outcome"]) == (
        "C8.1",
        ["C8.1.1", "C8.1.2"],
        "undecided",
    )
    implicit = parsed.connections().filter(pl.col("implicit")).collect()
    assert sorted(implicit["conn_id"]) == ["C8", "C8.1"]


@needs_corpus
@pytest.mark.parametrize("prefix", ["001", "027"])
def test_refused_localhost_races_in_real_pastes(prefix: str) -> None:
    """001, 027: React Native's ::1 and 127.0.0.1 attempts are both refused: all failed."""
    (race,) = corpus(prefix).races().collect().to_dicts()
    assert race["outcome"] == "all-failed"
    assert len(race["failed"]) == len(race["children"]) == 2


@needs_corpus
@pytest.mark.parametrize(
    ("prefix", "tree"),
    [
        ("025", {"C7": "completed", "C7.1": "completed"}),  # resolver 7 and its flow 7.1, cancelled
        ("009", {"C1": "open", "C1.1": "open"}),  # localhost resolver 1 connected over ::1
        ("013", {"C5": "failed", "C5.1": "failed", "C5.1.2": "failed"}),  # refused, 2024
    ],
)
def test_real_trees(prefix: str, tree: dict[str, str]) -> None:
    """Trees from real pastes, 2016 to 2024, as a reader of the paste would draw them."""
    found = outcomes(corpus(prefix))
    assert {k: found[k] for k in tree} == tree
