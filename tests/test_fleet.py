"""Fleet datasets on threads (issue 17): the layout, the manifest, running again, devices,
the fleet questions against per-file parses, DuckDB reading the docs' queries, the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import logflow
from logflow import schema
from logflow.cli import cli, terminal
from logflow.errors import DeviceError, InputError
from logflow.fleets import dataset as layout
from logflow.fleets.build import build
from logflow.fleets.devices import identify, read_devices
from logflow.testing import FAIL_ONCE

from conftest import ROOT, SAMPLES

RACE = SAMPLES / "logshow-default-race.log"  # 2025-03-14, with a race won over IPv6
REFUSED = SAMPLES / "logstream-compact-refused.log"  # localhost refused, over lo0
RELAY = SAMPLES / "device-relay.log"  # a device relay: no year
CONSOLE = SAMPLES / "console-copy.tsv.log"  # a Console copy: no date; a proxy failure
FILE = re.compile(
    r"^(events|connections|races|proxy_failures|path_changes|listeners)/device=[^/]+/date=(\d{4}-\d\d-\d\d|unknown)/[0-9a-f]{16}-\d+\.parquet$"
)


def put(folder: Path, *files: tuple[str, Path]) -> Path:
    """Copy each (relative name, sample) into ``folder``."""
    for name, source in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folder / name)
    return folder


def lines_in(folder: Path) -> int:
    """Lines of the logs in ``folder``, as a parse of each reads them."""
    return sum(logflow.parse(p, keep="none").lines_read for p in folder.rglob("*.log"))


def files_of(dataset: Path) -> dict[str, int]:
    """The dataset's files, relative, with their modification times (ns)."""
    return {
        str(p.relative_to(dataset)): p.stat().st_mtime_ns
        for p in sorted(dataset.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def devices(tmp_path: Path) -> Path:
    return put(
        tmp_path / "devices",
        ("phone-a/race.log", RACE),
        ("phone-a/refused.log", REFUSED),
        ("phone-b/relay.log", RELAY),
        ("phone-b/console.log", CONSOLE),
    )


def test_each_table_is_partitioned_by_device_and_date_in_files_of_their_own(
    devices: Path, tmp_path: Path
) -> None:
    built = build([str(devices)], tmp_path / "fleet")
    manifest = built.manifest
    assert manifest.columns == list(schema.MANIFEST_SCHEMA)
    assert manifest["status"].to_list() == ["ok"] * 4
    listed = sorted(manifest["files"].explode().to_list())
    on_disk = sorted(p for p in files_of(tmp_path / "fleet") if p != layout.MANIFEST)
    assert listed == on_disk
    assert all(FILE.match(name) for name in on_disk), on_disk
    race = manifest.filter(pl.col("path") == "phone-a/race.log").row(0, named=True)
    assert race["device"] == "phone-a"
    assert race["export_id"] == layout.export_id("phone-a", "phone-a/race.log")
    assert f"races/device=phone-a/date=2025-03-14/{race['export_id']}-0.parquet" in race["files"]
    # A relay prints no year, a Console copy no date.
    relay = manifest.filter(pl.col("path") == "phone-b/relay.log")["files"][0].to_list()
    assert {name.split("/")[2] for name in relay} == {"date=unknown"}
    # Every row of a file is its export's, and the file says which table it is.
    events = pl.read_parquet(tmp_path / "fleet" / race["files"][0])
    assert set(events["export_id"]) == {race["export_id"]}
    metadata = pl.read_parquet_metadata(tmp_path / "fleet" / race["files"][0])
    assert metadata["logflow.table"] == race["files"][0].split("/")[0]
    described = pq.read_schema(tmp_path / "fleet" / race["files"][0]).field("export_id")
    assert described.metadata[b"description"] == schema.EXPORT_ID.description.encode()
    # The table files are as readable as the manifest (as any new file): others read them.
    modes = {
        (tmp_path / "fleet" / name).stat().st_mode & 0o777 for name in [*listed, layout.MANIFEST]
    }
    assert len(modes) == 1, modes


def test_the_tables_hold_what_a_parse_of_each_export_holds(devices: Path, tmp_path: Path) -> None:
    build([str(devices)], tmp_path / "fleet")
    fleet = logflow.fleet(tmp_path / "fleet")
    for name in ("connections", "races", "proxy_failures", "path_changes"):
        got = fleet.table(name).drop("export_id", "device", "date").collect()
        expected = pl.concat(
            [
                logflow.parse(p, keep="none").table(name).collect()
                for p in sorted(devices.rglob("*.log"))
            ]
        )
        key = ["source", "process", "pid", "conn_id" if name != "races" else "parent_id"]
        assert got.sort(key, nulls_last=True).equals(expected.sort(key, nulls_last=True)), name


def test_date_gives_the_unknown_days_one(devices: Path, tmp_path: Path) -> None:
    built = build([str(devices)], tmp_path / "fleet", date="2025-03-14")
    days = {name.split("/")[2] for name in built.manifest["files"].explode().to_list()}
    assert days == {"date=2025-03-14", "date=2025-11-04"}  # the relay's and the copy's too


def test_running_again_changes_nothing(devices: Path, tmp_path: Path) -> None:
    build([str(devices)], tmp_path / "fleet")
    before = files_of(tmp_path / "fleet")
    again = build([str(devices)], tmp_path / "fleet")
    assert (again.read, again.unchanged) == (0, 4)
    assert files_of(tmp_path / "fleet") == before


def test_a_new_export_adds_only_its_files(devices: Path, tmp_path: Path) -> None:
    build([str(devices)], tmp_path / "fleet")
    before = files_of(tmp_path / "fleet")
    put(devices, ("phone-c/race.log", RACE))
    added = build([str(devices)], tmp_path / "fleet")
    after = files_of(tmp_path / "fleet")
    assert (added.read, added.unchanged) == (1, 4)
    new = {name for name in after if name not in before} - {layout.MANIFEST}
    new_id = layout.export_id("phone-c", "phone-c/race.log")
    assert new and all("device=phone-c/" in name and new_id in name for name in new)
    assert {k: v for k, v in after.items() if k in before and k != layout.MANIFEST} == {
        k: v for k, v in before.items() if k != layout.MANIFEST
    }


def test_an_export_that_changed_is_replaced_whole(devices: Path, tmp_path: Path) -> None:
    build([str(devices)], tmp_path / "fleet")
    before = files_of(tmp_path / "fleet")
    shutil.copy(CONSOLE, devices / "phone-a" / "race.log")  # now a Console copy: undated
    changed = build([str(devices)], tmp_path / "fleet")
    after = files_of(tmp_path / "fleet")
    race_id = layout.export_id("phone-a", "phone-a/race.log")
    assert (changed.read, changed.unchanged) == (1, 3)
    assert not [name for name in after if race_id in name and "date=2025-03-14" in name]
    mine = sorted(name for name in after if race_id in name)
    assert mine and all("date=unknown" in name for name in mine)
    assert mine == sorted(changed.manifest.filter(pl.col("export_id") == race_id)["files"][0])
    # The others' files are as they were.
    others = {k: v for k, v in before.items() if race_id not in k and k != layout.MANIFEST}
    assert {k: after[k] for k in others} == others
    assert not list((tmp_path / "fleet").glob("races/device=phone-a/date=2025-03-14"))


def test_an_export_that_cannot_be_read_is_reported_and_the_rest_written(
    devices: Path, tmp_path: Path
) -> None:
    (devices / "phone-b" / "core.log").write_bytes(bytes(range(256)) * 64)
    built = build([str(devices)], tmp_path / "fleet")
    assert built.exit_code == 1
    assert built.failed["path"].to_list() == ["phone-b/core.log"]
    assert "binary data" in built.failed["error"][0]
    row = built.manifest.filter(pl.col("path") == "phone-b/core.log").row(0, named=True)
    assert (row["status"], row["files"], row["lines"]) == ("error", [], None)
    assert built.manifest.filter(pl.col("status") == "ok").height == 4
    assert not [p for p in files_of(tmp_path / "fleet") if row["export_id"] in p]


def test_a_failing_export_leaves_no_file_of_its_own(
    devices: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAIL_ONCE, f"race.log:{tmp_path / 'failed-once'}")
    (tmp_path / "fleet").mkdir()
    with pytest.raises(RuntimeError, match="fails this once"):
        layout.write_export(
            str(devices / "phone-a" / "race.log"), str(tmp_path / "fleet"), "0" * 16, "phone-a"
        )
    assert [p for p in (tmp_path / "fleet").rglob("*") if p.is_file()] == []


def test_a_failure_is_retried(
    devices: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "failed-once"
    monkeypatch.setenv(FAIL_ONCE, f"phone-a/race.log:{marker}")
    built = build([str(devices)], tmp_path / "fleet")
    assert marker.exists()  # it failed once
    assert built.manifest["status"].to_list() == ["ok"] * 4


def test_files_a_stopped_run_left_are_removed(devices: Path, tmp_path: Path) -> None:
    build([str(devices)], tmp_path / "fleet")
    stray = (
        tmp_path
        / "fleet"
        / "events"
        / "device=phone-a"
        / "date=2025-03-14"
        / ("ab" * 8 + "-0.parquet")
    )
    shutil.copy(next((tmp_path / "fleet" / "events").rglob("*.parquet")), stray)
    partial = stray.with_name(f".{stray.name}.x1y2.partial")
    partial.write_bytes(b"PAR1")
    build([str(devices)], tmp_path / "fleet")
    assert not stray.exists()
    assert not partial.exists()


def test_devices_come_from_a_devices_file(devices: Path, tmp_path: Path) -> None:
    table = tmp_path / "devices.csv"
    table.write_text(
        "pattern,device,model,os_version\n"
        'phone-a/r*.log,Anna\'s iPhone,"iPhone15,2",18.3\n'
        "**/console.log,lab-ipad,,17.5\n"
    )
    built = build([str(devices)], tmp_path / "fleet", devices=table)
    got = built.manifest.select("path", "device", "model", "os_version").sort("path")
    assert got.rows() == [
        ("phone-a/race.log", "Anna's iPhone", "iPhone15,2", "18.3"),
        ("phone-a/refused.log", "Anna's iPhone", "iPhone15,2", "18.3"),
        ("phone-b/console.log", "lab-ipad", None, "17.5"),
        ("phone-b/relay.log", "phone-b", None, None),  # no pattern: its folder
    ]
    assert list((tmp_path / "fleet" / "connections").glob("device=Anna%27s%20iPhone"))
    fleet = logflow.fleet(tmp_path / "fleet")
    assert "Anna's iPhone" in fleet.table("connections").collect()["device"].to_list()


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("a/*.log", "a/x.log", True),
        ("a/*.log", "a/b/x.log", False),
        ("a/**/x.log", "a/x.log", True),
        ("a/**/x.log", "a/b/c/x.log", True),
        ("**", "a/b.log", True),
        ("a/?.log", "a/xy.log", False),
        ("a.b/*", "axb/c", False),
    ],
)
def test_device_patterns_are_globs(pattern: str, path: str, matches: bool) -> None:
    devices = pl.DataFrame(
        {
            "order": [0],
            "pattern": [pattern],
            "device": ["d"],
            "model": [None],
            "os_version": [None],
        },
        schema_overrides={"order": pl.UInt32, "model": pl.String, "os_version": pl.String},
    )
    found = identify([path], devices=devices)["device"][0]
    assert found == ("d" if matches else (path.split("/")[0] if "/" in path else None))


def test_a_devices_file_without_its_columns_is_one_error(tmp_path: Path) -> None:
    table = tmp_path / "devices.csv"
    table.write_text("glob,name\na/*,a\n")
    with pytest.raises(DeviceError) as error:
        read_devices(table)
    assert str(error.value) == (
        f"{table}: a devices file needs the columns pattern and device (and model, "
        "os_version where known); it has glob, name"
    )


def test_an_export_with_no_device_is_one_error(tmp_path: Path) -> None:
    put(tmp_path / "logs", ("race.log", RACE))
    with pytest.raises(DeviceError) as error:
        build([str(tmp_path / "logs")], tmp_path / "fleet")
    assert str(error.value) == (
        f"{tmp_path / 'logs' / 'race.log'}: cannot tell its device: put each device's exports "
        "in a folder of its own below the folder named, or give --device NAME or --devices FILE"
    )
    built = build([str(tmp_path / "logs")], tmp_path / "fleet", device="mac")
    assert built.manifest["device"].to_list() == ["mac"]


def test_one_export_named_under_two_roots_is_an_error(tmp_path: Path) -> None:
    put(tmp_path / "a", ("phone/race.log", RACE))
    put(tmp_path / "b", ("phone/race.log", RACE))
    with pytest.raises(InputError, match="are one export to the dataset"):
        build([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "fleet")


# ---- The fleet questions, against what a parse of each file says --------------------------


@pytest.fixture
def overlapping(tmp_path: Path) -> Path:
    """Two devices; phone-a's two exports overlap wholly (the same log, twice)."""
    return put(
        tmp_path / "overlapping",
        ("phone-a/monday.log", REFUSED),
        ("phone-a/tuesday.log", REFUSED),
        ("phone-a/race.log", RACE),
        ("phone-b/console.log", CONSOLE),
        ("phone-b/failures.log", SAMPLES / "logshow-failures-and-losses.log"),
        ("phone-b/network-change.log", SAMPLES / "console-network-change.tsv.log"),
    )


def test_failure_signatures_count_overlapping_exports_once(
    overlapping: Path, tmp_path: Path
) -> None:
    build([str(overlapping)], tmp_path / "fleet")
    fleet = logflow.fleet(tmp_path / "fleet")
    got = (
        fleet.failure_signatures()
        .select("error", "host", "interface", pl.col("devices", "attempts").cast(pl.Int64))
        .collect()
        .sort(pl.all(), nulls_last=True)
    )
    per_file = {
        ("phone-a", 0): REFUSED,  # once, though two exports hold it
        ("phone-a", 1): RACE,
        ("phone-b", 0): CONSOLE,
        ("phone-b", 1): SAMPLES / "logshow-failures-and-losses.log",
        ("phone-b", 2): SAMPLES / "console-network-change.tsv.log",
    }
    frames = [
        logflow.parse(path, keep="none")
        .table("connections")
        .collect()
        .with_columns(device=pl.lit(device))
        for (device, _), path in per_file.items()
    ]
    failed = pl.concat(frames).filter((pl.col("outcome") == "failed") & ~pl.col("implicit"))
    expected = (
        failed.group_by(
            error=pl.coalesce("error_name", "error", "last_error"),
            host=pl.coalesce("requested_host", "host"),
            interface="interface",
        )
        .agg(devices=pl.col("device").n_unique().cast(pl.Int64), attempts=pl.len().cast(pl.Int64))
        .sort(pl.all(), nulls_last=True)
    )
    assert expected.height > 2
    assert got.equals(expected)
    # Twice the refusals, had the overlap counted twice.
    refused = fleet.table("connections").filter(pl.col("error_name") == "ECONNREFUSED").collect()
    assert refused.height == 2 * got.filter(pl.col("error") == "ECONNREFUSED")["attempts"].sum()


def test_a_rerun_with_the_same_pid_and_ids_another_day_counts_again(tmp_path: Path) -> None:
    """A simulator booted for each test run gives the app the same pid, and the app numbers
    its connections from C1 again: the same ids on another day are other connections."""
    folder = put(tmp_path / "runs", ("sim/monday.log", REFUSED))
    text = REFUSED.read_text(encoding="utf-8").replace("2025-11-04", "2025-11-05")
    (folder / "sim" / "tuesday.log").write_text(text, encoding="utf-8")
    build([str(folder)], tmp_path / "fleet")
    fleet = logflow.fleet(tmp_path / "fleet")
    once = logflow.parse(REFUSED, keep="none").table("connections").collect()
    refused = once.filter(pl.col("error_name") == "ECONNREFUSED").height
    got = fleet.failure_signatures().filter(pl.col("error") == "ECONNREFUSED").collect()
    assert refused > 0
    assert got["attempts"].sum() == 2 * refused
    assert fleet.distinct("connections").collect().height == 2 * once.height


def test_the_other_questions_count_what_the_parses_hold(overlapping: Path, tmp_path: Path) -> None:
    build([str(overlapping)], tmp_path / "fleet")
    answers = logflow.fleet(tmp_path / "fleet").answers()
    parses = {
        "phone-a": [REFUSED, RACE],
        "phone-b": [
            CONSOLE,
            SAMPLES / "logshow-failures-and-losses.log",
            SAMPLES / "console-network-change.tsv.log",
        ],
    }
    tables = {
        name: pl.concat(
            [
                logflow.parse(path, keep="none")
                .table(name)
                .collect()
                .with_columns(device=pl.lit(device))
                for device, paths in parses.items()
                for path in paths
            ]
        )
        for name in ("connections", "races", "proxy_failures", "path_changes")
    }
    races = tables["races"]
    assert sum(row["races"] for row in answers["happy_eyeballs"]) == races.height
    won = races.filter(pl.col("winner_id").is_not_null()).height
    assert sum(row["races"] for row in answers["also_rans"]) == won
    also_rans = races.filter(pl.col("winner_id").is_not_null())["also_rans"].list.len().sum()
    assert sum(row["also_rans"] for row in answers["also_rans"]) == also_rans
    proxies = tables["proxy_failures"]
    assert sum(row["failures"] for row in answers["proxy_failures"]) == proxies.height > 0
    worst = {row["device"]: row for row in answers["worst_devices"]}
    conns = tables["connections"]
    roots = conns.filter((pl.col("depth") == 0) & pl.col("tls_stream_of").is_null())
    for device in parses:
        mine = roots.filter(pl.col("device") == device)
        assert worst[device]["connections"] == mine.height
        assert worst[device]["failed"] == mine.filter(pl.col("outcome") == "failed").height
        changes = tables["path_changes"].filter(pl.col("device") == device).height
        assert worst[device]["path_changes"] == changes
    assert answers["dataset"]["exports"] == 6
    assert answers["dataset"]["devices"] == 2


def test_a_path_change_storm_is_five_changes_in_a_minute(tmp_path: Path) -> None:
    fleet_dir = tmp_path / "fleet"
    changes = pl.DataFrame(
        {
            "source": ["x.log"] * 6,
            "process": ["Mail"] * 6,
            "pid": [7] * 6,
            "conn_id": ["C1", "C2", "C1", "C2", "C1", "C3"],
            "ts": pl.datetime_range(
                pl.datetime(2025, 3, 14, 9, 0, time_zone="UTC"),
                pl.datetime(2025, 3, 14, 9, 0, 50, time_zone="UTC"),
                "10s",
                eager=True,
            ),
            "change": ["status", "interface", "status", "status", "viability", "status"],
            "from": ["satisfied"] * 6,
            "to": ["unsatisfied"] * 6,
            "export_id": ["0" * 16] * 6,
        }
    )
    where = fleet_dir / "path_changes" / "device=ipad" / "date=2025-03-14"
    where.mkdir(parents=True)
    changes.write_parquet(where / f"{'0' * 16}-0.parquet")
    layout.write_manifest(fleet_dir, pl.DataFrame(schema=schema.MANIFEST_SCHEMA))
    storms = logflow.fleet(fleet_dir).path_change_storms().collect()
    assert storms.select("device", "changes", "connections", "changed").rows() == [
        ("ipad", 6, 3, ["interface", "status", "viability"])
    ]
    changes.head(4).write_parquet(where / f"{'0' * 16}-0.parquet")
    assert logflow.fleet(fleet_dir).path_change_storms().collect().is_empty()


# ---- DuckDB reads the dataset: the queries of docs/fleet.md --------------------------------

FLEET_DOC = ROOT / "docs" / "fleet.md"


def duckdb_queries() -> list[str]:
    """The ```sql blocks of docs/fleet.md's DuckDB section, in order."""
    section = FLEET_DOC.read_text(encoding="utf-8").split("## In DuckDB")[1].split("\n## ")[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


def test_the_docs_duckdb_queries_give_what_logflow_fleet_gives(
    overlapping: Path, tmp_path: Path
) -> None:
    import duckdb

    build([str(overlapping)], tmp_path / "fleet")
    fleet = logflow.fleet(tmp_path / "fleet")
    answers = [fleet.failure_signatures(), fleet.happy_eyeballs(), fleet.proxy_failures_by_proxy()]
    queries = duckdb_queries()
    assert len(queries) == len(answers)
    for query, answer in zip(queries, answers, strict=True):
        got = duckdb.sql(query.replace("DATASET", str(tmp_path / "fleet"))).pl()
        expected = answer.collect()
        integers = {c: pl.Int64 for c, t in expected.schema.items() if t.is_integer()}
        assert not expected.is_empty()
        assert got.cast(integers).equals(expected.cast(integers)), query


# ---- The command line ------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_export_dataset_says_what_it_read_and_what_the_dataset_holds(
    runner: CliRunner, devices: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fleet"
    result = runner.invoke(cli, ["export", str(devices), "-o", str(out), "--dataset"])
    assert (result.exit_code, result.stderr) == (0, "")
    lines = lines_in(devices)
    assert result.stdout == f"Read 4 exports. {out} holds 4 exports of 2 devices, {lines} lines.\n"
    again = runner.invoke(cli, ["export", str(devices), "-o", str(out), "--dataset", "--json"])
    assert again.exit_code == 0
    assert json.loads(again.stdout) == {
        "dataset": str(out),
        "read": 0,
        "unchanged": 4,
        "failed": [],
        "exports": 4,
        "devices": 2,
        "lines": lines,
    }


def test_export_dataset_on_a_terminal_shows_the_exports_done_unless_quiet(
    runner: CliRunner, devices: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terminal, "is_terminal", lambda stream: True)
    args = ["export", str(devices), "-o", str(tmp_path / "fleet"), "--dataset"]
    # (TTY_COMPATIBLE: rich draws its bar for a terminal, which CliRunner's stderr is not.)
    shown = runner.invoke(cli, args, env={"TTY_COMPATIBLE": "1", "COLUMNS": "80"})
    assert shown.exit_code == 0
    assert "/4 exports" in shown.stderr
    assert shown.stdout.startswith("Read 4 exports.")
    quiet = runner.invoke(cli, [*args, "--quiet"], env={"TTY_COMPATIBLE": "1"})
    assert (quiet.exit_code, quiet.stderr) == (0, "")


def test_export_dataset_names_a_failed_export_on_stderr_and_exits_1(
    runner: CliRunner, devices: Path, tmp_path: Path
) -> None:
    broken = devices / "phone-b" / "core.log"
    lines = lines_in(devices)  # (before the broken one is there)
    broken.write_bytes(bytes(range(256)) * 64)
    out = tmp_path / "fleet"
    result = runner.invoke(cli, ["export", str(devices), "-o", str(out), "--dataset"])
    assert result.exit_code == 1
    assert (
        result.stdout
        == f"Read 5 exports, 1 failed. {out} holds 4 exports of 2 devices, {lines} lines.\n"
    )
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"  failed: {broken}: binary data, not a text log")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "dask"], "Error: --engine goes with --dataset"),
        (["--device", "a", "--date", "2025-03-14"], "Error: --device, --date go with --dataset"),
        (
            ["--dataset", "--format", "csv"],
            "Error: --format cannot go with --dataset: a dataset is Parquet files of Network events, and its manifest is the account",
        ),
        (["--dataset", "--scheduler", "tcp://x:1"], "Error: --scheduler goes with --engine dask"),
        (
            ["--dataset", "--engine", "dask", "--scheduler", "tcp://x:1", "--workers", "2"],
            "Error: --workers sizes a local cluster; a running scheduler (--scheduler) has its own",
        ),
        (
            ["--dataset", "--date", "14/03/2025"],
            "Error: Invalid value for '--date': '14/03/2025' is not a day: give YYYY-MM-DD",
        ),
    ],
)
def test_fleet_options_out_of_place_are_usage_errors(
    runner: CliRunner, devices: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["export", str(devices), "-o", str(tmp_path / "fleet"), *args])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message
    assert not (tmp_path / "fleet").exists()


def test_export_dataset_without_a_device_is_one_error_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    put(tmp_path / "logs", ("race.log", RACE))
    result = runner.invoke(
        cli, ["export", str(tmp_path / "logs"), "-o", str(tmp_path / "fleet"), "--dataset"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'logs' / 'race.log'}: cannot tell its device: put each device's "
        "exports in a folder of its own below the folder named, or give --device NAME or "
        "--devices FILE\n"
    )


def test_export_dataset_into_an_export_folder_is_one_error_line(
    runner: CliRunner, devices: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert runner.invoke(cli, ["export", str(RACE), "-o", str(out)]).exit_code == 0
    result = runner.invoke(cli, ["export", str(devices), "-o", str(out), "--dataset"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {out}: holds the tables of an export without --dataset; name another folder\n"
    )


def test_summary_of_a_dataset_answers_across_devices(
    runner: CliRunner, overlapping: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fleet"
    assert (
        runner.invoke(cli, ["export", str(overlapping), "-o", str(out), "--dataset"]).exit_code == 0
    )
    result = runner.invoke(cli, ["summary", str(out)])
    assert (result.exit_code, result.stderr) == (0, "")
    text = result.stdout
    assert text.startswith(f"{out}: 6 exports of 2 devices, ")
    headings = [line for line in text.splitlines() if line and not line.startswith(" ")][1:]
    assert headings == [
        "Failure signatures (error x host x interface x OS), by devices hit:",
        "Happy Eyeballs races, by the winner's address family:",
        "Also-rans, by the winning family:",
        "Proxy failures, by proxy:",
        "Path-change storms (5 or more changes in a minute on a device):",
        "Worst devices:",
    ]
    assert "  Device   Conns  Failed  Failed attempts  Proxy failures  Path changes  Storms" in text
    as_csv = runner.invoke(cli, ["summary", str(out), "--csv"]).stdout.splitlines()
    assert (
        as_csv[0] == "device,connections,failed,failed_attempts,proxy_failures,path_changes,storms"
    )
    assert sorted(line.split(",")[0] for line in as_csv[1:]) == ["phone-a", "phone-b"]
    as_json = json.loads(runner.invoke(cli, ["summary", str(out), "--json"]).stdout)
    assert as_json == json.loads(json.dumps(logflow.fleet(out).answers(), default=str))


def test_summary_of_a_dataset_fits_80_columns(
    runner: CliRunner, overlapping: Path, tmp_path: Path
) -> None:
    from logflow.fleets.text import answers_text

    out = tmp_path / "fleet"
    build([str(overlapping)], out)
    text = answers_text(logflow.fleet(out).answers(), 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Failure signatures" in text


def test_logflow_fleet_of_a_folder_that_is_no_dataset_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(logflow.LogflowError) as error:
        logflow.fleet(tmp_path)
    assert str(error.value) == (
        f"{tmp_path}: not a fleet dataset (no _manifest.parquet); build one with export --dataset"
    )


def test_fleet_is_exported_beside_its_package() -> None:
    import logflow.fleets.questions as questions

    assert "fleet" in logflow.__all__
    assert logflow.fleet is questions.fleet
    assert os.environ.get(FAIL_ONCE) is None


def test_export_has_one_workers_option_for_blocks_and_for_exports() -> None:
    from logflow.cli.commands import cli

    names = [param.name for param in cli.commands["export"].params]
    assert names.count("workers") == 1
