#!/usr/bin/env python3
"""Peak memory of a notebook's exploration of a big export, against holding it in memory.

    .venv/bin/python benchmarks/memory.py [--lines 2000000]

Each way runs in a process of its own on one generated `log show` export and collects the
connections that failed; printed is each process's peak resident memory (RSS, which the
machine's other work does not change the way it changes time; VmHWM) and its ratio to the baseline:

- baseline: ``logflow.parse(path).events()`` (every record held in memory) and
  ``analysis.tree.connections`` over it, as ``logflow.read`` did before it cached;
- first read: ``logflow.read(path)`` parsing into an empty cache, then ``connections``;
- read again: the same in a new process (a notebook's kernel restarted), the cache full.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate  # noqa: E402

# The process's own peak resident memory: VmHWM, which an exec starts afresh (ru_maxrss
# keeps the high-water mark of the process that forked it, a big pytest or benchmark).
PEAK = """
def peak_mib():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024
"""
BASELINE = """
import logflow
from logflow.analysis.tree import connections
events = logflow.parse(PATH).events()
failed = connections(events).filter(pl.col("outcome") == "failed").collect()
"""
CACHED = """
import logflow
events = logflow.read(PATH, cache=CACHE)
failed = logflow.connections(events).filter(pl.col("outcome") == "failed").collect()
"""


def peak_mib(body: str, path: Path, cache: Path) -> tuple[int, int]:
    """Run ``body`` in a new Python: the failed connections it found, its peak RSS in MiB."""
    script = PEAK + "import polars as pl\n"
    script += f"PATH, CACHE = {str(path)!r}, {str(cache)!r}\n" + textwrap.dedent(body)
    script += "print(failed.height, peak_mib())"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    failed, peak = done.stdout.split()
    return int(failed), int(peak)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--lines", type=int, default=2_000_000)
    lines = options.parse_args().lines
    with tempfile.TemporaryDirectory() as scratch:
        path, cache = Path(scratch) / "net.log", Path(scratch) / "cache"
        generate(lines, str(path), 1)
        runs = {
            "baseline (all in memory)": peak_mib(BASELINE, path, cache),
            "first read (parses into the cache)": peak_mib(CACHED, path, cache),
            "read again (cache full)": peak_mib(CACHED, path, cache),
        }
    base = runs["baseline (all in memory)"][1]
    print(f"{lines:,} lines; peak resident memory of each way, and its ratio to the baseline:")
    for name, (failed, peak) in runs.items():
        print(f"  {name:36} {peak:>7,} MiB  {peak / base:5.2f}x  ({failed:,} failed)")


if __name__ == "__main__":
    main()
