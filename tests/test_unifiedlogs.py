"""What macos-UnifiedLogs' unifiedlog_iterator writes from a .logarchive reads as its source.

The two samples were made, field for field, from sample_logs/logshow-default-race.log, in the
order the iterator writes records (a chunk at a time, not in time order).
"""

from __future__ import annotations

import polars as pl
import pytest

import logflow

from conftest import SAMPLES

SOURCE = SAMPLES / "logshow-default-race.log"
TREE = ["process", "pid", "conn_id", "parent_id", "depth", "outcome", "endpoint", "error_code"]


@pytest.fixture(scope="module")
def source() -> logflow.Parsed:
    return logflow.parse(SOURCE)


@pytest.mark.parametrize("name", ["unifiedlog-iterator.jsonl", "unifiedlog-iterator.csv"])
def test_the_iterator_output_gives_the_trees_of_its_source(source, name: str) -> None:
    """The connections and their outcomes are those of the `log show` export they came from."""
    parsed = logflow.parse(SAMPLES / name)
    expected = source.connections().select(TREE).sort("conn_id").collect()
    assert parsed.connections().select(TREE).sort("conn_id").collect().equals(expected)
    assert set(parsed.events().collect()["envelope"].cast(pl.String)) == {"unifiedlogs"}


def test_the_jsonl_gives_the_events_of_its_source_to_the_microsecond(source) -> None:
    """Every event, time included (UTC, rounded from the iterator's nanoseconds), and the
    process and library names from their full paths."""
    columns = [
        "ts",
        "level",
        "process",
        "pid",
        "tid",
        "subsystem",
        "category",
        "sender",
        "conn_id",
        "kind",
        "message",
    ]
    parsed = logflow.parse(SAMPLES / "unifiedlog-iterator.jsonl")
    got = parsed.events().select(columns).sort("ts", "message").collect()
    assert got.equals(source.events().select(columns).sort("ts", "message").collect())


def test_a_csv_message_over_several_lines_is_one_record() -> None:
    """A quoted CSV field spans lines: the cancelled line and its summary block are one record,
    its quotes undone; the header is the iterator's, not a record of the log."""
    records = logflow.parse(SAMPLES / "unifiedlog-iterator.csv").records
    summary = records.filter(pl.col("summary").is_not_null()).row(0, named=True)
    assert summary["n_lines"] > 1
    assert summary["message"].endswith("ecn packets sent/acked/marked/lost: 6/6/0/0")
    assert summary["summary"]["leaf_id"] == "C8.1.1"
    assert records["kind"].cast(pl.String).to_list()[0] == "preamble"
    assert records.filter(pl.col("kind") == "unparsed").height == 0


def test_records_in_any_order_give_the_trees_of_their_time_order(source, tmp_path) -> None:
    """The iterator writes an archive's files one after another, so a connection's last
    state can come first: its records are read in time order, and the lines the trees cite
    are still the lines of the file they came from."""
    lines = (SAMPLES / "unifiedlog-iterator.jsonl").read_text().splitlines(keepends=True)
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("".join(lines[1::2] + lines[::2][::-1]))
    columns = [*TREE, "final_state", "mode", "ready_ts", "first_ts"]
    parsed = logflow.parse(shuffled)
    conns = parsed.connections().sort("conn_id").collect()
    assert conns.select(columns).equals(
        source.connections().select(columns).sort("conn_id").collect()
    )

    def cited(parsed: logflow.Parsed, conns: pl.DataFrame, column: str) -> list[str | None]:
        messages = dict(parsed.records.select("line_no", "message").iter_rows())
        return [messages.get(line) for line in conns[column]]

    expected = source.connections().sort("conn_id").collect()
    for column in ("first_line", "outcome_line"):
        assert cited(parsed, conns, column) == cited(source, expected, column)
