"""What every command prints, as a person at a terminal and a program in a pipe see it:
widths, colour, JSON and CSV, the filters, the summary's counts and the tree's order."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from logflow.cli import cli, commands, terminal
from logflow.pipeline import Parsed, parse

from conftest import CORPUS, SAMPLES, corpus_files, needs_corpus

RACE = SAMPLES / "logshow-default-race.log"
PROXY = SAMPLES / "console-copy.tsv.log"
PATHS = SAMPLES / "console-network-change.tsv.log"
SERVER = SAMPLES / "logshow-server-listener.log"
LOSSES = SAMPLES / "logshow-failures-and-losses.log"
# Each table command, and a sample that gives it rows.
TABLE_COMMANDS = {"races": RACE, "proxies": PROXY, "paths": PATHS, "listeners": SERVER}
MACHINE_COMMANDS = {**TABLE_COMMANDS, "summary": LOSSES, "tree": LOSSES, "events": RACE}
# Every command that prints for people; the timeline writes files for programs itself.
COMMANDS = {**MACHINE_COMMANDS, "timeline": LOSSES}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def at_terminal(monkeypatch: pytest.MonkeyPatch):
    """Run a command as if its standard output were a terminal ``width`` columns wide."""

    def run(args: list[str], width: int, env: dict[str, str] | None = None) -> Result:
        monkeypatch.setattr(terminal, "is_terminal", lambda stream: stream is sys.stdout)
        env = {"COLUMNS": str(width), "NO_COLOR": "", **(env or {})}
        return CliRunner().invoke(cli, args, env=env, color=True)

    return run


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_fits_the_terminal(at_terminal, command: str, width: int) -> None:
    """No line is wider than the terminal, and no command prints a raw data frame."""
    result = at_terminal([command, str(COMMANDS[command])], width)
    assert result.exit_code == 0, result.output
    lines = ANSI.sub("", result.stdout).splitlines()
    assert lines
    assert max(map(len, lines)) <= width
    assert not any(line.startswith("shape:") or "┆" in line for line in lines)


@needs_corpus
def test_every_command_on_every_real_paste_fits_80_columns(
    at_terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real pastes, whatever they hold (races of untried addresses only, long paths, no
    times at all), print within an 80-column terminal, never a traceback."""
    # What is printed is under test here, not the parse: each paste is parsed once, records
    # kept, for every command.
    parsed: dict[tuple[str, ...], Parsed] = {}

    def parse_once(paths, **_options) -> Parsed:
        key = tuple(map(str, paths))
        if key not in parsed:
            parsed[key] = parse(list(paths))
        return parsed[key]

    monkeypatch.setattr(commands, "parse", parse_once)
    too_wide = []
    for path in corpus_files():
        for command in sorted(COMMANDS):
            result = at_terminal([command, str(path)], 80)
            assert result.exit_code == 0, (command, path.name, result.output)
            widest = max([len(line) for line in ANSI.sub("", result.stdout).splitlines()] or [0])
            if widest > 80:
                too_wide.append((command, path.name, widest))
    assert too_wide == []


@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_a_table_on_a_terminal_has_headers_and_coloured_outcomes(at_terminal, command: str) -> None:
    result = at_terminal([command, str(TABLE_COMMANDS[command]), "--color"], 80)
    assert result.exit_code == 0, result.output
    header = ANSI.sub("", result.stdout).splitlines()[0]
    assert header.startswith("Process")
    if command == "races":
        assert "\x1b[32mwon" in result.stdout  # green


def test_races_at_80_columns_wrap_cells_not_rows(at_terminal) -> None:
    """At 80 columns a race's attempts wrap within their cell; every column is still there."""
    text = ANSI.sub("", at_terminal(["races", str(RACE)], 80).stdout)
    lines = text.splitlines()
    assert lines[0].split() == ["Process", "Parent", "Started", "Attempts", "Winner", "Also-rans",
                                "Outcome"]  # fmt: skip
    assert "Weather[2317]" in lines[2] and lines[2].rstrip().endswith("won")
    assert "ipv4" in "".join(lines[3:])  # the second attempt, wrapped within its cell


def test_a_table_in_a_pipe_is_whole_one_row_a_line(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["races", str(RACE)], env={"COLUMNS": "40"})
    header, row = result.stdout.splitlines()
    assert header.split()[:3] == ["Process", "Parent", "Started"]
    assert "C8.1.1 ipv6, C8.1.2 ipv4" in row
    assert "10:32:05.431 +90 ms" in row  # the log's clock (+0100), and after the capture began
    assert "C8.1.1 in 187 ms by 0.4 ms" in row
    assert "\x1b[" not in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ([], {}, True),
        ([], {"NO_COLOR": "1"}, False),
        ([], {"TERM": "dumb"}, False),
        (["--no-color"], {}, False),
        (["--color"], {"NO_COLOR": "1"}, True),  # asked for on the command line
    ],
)
@pytest.mark.parametrize("command", ["races", "tree"])
def test_colour_on_a_terminal_follows_the_flag_then_the_environment(
    at_terminal, command: str, args: list[str], env: dict[str, str], coloured: bool
) -> None:
    result = at_terminal([command, str(RACE), *args], 120, env)
    assert result.exit_code == 0, result.output
    assert ("\x1b[" in result.stdout) is coloured


def test_a_table_with_no_rows_says_so(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["proxies", str(RACE)])
    assert result.exit_code == 0
    assert result.stdout == f"No proxy failures in {RACE}.\n"
    result = runner.invoke(cli, ["races", str(RACE), "--process", "Mail"])
    assert result.stdout == f"No races in {RACE} that the filters keep.\n"


@pytest.mark.parametrize("command", sorted(MACHINE_COMMANDS))
def test_every_command_prints_json_lines(runner: CliRunner, command: str) -> None:
    result = runner.invoke(cli, [command, str(MACHINE_COMMANDS[command]), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(isinstance(row, dict) for row in rows)


@pytest.mark.parametrize("command", sorted(MACHINE_COMMANDS))
def test_every_command_prints_csv_with_nested_values_as_json(
    runner: CliRunner, command: str
) -> None:
    result = runner.invoke(cli, [command, str(MACHINE_COMMANDS[command]), "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows
    if command == "races":
        assert json.loads(rows[0]["children"]) == ["C8.1.1", "C8.1.2"]
        assert rows[0]["not_started"] == "[]"


def test_export_prints_its_account_as_json(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["export", str(RACE), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["lines_read"], report["network_events"]) == (94, 69)


def test_json_and_csv_together_are_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["races", str(RACE), "--json", "--csv"])
    assert result.exit_code == 2
    assert "choose one of --json and --csv" in result.stderr


def test_tree_json_is_one_flat_object_a_connection_in_drawn_order(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["tree", str(RACE), "--json"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["conn_id"], r["depth"], r["parent_id"]) for r in rows[:4]] == [
        ("C8", 0, None), ("C8.1", 1, "C8"), ("C8.1.1", 2, "C8.1"), ("C8.1.2", 2, "C8.1"),
    ]  # fmt: skip
    assert all(not isinstance(v, dict) or k == "client_attempt" for r in rows for k, v in r.items())


# The filters, on every command that reads logs.


def connection_ids(runner: CliRunner, path: Path, *args: str) -> list[str]:
    result = runner.invoke(cli, ["tree", str(path), "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line)["conn_id"] for line in result.stdout.splitlines()]


def test_process_filter_is_case_insensitive_and_takes_a_pid(runner: CliRunner) -> None:
    everything = connection_ids(runner, RACE)
    assert connection_ids(runner, RACE, "--process", "weather") == everything
    assert connection_ids(runner, RACE, "--process", "Weather[2317]") == everything
    assert connection_ids(runner, RACE, "--process", "2317") == everything
    assert connection_ids(runner, RACE, "--process", "Mail") == []


@pytest.mark.parametrize("conn", ["C8", "c8.1.1", "C8.1.1:2", "[C8.1.2]"])
def test_conn_filter_takes_ids_as_logged(runner: CliRunner, conn: str) -> None:
    assert connection_ids(runner, RACE, "--conn", conn) == ["C8", "C8.1", "C8.1.1", "C8.1.2"]


def test_host_and_outcome_filters_pick_whole_trees(runner: CliRunner) -> None:
    assert connection_ids(runner, LOSSES, "--host", "7A1C33E0")[:1] == ["C3"]
    failed = connection_ids(runner, LOSSES, "--outcome", "failed")
    assert failed == connection_ids(runner, LOSSES, "--failed")
    assert {i.split(".")[0] for i in failed} == {"C3", "C4"}


def test_since_and_until_take_an_offset_or_the_logs_clock(runner: CliRunner) -> None:
    # C8 runs from 10:32:05.412 to 10:32:35.7 (+0100 as printed); C7 starts at 10:32:06.323.
    assert connection_ids(runner, RACE, "--until", "10:32:06")[:1] == ["C8"]
    assert "C7" not in connection_ids(runner, RACE, "--until", "10:32:06")
    assert connection_ids(runner, RACE, "--since", "10:32:36") == []
    assert connection_ids(runner, RACE, "--since", "+31s") == []
    assert connection_ids(runner, RACE, "--since", "+30s")[:1] == ["C8"]
    assert connection_ids(runner, RACE, "--until", "2025-03-14 10:32:06") == connection_ids(
        runner, RACE, "--until", "10:32:06"
    )


def test_a_notebook_filters_as_the_command_line_does() -> None:
    """`logflow.Filters` takes what the options take, as text; a bad value is one error."""
    import logflow

    parsed = logflow.parse(RACE, keep="none")
    kept = parsed.table("connections", logflow.Filters(conn="c8.1.1:2", since="+30s"))
    assert kept.collect()["conn_id"].to_list() == ["C8", "C8.1", "C8.1.1", "C8.1.2"]
    with pytest.raises(logflow.LogflowError, match="is not a time"):
        logflow.Filters(until="later")
    with pytest.raises(ValueError, match="the events are parsed.events()"):
        parsed.table("events")


def test_a_filter_that_means_nothing_is_a_usage_error(runner: CliRunner) -> None:
    for args, word in [(["--since", "soon"], "'soon' is not a time"),
                       (["--conn", "X8"], "is not a connection id"),
                       (["--outcome", "lost"], "'lost' is not one of")]:  # fmt: skip
        result = runner.invoke(cli, ["tree", str(RACE), *args])
        assert result.exit_code == 2, args
        assert word in result.stderr


@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_every_table_command_takes_the_filters(runner: CliRunner, command: str) -> None:
    path = str(TABLE_COMMANDS[command])
    every = runner.invoke(cli, [command, path, "--json"]).stdout.splitlines()
    none = runner.invoke(cli, [command, path, "--json", "--process", "nobody"]).stdout
    late = runner.invoke(cli, [command, path, "--json", "--since", "+1h"]).stdout
    assert every and none == "" and late == ""


def test_paths_since_keeps_the_changes_from_then(runner: CliRunner) -> None:
    every = runner.invoke(cli, ["paths", str(PATHS), "--json"]).stdout.splitlines()
    later = runner.invoke(cli, ["paths", str(PATHS), "--json", "--since", "+40s"]).stdout
    assert 0 < len(later.splitlines()) < len(every)


# The summary a reader trusts.


def summary_of(runner: CliRunner, *paths: Path, args: tuple[str, ...] = ()) -> str:
    result = runner.invoke(cli, ["summary", *map(str, paths), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_summary_names_connections_by_process_and_counts_in_units(runner: CliRunner) -> None:
    text = summary_of(runner, RACE)
    assert text.startswith(
        f"Capture: {RACE}  2025-03-14 10:32:05.340 to 10:32:35.730 (+0100), 30.4 s, 69 events\n"
    )
    assert "  Weather[2317]  2 connections, 6 attempts, 69 events\n" in text
    assert "Connections: 2: 1 completed, 1 connecting\n" in text
    assert "  Weather[2317] C8.1: C8.1.1 (ipv6) won; also-ran C8.1.2 (ipv4)\n" in text
    assert not re.search(r": $", text, re.M)  # no count without what it counts


def test_summary_names_the_file_when_several_are_read(runner: CliRunner) -> None:
    text = summary_of(runner, RACE, PROXY)
    assert f"  Weather[2317] C8.1 ({RACE}): C8.1.1 (ipv6) won" in text


def test_summary_says_how_many_more_and_json_never_cuts(runner: CliRunner, tmp_path: Path) -> None:
    lines = [
        f"2025-03-14 10:32:{i // 10:02d}.{i % 10}00000+0100 0x1 Default 0x0 1 0 App: "
        f"(Network) [com.apple.network:connection] [C{i} Hostname#{i:08x}:443 tcp, "
        "attribution: developer] start"
        for i in range(1, 13)
    ]
    log = tmp_path / "many.log"
    log.write_text("\n".join(lines) + "\n")
    assert "Hostname#00000005 (1) and 7 more" in summary_of(runner, log)
    data = json.loads(summary_of(runner, log, args=("--json",)))
    assert len(data["busiest_hosts"]) == 12


def test_summary_counts_match_the_connections_table(runner: CliRunner) -> None:
    parsed = parse([LOSSES], keep="none")
    rows = parsed.connections().collect().group_by("process", "pid").len()
    data = json.loads(summary_of(runner, LOSSES, args=("--json",)))
    (process,) = data["processes"]
    assert process["connections"] + process["attempts"] == rows["len"][0]


def test_summary_counts_private_hosts_apart(runner: CliRunner, tmp_path: Path) -> None:
    line = ("2025-03-14 10:32:05.000000+0100 0x1 Default 0x0 1 0 App: (Network) "
            "[com.apple.network:connection] [C{} {}:443 tcp, attribution: developer] start")  # fmt: skip
    log = tmp_path / "private.log"
    log.write_text("\n".join([line.format(1, "<private>"), line.format(2, "<private>"),
                              line.format(3, "example.com")]) + "\n")  # fmt: skip
    text = summary_of(runner, log)
    assert (
        "Busiest hosts, by connections: example.com (1); 2 connections to <private> hosts" in text
    )


# The tree that explains itself.


def test_tree_offsets_do_not_change_with_the_filters(runner: CliRunner) -> None:
    def line_of(args: list[str], conn: str) -> str:
        out = runner.invoke(cli, ["tree", str(RACE), *args]).stdout.splitlines()
        return next(line for line in out if f" {conn} " in line)

    assert line_of([], "C7.1.1.1") == line_of(["--since", "10:32:06"], "C7.1.1.1")


def test_trees_come_by_file_then_process_then_start(runner: CliRunner) -> None:
    out = runner.invoke(cli, ["tree", str(SERVER), str(RACE)]).stdout.splitlines()
    headings = [line for line in out[1:] if not line.startswith(" ")]
    assert headings[0].endswith(str(SERVER)) and headings[-1].endswith(str(RACE))


# Input rules.


def test_a_file_with_no_network_records_is_one_error(runner: CliRunner, tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("# Notes\n\nNothing from the network here.\n")
    out = tmp_path / "out"
    result = runner.invoke(cli, ["export", str(plain), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: found no Network-framework records in {plain}")
    assert not out.exists()


def test_the_readme_holds_no_network_records(runner: CliRunner, tmp_path: Path) -> None:
    """The README quotes messages in prose and code; none of it is a log."""
    readme = Path(__file__).parent.parent / "README.md"
    result = runner.invoke(cli, ["export", str(readme), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: found no Network-framework records in")
    assert not (tmp_path / "out").exists()


def test_quiet_shows_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terminal, "is_terminal", lambda stream: True)
    result = CliRunner().invoke(cli, ["summary", str(RACE), "--quiet"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert result.stderr == ""


def test_progress_counts_bytes_then_trees() -> None:
    seen: list[tuple[str, int, int | None]] = []

    class Recorder:
        def reading(self, done: int, total: int | None) -> None:
            seen.append(("reading", done, total))

        def building(self, done: int, total: int) -> None:
            seen.append(("building", done, total))

    parse([RACE], keep="none", progress=Recorder())
    size = RACE.stat().st_size
    assert seen[0] == ("reading", size, size)
    assert seen[-1][0] == "building" and seen[-1][1] == seen[-1][2] > 0


# Golden output: summary and tree, reviewed by a person.

GOLDEN_INPUTS = {
    "race": SAMPLES / "logshow-default-race.log",
    "losses": SAMPLES / "logshow-failures-and-losses.log",
    "corpus-017": CORPUS / "017-macos14-logshow-summary.log",
    "corpus-103": CORPUS / "103-ably-xcode26-tahoe-he-both-fail.log",
}


@pytest.mark.parametrize(
    ("name", "command"),
    [
        *((name, command) for name in sorted(GOLDEN_INPUTS) for command in ("summary", "tree")),
        # 103 is bare messages: no times, no timeline.
        *((name, "timeline") for name in ("corpus-017", "losses", "race")),
    ],
)
def test_golden_output(
    runner: CliRunner,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    command: str,
) -> None:
    """The summary, the tree and the text timeline of two samples and two real pastes, as
    reviewed."""
    path = GOLDEN_INPUTS[name]
    if name.startswith("corpus") and not path.exists():
        pytest.skip("../shared/corpus is not here")
    monkeypatch.chdir(path.parent)  # the file named as a user in its folder would
    result = runner.invoke(cli, [command, path.name], catch_exceptions=False)
    expected = GOLDEN / f"{name}.{command}.txt"
    if request.config.getoption("--update-golden"):
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(result.stdout)
        pytest.skip("golden output rewritten; review the diff")
    assert result.stdout == expected.read_text()
