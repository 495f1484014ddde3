#!/usr/bin/env python3
"""Where the CPU time of one export goes, stage by stage.

    POLARS_MAX_THREADS=1 python benchmarks/stages.py FILE [--json]

Runs the library's ``export()`` in this process with one worker, so that the stages run one
after another and the process's CPU clock, read as each stage starts and ends, says what each
one cost: no other thread is working meanwhile (set ``POLARS_MAX_THREADS=1`` before Polars is
imported, as the line above does, or Polars' own threads would share the work out of sight;
the numbers are still right, as CPU seconds are counted for every thread, only less exact).

A stage's time is its own: a stage that calls another (the records' cutter reads the inputs)
is not charged for it. The stages are the pipeline's own functions, wrapped here:

    inputs       reading the files into blocks of lines (Inputs.blocks)
    records      cutting blocks into chunks of whole records, and grouping lines into records
    events       reading each record's message: kinds, ids, fields (the grammar's patterns)
    digest       what is kept of each chunk: counts, examples, the rows of the trees
    spill        holding the trees' rows, partitioned, and spilling them to disk
    events file  writing events.parquet
    trees        the connection trees of each batch: the connections table
    diagnoses    races, proxy failures, path changes and listeners of each batch
    tables out   the tables read back, linked across batches, sorted and written
    other        everything else: the report, the moves, the glue in between
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

STAGES = (
    "inputs",
    "records",
    "events",
    "digest",
    "spill",
    "events file",
    "trees",
    "diagnoses",
    "tables out",
    "other",
)


class Clock:
    """CPU seconds charged to the innermost stage running."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.running = ["other"]
        self.since = time.process_time()

    def _charge(self) -> None:
        now = time.process_time()
        self.seconds[self.running[-1]] += now - self.since
        self.since = now

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._charge()
        self.running.append(name)
        try:
            yield
        finally:
            self._charge()
            self.running.pop()

    def wrap(self, owner: object, attribute: str, stage: str) -> None:
        """Charge each call of ``owner.attribute`` to ``stage``."""
        function = getattr(owner, attribute)

        @functools.wraps(function)
        def timed(*args, **kwargs):
            with self.stage(stage):
                return function(*args, **kwargs)

        setattr(owner, attribute, timed)

    def wrap_iterator(self, owner: object, attribute: str, stage: str) -> None:
        """Charge each item that ``owner.attribute``'s iterator makes to ``stage``."""
        function: Callable[..., Iterator] = getattr(owner, attribute)

        @functools.wraps(function)
        def timed(*args, **kwargs):
            items = function(*args, **kwargs)
            while True:
                with self.stage(stage):
                    item = next(items, StopIteration)
                if item is StopIteration:
                    return
                yield item

        setattr(owner, attribute, timed)


def stage_seconds(path: Path) -> dict:
    """Export ``path`` with one worker; the CPU and wall seconds, and the CPU by stage."""
    import logflow.outputs.export as export_module
    import logflow.pipeline as pipeline
    from logflow.analysis.partition import TreeEvents
    from logflow.reading.inputs import Inputs

    clock = Clock()
    clock.wrap_iterator(Inputs, "blocks", "inputs")
    clock.wrap_iterator(pipeline, "record_chunks", "records")
    clock.wrap(pipeline, "_records", "records")
    clock.wrap(pipeline, "_events", "events")
    clock.wrap(pipeline._Collector, "digest", "digest")
    clock.wrap(TreeEvents, "add", "spill")
    clock.wrap(pipeline._Collector, "_write_events", "events file")
    clock.wrap(pipeline._Collector, "finish", "events file")
    clock.wrap(pipeline, "_trees", "trees")
    clock.wrap(pipeline, "_diagnoses", "diagnoses")
    clock.wrap(export_module, "write_tables", "tables out")
    with tempfile.TemporaryDirectory(prefix="logflow-stages-") as out:
        clock._charge()  # the imports are not the export's
        clock.seconds["other"] = 0.0
        wall = time.perf_counter()
        export_module.export([path], Path(out) / "out", workers=1)
        wall = time.perf_counter() - wall
        clock._charge()
    return {"wall": wall, "cpu": sum(clock.seconds.values()), "stages": clock.seconds}


def print_table(result: dict, out=sys.stdout) -> None:
    cpu = result["cpu"]
    print(f"{'stage':<12} {'CPU s':>7} {'share':>6}", file=out)
    for name, seconds in result["stages"].items():
        print(f"{name:<12} {seconds:>7.2f} {seconds / cpu:>6.0%}", file=out)
    print(f"{'all':<12} {cpu:>7.2f} {1:>6.0%}  ({result['wall']:.2f}s wall, one worker)", file=out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path, help="a log export")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    result = stage_seconds(args.file)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
