"""The atheris target ``fuzz/parse_fuzz.py`` finds no crash in a minute of fuzzing (issue 14).

It runs in a subprocess for ``-max_total_time`` seconds: 60, or what ``LOGFLOW_FUZZ_SECONDS``
says (``LOGFLOW_FUZZ_SECONDS=5 pytest tests/test_fuzz.py`` for a quick look; libFuzzer runs
every seed first, about 30 seconds, whatever the limit). A crash (an exception other than
``LogflowError``, or a line not accounted for) fails the test with the input that caused it
and its traceback; ``.venv/bin/python fuzz/parse_fuzz.py <crash file>`` runs that input again.
Where atheris cannot be imported the test skips, unless ``LOGFLOW_FUZZ=required``, as CI
sets it: there it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

TARGET = ROOT / "fuzz" / "parse_fuzz.py"
SECONDS = 60
# What libFuzzer writes for an input that crashed, hung or took too much memory.
ARTIFACTS = ("crash-*", "timeout-*", "oom-*")
# Past the fuzzing time: the seeds (about 30 s, counted in it), loading, and the last input.
MARGIN = 60


def fuzz_seconds() -> int:
    return int(os.environ.get("LOGFLOW_FUZZ_SECONDS", SECONDS))


def require_atheris() -> None:
    """Skip where atheris cannot be imported, or fail where the fuzz test must run."""
    probe = subprocess.run(
        [sys.executable, "-c", "import atheris"], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return
    reason = f"atheris cannot be imported: {probe.stderr.strip().splitlines()[-1:]}"
    if os.environ.get("LOGFLOW_FUZZ") == "required":
        pytest.fail(f"the fuzz test must run here (LOGFLOW_FUZZ=required), but {reason}")
    pytest.skip(reason)


def crash_report(artifacts: Path, output: str) -> str:
    """The inputs libFuzzer kept as crashes, and what the target said about them."""
    lines = []
    for path in sorted(p for pattern in ARTIFACTS for p in artifacts.glob(pattern)):
        data = path.read_bytes()
        shown = repr(data[:2000]) + (f" ... ({len(data)} bytes)" if len(data) > 2000 else "")
        lines.append(f"{path.name} (options byte {data[:1].hex() or 'none'}): {shown}")
        lines.append(f"run it again: .venv/bin/python fuzz/parse_fuzz.py {path}")
    found = output.find("=== Uncaught Python exception")
    lines.append(output[found:][:4000] if found >= 0 else output[-4000:])
    return "\n".join(lines)


def test_the_fuzzer_finds_no_crash(tmp_path: Path) -> None:
    """A minute of atheris over bytes read as a log file (in one block or up to eight, gzip'd
    or not, repeated past 64 KiB or not, records bounded or not, on one thread or two), seeded
    from the samples and the real corpus: nothing but a LogflowError escapes, and every line
    is accounted for."""
    require_atheris()
    seconds = fuzz_seconds()
    artifacts, scratch = tmp_path / "artifacts", tmp_path / "tmp"
    artifacts.mkdir()
    scratch.mkdir()  # the input files, logflow's scratch: all left here
    command = [
        sys.executable,
        str(TARGET),
        f"-max_total_time={seconds}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(tmp_path / "corpus"),
    ]
    try:
        run = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            cwd=ROOT,
            env={**os.environ, "TMPDIR": str(scratch)},
            timeout=seconds + MARGIN,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stderr if isinstance(exc.stderr, str) else (exc.stderr or b"").decode()
        pytest.fail(f"the fuzzer ran past {seconds + MARGIN} s:\n{output[-4000:]}")
    output = run.stdout + run.stderr
    if run.returncode != 0 or any(any(artifacts.glob(p)) for p in ARTIFACTS):
        pytest.fail(
            f"the fuzzer found a crash (exit {run.returncode}):\n" + crash_report(artifacts, output)
        )
    assert "INITED" in output, "the fuzzer ran no seed:\n" + output[-4000:]
