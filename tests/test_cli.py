"""The `logflow` command line as a user sees it: exit codes, stdout/stderr lines, files written."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from logflow.cli import cli
from logflow.pipeline import TABLE_NAMES
from logflow.reading.inputs import LOG_SUFFIXES
from logflow.schema import CFNETWORK_KINDS

RACE = Path(__file__).resolve().parent.parent / "sample_logs" / "logshow-default-race.log"
RACE_LINES = RACE.read_text(encoding="utf-8").splitlines()
ACCOUNT = re.compile(
    r"Read 94 lines from 1 file: (?P<network>\d+) network events, (?P<other>\d+) other records, "
    r"(?P<pt>\d+) preamble/trailer, (?P<unparsed>\d+) unparsed\."
)
# A `log show` row cut short after its fractional seconds, run into the start of the next row.
DAMAGED = "2024-12-12 21:45:11.8" + "2024-12-12 21:45:11.830877+0100 0x793a Def"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def export(runner: CliRunner, tmp_path: Path):
    """Run `logflow export ARGS... -o tmp/out --report tmp/report.json`."""

    def run(*args: str | Path, input: bytes | None = None) -> Result:
        argv = ["export", *map(str, args), "-o", str(tmp_path / "out")]
        argv += ["--report", str(tmp_path / "report.json")]
        return runner.invoke(cli, argv, input=input)

    return run


def write_log(path: Path, lines: list[str]) -> Path:
    """Write ``lines`` (newline-terminated) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def report_of(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))


def assert_one_error_line(result: Result, expected_prefix: str) -> None:
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: " + expected_prefix)
    assert result.stdout == ""


def test_export_writes_parquet_and_prints_account(export, tmp_path: Path) -> None:
    """It exits 0, writes OUT/events.parquet and prints a one-line account of what it read."""
    result = export(RACE)
    assert result.exit_code == 0, result.output
    account, wrote = result.stdout.splitlines()
    assert account.startswith("Read 94 lines from 1 file:")
    match = ACCOUNT.fullmatch(account)
    assert match, account
    assert int(match["network"]) == pl.read_parquet(tmp_path / "out" / "events.parquet").height > 0
    assert wrote == (
        "Wrote events.parquet, connections.parquet, races.parquet, proxy_failures.parquet,"
        f" path_changes.parquet, listeners.parquet to {tmp_path / 'out'}."
    )


def test_report_counts_every_physical_line(export, tmp_path: Path) -> None:
    """It writes a JSON report whose lines_read is the file's physical line count."""
    assert export(RACE).exit_code == 0
    report = report_of(tmp_path)
    for key in ("lines_read", "records", "network_events", "other_records", "unparsed"):
        assert isinstance(report[key], int), key
    assert isinstance(report["unparsed_examples"], list)
    assert report["lines_read"] == len(RACE.read_bytes().splitlines()) == 94
    assert report["unparsed"] == 0


def test_keep_other_adds_the_other_subsystems_rows(export, runner, tmp_path: Path) -> None:
    """With --keep-other the table gains exactly the other subsystems' rows (CFNetwork's too)."""
    assert export(RACE).exit_code == 0
    plain = pl.read_parquet(tmp_path / "out" / "events.parquet")
    kept_dir = tmp_path / "kept"
    result = runner.invoke(cli, ["export", str(RACE), "-o", str(kept_dir), "--keep-other"])
    assert result.exit_code == 0, result.output
    kept = pl.read_parquet(kept_dir / "events.parquet")
    assert kept.height > plain.height
    extra = kept.join(plain, on=["source", "line_no"], how="anti")
    assert extra.height == kept.height - plain.height == report_of(tmp_path)["other_records"]
    assert set(extra["kind"].cast(pl.String)) <= {"other", *CFNETWORK_KINDS}
    assert "com.apple.network" not in set(extra["subsystem"])


@pytest.fixture
def damaged_log(tmp_path: Path) -> Path:
    """A `log show` export whose line 6 is a damaged row."""
    return write_log(tmp_path / "damaged.log", [*RACE_LINES[:5], DAMAGED, *RACE_LINES[5:8]])


def test_strict_exits_1_on_a_damaged_line_but_still_writes(export, damaged_log, tmp_path) -> None:
    """With --strict it exits 1 when a line is unparsed, yet still writes events.parquet."""
    result = export(damaged_log, "--strict")
    assert result.exit_code == 1
    assert (tmp_path / "out" / "events.parquet").is_file()
    assert ", 1 unparsed." in result.stdout.splitlines()[0]
    assert result.stderr.splitlines()[-1].startswith(f"  unparsed: {damaged_log}:6: ")


def test_damaged_line_without_strict_exits_0(export, damaged_log, tmp_path: Path) -> None:
    """Without --strict a damaged line is reported but the run exits 0."""
    result = export(damaged_log)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "events.parquet").is_file()


def test_report_names_the_damaged_line(export, damaged_log, tmp_path: Path) -> None:
    """The report lists the damaged line's source, line number and a reason."""
    export(damaged_log)
    report = report_of(tmp_path)
    assert report["unparsed"] == 1
    [example] = report["unparsed_examples"]
    assert (example["source"], example["line_no"]) == (str(damaged_log), 6)
    assert example["reason"]


def test_several_files_add_up(export, tmp_path: Path) -> None:
    """Given several files it reads them all and lines_read is the sum of their lines."""
    a = write_log(tmp_path / "a.log", RACE_LINES[:10])
    b = write_log(tmp_path / "b.log", RACE_LINES[:4])
    result = export(a, b)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Read 14 lines from 2 files:")
    assert report_of(tmp_path)["lines_read"] == 14


def test_workers_changes_no_table_and_must_be_one_or_more(export, tmp_path: Path) -> None:
    folder = Path(__file__).resolve().parent.parent / "sample_logs"
    assert export(folder, "--workers", "1").exit_code == 0
    one = {
        table: pl.read_parquet(tmp_path / "out" / f"{table}.parquet")
        for table in ("events", *TABLE_NAMES)
    }
    assert export(folder, "--workers", "3").exit_code == 0
    for table, frame in one.items():
        assert pl.read_parquet(tmp_path / "out" / f"{table}.parquet").equals(frame), table
    refused = export(folder, "--workers", "0")
    assert refused.exit_code == 2
    assert "0 is not a number of workers: give 1 or more" in refused.stderr


def test_folder_is_read_recursively(export, tmp_path: Path) -> None:
    """Given a folder it reads the log files in it and its subfolders, and skips other files."""
    folder = tmp_path / "logs"
    write_log(folder / "a.log", RACE_LINES[:10])
    write_log(folder / "sub" / "deeper" / "b.log", RACE_LINES[:7])
    (folder / "picture.png").write_bytes(b"\x89PNG\x00\x00")
    result = export(folder)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Read 17 lines from 2 files:")
    assert report_of(tmp_path)["files"] == 2


def test_help_names_every_suffix_a_folder_is_read_for(runner: CliRunner) -> None:
    """What `export --help` says a folder's files are is what the reader takes."""
    listed = " ".join(runner.invoke(cli, ["export", "--help"]).output.split())
    assert f"every {' '.join(LOG_SUFFIXES)} file" in listed


def test_gzipped_file_is_read(export, tmp_path: Path) -> None:
    """A gzip'd export is read as if it were plain text."""
    gz = tmp_path / "race.log.gz"
    gz.write_bytes(gzip.compress(RACE.read_bytes()))
    result = export(gz)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Read 94 lines from 1 file:")


def test_stdin_dash_is_read(export, tmp_path: Path) -> None:
    """`-` reads the export from standard input."""
    result = export("-", input=RACE.read_bytes())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Read 94 lines from 1 file:")


def test_binary_file_is_refused(export, tmp_path: Path) -> None:
    """It exits 1 and names the file when the file holds binary data (NUL bytes)."""
    path = tmp_path / "binary.log"
    path.write_bytes(b"bplist00\x00\x01\x02\x00\xd1\x01")
    assert_one_error_line(export(path), f"{path}: binary data, not a text log")


@pytest.mark.parametrize("name", ["system.logarchive", "0000000000000001.tracev3"])
def test_archives_are_refused_with_the_export_command(export, tmp_path: Path, name: str) -> None:
    """A .logarchive folder or .tracev3 file: one line naming it and the `log show` to run."""
    path = tmp_path / name
    if path.suffix == ".logarchive":
        path.mkdir()
    else:
        path.write_bytes(b"some bytes")
    result = export(path)
    assert_one_error_line(result, f"{path}: a binary unified-log archive")
    assert f"log show --archive {path} " in result.stderr
    assert f"unifiedlog_iterator --mode log-archive -i {path} " in result.stderr


def test_empty_file_is_refused(export, tmp_path: Path) -> None:
    """It exits 1 and names the file when the file is empty."""
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    assert_one_error_line(export(path), f"{path}: empty file, nothing to read")


def test_missing_path_is_refused(export, tmp_path: Path) -> None:
    """It exits 1 and names the path when it does not exist."""
    path = tmp_path / "nope.log"
    assert_one_error_line(export(path), f"{path}: no such file or folder")


def test_folder_without_log_files_is_refused(export, tmp_path: Path) -> None:
    """It exits 1 with one line naming the folder when it holds no log files."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"png")
    assert_one_error_line(export(folder), f"{folder}: folder holds no log files")


def test_invalid_utf8_is_replaced_not_fatal(export, tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are replaced, counted in the account line, and the run exits 0."""
    raw = bytearray(RACE.read_bytes())
    raw[raw.index(b"Weather:") + 3 : raw.index(b"Weather:") + 3] = b"\xff\xfe"
    path = tmp_path / "latin.log"
    path.write_bytes(bytes(raw))
    result = export(path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(" 2 bytes did not decode and were replaced.")


def test_huge_single_line_is_reported_unparsed(export, tmp_path: Path) -> None:
    """A single 10 MB line without a newline does not crash: exit 0, one unparsed with a reason."""
    path = tmp_path / "huge.log"
    path.write_bytes(b"x" * 10_000_000)
    result = export(path)
    assert result.exit_code == 0, result.output
    report = report_of(tmp_path)
    assert (report["lines_read"], report["unparsed"]) == (1, 1)
    assert report["unparsed_examples"][0]["reason"]


def test_export_without_paths_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """`logflow export -o OUT` with no paths exits 2 and says PATHS is missing."""
    result = runner.invoke(cli, ["export", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Error: Missing argument 'PATHS...'." in result.stderr.splitlines()


def test_export_without_out_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """`logflow export FILE` without -o exits 2, and says -o is missing."""
    result = runner.invoke(cli, ["export", str(RACE)])
    assert result.exit_code == 2
    assert "Error: Missing option '-o' / '--out'." in result.stderr.splitlines()


def test_top_level_help(runner: CliRunner) -> None:
    """`logflow --help` exits 0 and lists the export command."""
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert re.search(r"^\s+export\s", result.stdout, re.MULTILINE)


def test_export_help_shows_a_sample_logs_example(runner: CliRunner) -> None:
    """`logflow export --help` exits 0 and shows an example using sample_logs."""
    result = runner.invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    assert "logflow export sample_logs/logshow-default-race.log -o out/" in result.stdout


def test_unwritable_output_is_one_error_line(runner: CliRunner, tmp_path: Path) -> None:
    """An output folder that cannot be created is one error line naming it, exit 1."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(cli, ["export", str(RACE), "-o", str(blocker / "out")])
    assert_one_error_line(result, str(blocker / "out"))


def test_tree_draws_the_race(runner: CliRunner) -> None:
    """`logflow tree` draws C8 -> C8.1 -> C8.1.1 (won) and C8.1.2 (also-ran), plain in a pipe."""
    result = runner.invoke(cli, ["tree", str(RACE), "--conn", "C8"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("connection  endpoint  mode transport  OUTCOME  started")
    assert lines[1].startswith("Weather[2317]  ")
    # A root by the host it was asked for and the address it connected to; times in the
    # log's own clock (+0100), an attempt's start after its root's.
    assert lines[2].startswith(
        "  C8  Hostname#5c1e07a3 -> IPv6#a0c4f19e.443  parent-flow tcp  completed  10:32:05.412"
        "  took 30.32 s  ready after 206 ms  48.2 kB in, 2.7 kB out  rtt 37 ms"
    )
    assert lines[3].startswith("  └─ C8.1  Hostname#5c1e07a3:443  resolver tcp  completed")
    assert lines[4].startswith(
        "     ├─ C8.1.1  IPv6#a0c4f19e.443  socket-flow tcp  WON  10:32:05.431 +19 ms"
    )
    assert lines[5].startswith(
        "     └─ C8.1.2  IPv4#3d7e52b8:443  socket-flow tcp  also-ran  10:32:05.531 +120 ms"
    )
    assert len(lines) == 6
    assert "\x1b[" not in result.stdout


def test_races_json_is_one_object_a_line(runner: CliRunner) -> None:
    """`logflow races --json` prints JSON lines a script can read."""
    result = runner.invoke(cli, ["races", str(RACE), "--json"])
    assert result.exit_code == 0, result.output
    (race,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (race["winner_id"], race["also_rans"]) == ("C8.1.1", ["C8.1.2"])


def test_paths_csv_has_a_header(runner: CliRunner) -> None:
    """`logflow paths --csv` prints a header and one row per change."""
    sample = RACE.parent / "xcode15-metadata.log"
    result = runner.invoke(cli, ["paths", str(sample), "--csv"])
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header == "source,process,pid,conn_id,ts,line_no,change,from,to,system_change"
    assert any(",interface,en0,pdp_ip0," in row for row in rows)


def test_summary_json_names_its_sections(runner: CliRunner) -> None:
    """`logflow summary --json` is one object with every section of the summary."""
    result = runner.invoke(cli, ["summary", str(RACE), "--json"])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    data = json.loads(line)
    assert set(data) == {
        "captures", "processes", "connections", "attempts", "races", "waiting_on_path",
        "dropped", "failures_by_error", "proxy_failures", "path_changes", "listeners",
        "busiest_hosts", "private_host_connections",
    }  # fmt: skip
    (race,) = data["races"]["races"]
    assert (race["winner_id"], race["also_rans"]) == ("C8.1.1", ["C8.1.2"])


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(runner: CliRunner, command: str) -> None:
    """Each command explains itself with an example, in 80 columns, and the README
    mentions it."""
    result = runner.invoke(cli, [command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    if command != "cache":  # the one that reads no logs
        assert "sample_logs/" in result.stdout
    assert max(map(len, result.stdout.splitlines())) <= 80
    readme = (RACE.parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"logflow {command}" in readme


def test_a_failed_export_leaves_no_folder_it_made(runner: CliRunner, tmp_path: Path) -> None:
    """A missing input fails the run: the -o folder it would have made is not left behind,
    and one that was there already stays."""
    made = tmp_path / "new"
    result = runner.invoke(cli, ["export", str(tmp_path / "missing.log"), "-o", str(made)])
    assert result.exit_code == 1
    assert "no such file or folder" in result.output
    assert not made.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    runner.invoke(cli, ["export", str(tmp_path / "missing.log"), "-o", str(kept)])
    assert kept.is_dir()


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        (["--color"], {}, True),
        (["--color"], {"NO_COLOR": "1"}, True),  # asked for on the command line
        ([], {"NO_COLOR": "1"}, False),
        (["--no-color"], {}, False),
    ],
)
def test_tree_colour_follows_the_flag_then_no_color(
    runner: CliRunner, args: list[str], env: dict[str, str], coloured: bool
) -> None:
    result = runner.invoke(cli, ["tree", str(RACE), *args], env=env, color=True)
    assert result.exit_code == 0, result.output
    assert ("\x1b[" in result.output) is coloured
