"""Hooks for logflow's own fault tests: nothing here acts unless a test sets its variable."""

from __future__ import annotations

import os
import sys
import time

# LOGFLOW_TEST_PAUSE=trees pauses a run when it starts building the trees, for 60 s or
# until a signal stops it; trees:2 pauses 2 s. (A signal stops only a pause on the main
# thread: the spills' runs on the thread that adds the chunks up, which the run waits for.)
PAUSE = "LOGFLOW_TEST_PAUSE"
PHASES = ("read", "spill", "trees", "write", "move")


def pause_at(phase: str) -> None:
    """Pause here if the test asked to, saying so on stderr."""
    asked, _, seconds = os.environ.get(PAUSE, "").partition(":")
    if asked != phase:
        return
    print(f"logflow: paused at {phase}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + float(seconds or 60)
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))


# LOGFLOW_TEST_FAIL_ONCE=device-3/run.log:/tmp/marker makes the dataset export of the file
# whose path ends so fail once, as a worker that died would: the marker file, made then,
# lets the retry through.
FAIL_ONCE = "LOGFLOW_TEST_FAIL_ONCE"


def fail_once(path: str) -> None:
    """Raise once for the export the test named, if it named one."""
    asked, _, marker = os.environ.get(FAIL_ONCE, "").partition(":")
    if not asked or not marker or not path.endswith(asked) or os.path.exists(marker):
        return
    with open(marker, "w"):
        pass
    raise RuntimeError(f"{FAIL_ONCE}: {path} fails this once")
