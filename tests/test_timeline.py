"""The timeline a person reads (text) and the events of one connection: what the trees say,
on a time axis, and every line of the log that a search for `[C8` would find."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import logflow
from logflow.cli import cli, terminal
from logflow.outputs.timeline import timeline
from logflow.outputs.timeline_text import READY, WAITING, timeline_lines

from conftest import CORPUS, SAMPLES, corpus_body, needs_corpus

RACE = SAMPLES / "logshow-default-race.log"
PROXY = SAMPLES / "console-copy.tsv.log"
PATHS = SAMPLES / "console-network-change.tsv.log"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def rows_of(lines: list[tuple[str, str | None]]) -> dict[str, str]:
    """Each connection's line of a text timeline, by id."""
    rows = {}
    for text, outcome in lines:
        if outcome is not None:
            rows[text.split()[0]] = text
    return rows


def test_the_winner_turns_solid_and_the_also_ran_never_does() -> None:
    rows = rows_of(timeline_lines(timeline(logflow.parse(RACE)), 80))
    assert list(rows) == ["C8", "C8.1", "C8.1.1", "C8.1.2", "C7", "C7.1", "C7.1.1", "C7.1.1.1"]
    assert READY in rows["C8.1.1"] and "WON" in rows["C8.1.1"]
    assert READY not in rows["C8.1.2"] and WAITING in rows["C8.1.2"]
    # Started 120 ms after the process's first line, cut off 86 ms later.
    assert re.search(r"\+120 ms\s+86 ms", rows["C8.1.2"])
    # C7 never connected: not ready from its start to the log's end.
    assert READY not in rows["C7"] and rows["C7"].endswith(WAITING)


def test_marks_land_on_their_connections() -> None:
    proxy = rows_of(timeline_lines(timeline(logflow.parse(PROXY)), 80))
    assert "✕" in proxy["C1.1"]  # the proxy's error ends its attempt
    paths = rows_of(timeline_lines(timeline(logflow.parse(PATHS)), 80))
    assert paths["C1"].count("▲") == 3 and paths["C2"].count("▲") == 1


@pytest.mark.parametrize("width", [60, 80, 200])
def test_the_text_timeline_fits_its_width(width: int) -> None:
    lines = timeline_lines(timeline(logflow.parse([RACE, PROXY])), width)
    assert max(len(text) for text, _ in lines) <= width


def test_timeline_writes_text_to_a_file_and_says_where(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "race.txt"
    result = runner.invoke(cli, ["timeline", str(RACE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"to {out}" in result.stderr
    assert out.read_text(encoding="utf-8").splitlines()[2].startswith("Weather[2317]")


def test_timeline_takes_the_filters(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["timeline", str(RACE), "--conn", "C7.1"])
    assert "C7.1.1.1" in result.stdout and "C8.1.2" not in result.stdout
    result = runner.invoke(cli, ["timeline", str(RACE), "--process", "Mail"])
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr.startswith(f"No connections in {RACE} that the filters keep.")


def test_a_timeline_file_with_nothing_to_draw_is_not_written(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "t.txt"
    result = runner.invoke(cli, ["timeline", str(RACE), "--process", "Mail", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no connections in")
    assert f"{out} not written" in result.stderr and not out.exists()
    bare = tmp_path / "bare.log"
    bare.write_text(
        "nw_socket_handle_socket_event [C2:1] Socket SO_ERROR [61: Connection refused]\n"
    )
    result = runner.invoke(cli, ["timeline", str(bare)])
    assert result.stderr == "The log's lines carry no times: there is no time axis to draw.\n"


@pytest.mark.parametrize(
    ("name", "args", "starts"),
    [
        ("race.pftrace", [], b"\n"),  # a Trace's first packet (field 1, bytes)
        ("race.html", [], b"<!DOCTYPE html>"),
        ("race.trace", ["--format", "perfetto"], b"\n"),
        ("race.log", ["--format", "text"], "░ not ready".encode()),
    ],
)
def test_timeline_writes_the_format_its_file_names(
    runner: CliRunner, tmp_path: Path, name: str, args: list[str], starts: bytes
) -> None:
    out = tmp_path / name
    result = runner.invoke(cli, ["timeline", str(RACE), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(starts)
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_timeline_file_of_unknown_kind_is_a_usage_error(runner: CliRunner, tmp_path) -> None:
    result = runner.invoke(cli, ["timeline", str(RACE), "-o", str(tmp_path / "t.png")])
    assert result.exit_code == 2
    assert "name it .pftrace, .html or .txt, or give --format" in result.stderr
    assert not list(tmp_path.iterdir())


# `logflow events`: what searching the log for a connection's id finds, and only that.


def lines_naming(path: Path, conn: str) -> list[int]:
    """The line numbers of a paste's lines that name ``conn`` or an attempt under it, as
    `[C8`, `[C8.1.2:1`, `[C8 <endpoint>` (the corpus files' three header lines counted)."""
    named = re.compile(rf"\[{conn}(?:[.:\] ]|$)")
    return [n for n, line in enumerate(path.read_text().splitlines(), 1) if named.search(line)]


@needs_corpus
@pytest.mark.parametrize(
    ("paste", "conn"),
    [("018-macos14-logshow-quic-dns.log", "C1"), ("064-devforums-also-ran-console-kv.log", "C8")],
)
def test_events_of_a_connection_are_the_lines_that_name_it(
    runner: CliRunner, paste: str, conn: str
) -> None:
    path = CORPUS / paste
    assert corpus_body(path)  # the paste is there
    result = runner.invoke(cli, ["events", str(path), "--conn", conn, "--json"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events
    assert all(e["conn_id"] == conn or e["conn_id"].startswith(conn + ".") for e in events)
    # In log order; and every line that names it is the start or a part of one of them.
    starts = [e["line_no"] for e in events]
    assert starts == sorted(starts)
    covered = {n for e in events for n in range(e["line_no"], e["line_no"] + e["n_lines"])}
    assert set(lines_naming(path, conn)) <= covered


def test_events_of_a_process_come_under_its_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two processes' C8.1.2 (in two files here) are not mixed: on a terminal each comes
    under its name; in a pipe each row says whose it is."""
    other = tmp_path / "other.log"
    other.write_text(RACE.read_text().replace(" 2317   0    Weather:", " 400    0    Maps:   "))
    args = ["events", str(RACE), str(other), "--conn", "C8.1.2"]
    piped = CliRunner().invoke(cli, args)
    assert {line.split()[1] for line in piped.stdout.splitlines()[1:]} == {
        "Weather[2317]",
        "Maps[400]",
    }
    monkeypatch.setattr(terminal, "is_terminal", lambda stream: True)
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    headings = [line for line in result.stdout.splitlines() if line.endswith(":")]
    assert headings == [f"Weather[2317] in {RACE.name}:", "Maps[400] in other.log:"]


def test_events_match_the_library(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["events", str(RACE), "--conn", "C8.1.2", "--csv"])
    printed = pl.read_csv(result.stdout.encode())
    kept = logflow.parse(RACE).events(logflow.Filters(conn="C8.1.2")).collect()
    assert printed["line_no"].to_list() == sorted(kept["line_no"].to_list())
    assert set(kept["conn_id"]) == {"C8.1.2"}
