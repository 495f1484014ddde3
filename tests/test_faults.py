"""Faults, each in a real process: SIGINT and SIGTERM in each phase of a run, SIGKILL while
the tables are moved into place, Ctrl-C on standard input, a full disk. After each, the
output folder holds the whole set of the run before or the new one, and no scratch is left.

A run is paused at a named phase with LOGFLOW_TEST_PAUSE (logflow/testing.py), so that the
signal comes where the test says.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from conftest import SAMPLES, generated_log

# Runs logflow's command line with fewer tree rows held before they are spilled, so that a
# small log reaches the spill phase.
DRIVER = """
import sys
import logflow.pipeline
logflow.pipeline.parse.__kwdefaults__["spill_rows"] = 2_000
from logflow.cli import main
sys.argv = ["logflow", *sys.argv[1:]]
main()
"""
PHASES = ("read", "spill", "trees", "write")
# How long each phase pauses. The spills run on the thread that adds the chunks up, which a
# signal does not wake: the run stops once that thread's pause is over, so it is short.
PAUSES = {"spill": "spill:8"}
SIGNALS = {"SIGINT": (signal.SIGINT, 130), "SIGTERM": (signal.SIGTERM, 143)}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_log(tmp_path_factory.mktemp("log"), 20_000)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """The run's $TMPDIR: empty before, and it must be empty after."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def start(args: list[str], scratch: Path, *, pause: str | None = None, **popen) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(scratch)}
    if pause:
        env["LOGFLOW_TEST_PAUSE"] = pause
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, *args],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        **popen,
    )


def wait_for_pause(run: subprocess.Popen, phase: str) -> None:
    line = run.stderr.readline()
    assert line == f"logflow: paused at {phase}\n", line + run.stderr.read()


def finished(run: subprocess.Popen) -> tuple[int, str]:
    _, err = run.communicate(timeout=120)
    return run.returncode, err


def contents(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` (hidden ones too, at any depth) and a hash of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def run_id(folder: Path) -> str:
    return json.loads((folder / ".logflow-output").read_text())["run_id"]


@pytest.fixture
def previous(tmp_path: Path, log: Path, scratch: Path) -> Iterator[Path]:
    """An output folder holding the set of an earlier run."""
    out = tmp_path / "out"
    code, err = finished(start(["export", str(log), "-o", str(out), "-q"], scratch))
    assert code == 0, err
    yield out


@pytest.mark.parametrize("name", SIGNALS)
@pytest.mark.parametrize("phase", PHASES)
def test_a_signal_in_any_phase_keeps_the_previous_set(
    previous: Path, log: Path, scratch: Path, phase: str, name: str
) -> None:
    before = contents(previous)
    pause = PAUSES.get(phase, phase)
    run = start(["export", str(log), "-o", str(previous), "-q"], scratch, pause=pause)
    wait_for_pause(run, phase)
    signum, status = SIGNALS[name]
    run.send_signal(signum)
    code, err = finished(run)
    assert code == status
    assert err.strip() == (
        f"Interrupted by {name}: nothing written, {previous} holds the tables of the run "
        "before, as they were."
    )
    assert contents(previous) == before
    assert list(scratch.iterdir()) == []


def test_an_interrupted_export_leaves_no_folder_it_made(
    tmp_path: Path, log: Path, scratch: Path
) -> None:
    out = tmp_path / "new"
    run = start(["export", str(log), "-o", str(out), "-q"], scratch, pause="write")
    wait_for_pause(run, "write")
    run.send_signal(signal.SIGTERM)
    code, err = finished(run)
    assert (code, err.strip()) == (
        143,
        f"Interrupted by SIGTERM: nothing written, {out} not created.",
    )
    assert not out.exists()
    assert list(scratch.iterdir()) == []


def test_signals_wait_while_the_set_is_moved_in(previous: Path, log: Path, scratch: Path) -> None:
    """A SIGTERM while the tables are moved into place stops the run once they all are."""
    old = run_id(previous)
    args = ["export", str(log), "-o", str(previous), "-q", "--format", "csv"]
    run = start(args, scratch, pause="move:1")
    wait_for_pause(run, "move")
    run.send_signal(signal.SIGTERM)
    code, err = finished(run)
    assert (code, err.strip()) == (
        143,
        f"Interrupted by SIGTERM: the new tables are in {previous}.",
    )
    assert run_id(previous) != old
    assert sorted(p.name for p in previous.iterdir()) == sorted(
        [".logflow-output", *(f"{t}.csv" for t in TABLES)]
    )


TABLES = ("events", "connections", "races", "proxy_failures", "path_changes", "listeners")


def test_a_set_cut_by_sigkill_mid_move_is_finished_by_the_next_run(
    previous: Path, log: Path, scratch: Path
) -> None:
    """SIGKILL with one table moved in of six: the journal lets the next run finish the
    moves, so the folder holds the killed run's whole set, then the new run's."""
    run = start(["export", str(log), "-o", str(previous), "-q"], scratch, pause="move")
    wait_for_pause(run, "move")
    run.kill()
    finished(run)
    assert (previous / ".logflow-journal").exists()
    killed = json.loads((previous / ".logflow-journal").read_text())
    stale = list(scratch.iterdir())
    assert stale, "the killed run's scratch is there, named by its pid"

    from logflow.outputs.files import finish_moves

    assert finish_moves(previous)
    assert sorted(p.name for p in previous.iterdir()) == sorted(killed["files"])
    ids = {
        pl.read_parquet_metadata(previous / f"{table}.parquet")["logflow.run_id"]
        for table in TABLES
    }
    assert ids == {run_id(previous)}, "one run's tables, all of them"

    code, err = finished(start(["export", str(log), "-o", str(previous), "-q"], scratch))
    assert code == 0, err
    assert not any(p.exists() for p in stale), "the next run removed the killed run's scratch"
    assert list(scratch.iterdir()) == []


def test_the_next_run_removes_what_a_killed_run_left_in_tmpdir(
    tmp_path: Path, log: Path, scratch: Path
) -> None:
    run = start(["summary", str(log), "-q"], scratch, pause="trees")
    wait_for_pause(run, "trees")
    run.kill()
    finished(run)
    (left,) = scratch.iterdir()
    assert left.name.startswith(f"logflow-spill-{run.pid}.")
    # A run still going keeps its scratch: this test's own process is one.
    from logflow.scratch import RUN

    mine = scratch / f"logflow-spill-{RUN}-keep"
    mine.mkdir()
    code, err = finished(start(["summary", str(SAMPLES / "logshow-default-race.log")], scratch))
    assert code == 0, err
    assert list(scratch.iterdir()) == [mine]


def test_a_timeline_interrupted_leaves_the_old_file(
    tmp_path: Path, log: Path, scratch: Path
) -> None:
    page = tmp_path / "t.txt"
    page.write_text("the old timeline\n")
    run = start(["timeline", str(log), "-o", str(page), "-q"], scratch, pause="trees")
    wait_for_pause(run, "trees")
    run.send_signal(signal.SIGINT)
    code, err = finished(run)
    assert (code, err.strip()) == (130, f"Interrupted by SIGINT: {page} as it was.")
    assert page.read_text() == "the old timeline\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt", "tmp"]
    assert list(scratch.iterdir()) == []


# ---- standard input: the first Ctrl-C ends it, the second stops the run -------------------


def piped(log: Path, tmp_path: Path, scratch: Path, out: Path) -> subprocess.Popen:
    """An export of standard input, once it has read every line of ``log`` written to it
    (the pipe stays open, as a `log stream` does)."""
    run = start(["export", "-", "-o", str(out)], scratch, stdin=subprocess.PIPE)
    assert run.stdin is not None
    run.stdin.write(log.read_text())
    run.stdin.flush()
    deadline = time.monotonic() + 60
    while _unread(run.stdin.fileno()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # read, and in logflow's buffer
    return run


def _unread(fd: int) -> int:
    """Bytes written to a pipe and not yet read from it."""
    size = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, size)
    return int.from_bytes(size, sys.byteorder)


def test_ctrl_c_ends_standard_input_and_the_export_goes_on(
    tmp_path: Path, log: Path, scratch: Path
) -> None:
    out = tmp_path / "out"
    run = piped(log, tmp_path, scratch, out)
    run.send_signal(signal.SIGINT)
    out_text, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "standard input ended by Ctrl-C" in err
    assert "Read 20,000 lines from 1 file" in out_text
    import logflow

    expected = logflow.parse(log, keep="none").kind_counts
    events = pl.read_parquet(out / "events.parquet")
    assert events.height == sum(expected[kind] for kind in events["kind"].unique())
    assert list(scratch.iterdir()) == []


def test_a_second_ctrl_c_stops_the_export(tmp_path: Path, log: Path, scratch: Path) -> None:
    out = tmp_path / "out"
    run = start(["export", "-", "-o", str(out)], scratch, stdin=subprocess.PIPE, pause="trees")
    assert run.stdin is not None
    run.stdin.write(log.read_text())
    run.stdin.close()
    run.stdin = None
    wait_for_pause(run, "trees")
    run.send_signal(signal.SIGINT)  # the input has ended already: ends nothing
    time.sleep(0.3)
    run.send_signal(signal.SIGINT)
    code, err = finished(run)
    assert code == 130
    assert err.strip().endswith(f"Interrupted by SIGINT: nothing written, {out} not created.")
    assert not out.exists()
    assert list(scratch.iterdir()) == []


# ---- a full disk -------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, where this machine lets the tests mount one (CI runs as root)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_under_the_tables_names_the_file_and_leaves_nothing(
    small_disk: Path, log: Path, scratch: Path
) -> None:
    out = small_disk / "out"
    code, err = finished(start(["export", str(log), "-o", str(out), "-q"], scratch))
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"Error: {out}")
    assert f"cannot write: disk full; free space on {small_disk}, or write elsewhere" in line
    assert line.endswith("or write elsewhere")
    assert list(small_disk.iterdir()) == []
    assert list(scratch.iterdir()) == []


def test_a_full_disk_under_the_scratch_says_to_give_tmp_dir(
    small_disk: Path, log: Path, scratch: Path, tmp_path: Path
) -> None:
    args = ["events", str(log), "--tmp-dir", str(small_disk), "-q"]
    code, err = finished(start(args, scratch))
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"Error: cannot write temporary files in {small_disk}: disk full")
    assert line.endswith("or give --tmp-dir a folder with room")
    assert list(small_disk.iterdir()) == []


def test_a_full_disk_under_the_report_leaves_no_partial_report(
    small_disk: Path, log: Path, scratch: Path, tmp_path: Path
) -> None:
    with contextlib.suppress(OSError), (small_disk / "filler").open("wb") as filler:
        filler.write(b"x" * (256 << 10))  # all the room there is, and more
    report = small_disk / "report.json"
    args = ["export", str(log), "-o", str(tmp_path / "out"), "--report", str(report), "-q"]
    code, err = finished(start(args, scratch))
    assert code == 1
    assert err.strip().startswith(f"Error: {report}: cannot write: disk full")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
