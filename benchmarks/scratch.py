#!/usr/bin/env python3
"""How much disk an export needs besides its input: the peak of its scratch, per GB read.

    .venv/bin/python benchmarks/scratch.py [--lines 2000000] [--logflow PATH]

Runs ``logflow export`` on a generated `log show` export with ``TMPDIR`` (``--tmp-dir``'s
default) set to a folder of its own, and samples, every 50 ms, the bytes in that folder
(the rows the trees are built from, spilled, and the tables built from them) and in the
output folder (the set being written in its scratch, and the set it replaces). Printed: the
input's size, each folder's peak, and each per GB of input.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate  # noqa: E402


def held(folder: Path) -> int:
    """Bytes in the files under ``folder`` now (files may vanish while counted)."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def peaks(command: list[str], env: dict[str, str], folders: list[Path]) -> list[int]:
    """Run ``command``; the most bytes each folder held while it ran."""
    most = [0] * len(folders)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for number, folder in enumerate(folders):
                most[number] = max(most[number], held(folder))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    finally:
        done.set()
        sampler.join()
    return most


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--lines", type=int, default=2_000_000)
    options.add_argument("--logflow", default=str(Path(sys.executable).with_name("logflow")))
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as work:
        log, tmp, out = Path(work) / "net.log", Path(work) / "tmp", Path(work) / "out"
        generate(args.lines, str(log), 1)
        tmp.mkdir()
        env = {**os.environ, "TMPDIR": str(tmp)}
        command = [args.logflow, "export", str(log), "-o", str(out), "-q"]
        first = peaks(command, env, [tmp, out])
        again = peaks(command, env, [tmp, out])  # over the set of the first run
        size = log.stat().st_size
    gb = size / 1e9
    print(f"{args.lines:,} lines, {size / 1e6:,.0f} MB of text; peak disk use, and per GB read:")
    rows = {
        "TMPDIR (spill, tables)": max(first[0], again[0]),
        "output folder, new": first[1],
        "output folder, replacing a set": again[1],
    }
    for name, peak in rows.items():
        print(f"  {name:32} {peak / 1e6:>8,.0f} MB  {peak / 1e9 / gb:5.2f} GB per GB")


if __name__ == "__main__":
    main()
