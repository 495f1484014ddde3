"""`logflow.read()` for notebooks: one parse into a cache, then Parquet scans; the table
functions on what it returns, and on any events frame; memory that stays flat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import logflow
from logflow import notebook
from logflow.cli import cli

from conftest import SAMPLES, generated_log

RACE = SAMPLES / "logshow-default-race.log"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "net.log"
    path.write_bytes(RACE.read_bytes())
    return path


def parses(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each parse the cache runs, as it runs."""
    seen: list[object] = []
    real = notebook.export

    def counting(*args, **kwargs):
        seen.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(notebook, "export", counting)
    return seen


def test_read_parses_once_and_scans_parquet_after(log, tmp_path, monkeypatch) -> None:
    seen = parses(monkeypatch)
    cache = tmp_path / "cache"
    first = logflow.read(log, cache=cache).collect()
    again = logflow.read(log, cache=cache)
    assert len(seen) == 1
    assert "parquet" in again.explain().lower()
    assert again.collect().equals(first)
    assert first.height == logflow.parse(log).events().collect().height


def test_a_changed_input_or_other_options_parse_again(log, tmp_path, monkeypatch) -> None:
    seen = parses(monkeypatch)
    cache = tmp_path / "cache"
    logflow.read(log, cache=cache)
    log.write_bytes(RACE.read_bytes() + b"\n")  # one byte more
    changed = logflow.read(log, cache=cache).collect()
    logflow.read(log, cache=cache, keep_other=True)
    assert len(seen) == 3
    assert notebook.cache_contents(cache)[0] == 3
    assert changed.height > 0


def test_the_cache_keeps_to_its_cap_oldest_first(tmp_path) -> None:
    cache = tmp_path / "cache"
    logs = []
    for n in range(3):
        path = tmp_path / f"net{n}.log"
        path.write_bytes(RACE.read_bytes())
        logs.append(path)
    logflow.read(logs[0], cache=cache)
    one_entry = notebook.cache_contents(cache)[1]
    logflow.read(logs[1], cache=cache)
    logflow.read(logs[0], cache=cache)  # read again: now the newest
    logflow.read(logs[2], cache=cache, max_cache_bytes=int(one_entry * 2.5))
    assert notebook.cache_contents(cache)[0] == 2
    # logs[1] was the least recently read: it went; logs[0] stays without a parse.
    entry_of_0 = notebook.cached([logs[0]], cache=cache)
    assert entry_of_0.folder.is_dir()


def test_the_table_functions_scan_what_the_parse_built(log, tmp_path) -> None:
    events = logflow.read(log, cache=tmp_path / "cache")
    conns = logflow.connections(events)
    assert "connections.parquet" in conns.explain()
    parsed = logflow.parse(log)
    assert conns.collect().equals(parsed.connections().collect())
    assert logflow.races(conns).collect().equals(parsed.races().collect())
    assert logflow.path_changes(events).collect().height == parsed.path_changes().collect().height
    assert logflow.listeners(events).collect().equals(parsed.listeners().collect())
    failures = logflow.proxy_failures(events, conns).collect()
    assert failures.equals(parsed.proxy_failures().collect())


def test_the_table_functions_take_a_data_frame_or_a_changed_frame(log, tmp_path) -> None:
    events = logflow.read(log, cache=tmp_path / "cache")
    ids = logflow.connections(events.collect()).collect()["conn_id"].sort().to_list()
    assert ids == logflow.connections(events).collect()["conn_id"].sort().to_list()
    only_c8 = events.filter(pl.col("conn_id").str.starts_with("C8"))
    assert set(logflow.connections(only_c8).collect()["conn_id"]) == {
        "C8", "C8.1", "C8.1.1", "C8.1.2"
    }  # fmt: skip


def test_reading_a_log_that_holds_no_network_records_is_one_error(tmp_path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("nothing here\n")
    with pytest.raises(logflow.InputError, match="found no Network-framework records"):
        logflow.read(notes, cache=tmp_path / "cache")
    assert notebook.cache_contents(tmp_path / "cache") == (0, 0)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []


def test_cache_info_and_clear(log) -> None:
    runner = CliRunner()
    logflow.read(log)  # the tests' own $XDG_CACHE_HOME
    info = json.loads(runner.invoke(cli, ["cache", "info", "--json"]).stdout)
    assert info["folder"] == str(Path(os.environ["XDG_CACHE_HOME"]) / "logflow")
    assert info["entries"] >= 1 and info["bytes"] > 0
    result = runner.invoke(cli, ["cache", "clear"])
    assert result.exit_code == 0 and result.stdout.startswith("Removed ")
    assert notebook.cache_contents() == (0, 0)


# The process's own peak resident memory: VmHWM, which an exec starts afresh (ru_maxrss
# keeps the high-water mark of the process that forked it, a big pytest or benchmark).
PEAK = """
def peak_mib():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024
"""


def explored(path: Path, cache: Path) -> tuple[int, int, float]:
    """In a process of its own, ``read`` ``path`` and collect the connections that failed:
    how many, the process's peak resident memory in MiB, and the CPU seconds ``read`` took."""
    script = textwrap.dedent(
        f"""
        import time
        import polars as pl
        import logflow
        started = time.process_time()
        events = logflow.read({str(path)!r}, cache={str(cache)!r})
        read_s = time.process_time() - started
        failed = logflow.connections(events).filter(pl.col("outcome") == "failed").collect()
        peak = peak_mib()
        print(failed.height, peak, read_s)
        """
    )
    done = subprocess.run([sys.executable, "-c", PEAK + script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    failed, peak_mib, read_s = done.stdout.split()
    return int(failed), int(peak_mib), float(read_s)


def test_exploring_a_big_export_keeps_memory_flat(tmp_path) -> None:
    """The first read parses within the command line's memory; a notebook that reads the
    same export again (a kernel restarted) takes no parse and holds only what it asks for.
    (benchmarks/memory.py measures the same on 2M lines.)"""
    path = generated_log(tmp_path, 400_000)
    failed, first_peak, _ = explored(path, tmp_path / "cache")
    again, again_peak, read_s = explored(path, tmp_path / "cache")
    assert failed == again > 0
    assert first_peak < 1024
    # A Python with Polars and logflow imported takes about 120 MiB.
    assert again_peak < 300
    assert read_s < 1.0
