"""Hooks for logflow's own fault tests: nothing here acts unless a test sets its variable."""

from __future__ import annotations

import os
import sys
import time

# LOGFLOW_TEST_PAUSE=trees pauses a run when it starts building the trees, for 60 s or
# until a signal stops it; trees:2 pauses 2 s.
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
