"""Where the exports of a dataset run: threads of this process, or Dask.

Each engine runs :func:`logflow.fleets.dataset.write_export` once per export, retries one
that raised (a worker lost, a fault) up to :data:`RETRIES` times, reports one that still
fails as an error rather than dropping it, and says how many exports are done as each
finishes. Both give the same results, in the order of the jobs.

Dask (``pip install 'logflow[fleet]'``) runs on a ``LocalCluster`` of worker processes
(started by spawn, which is safe with Polars' threads; no dashboard; ``POLARS_MAX_THREADS``
set to each worker's threads) or on a running scheduler (``--scheduler tcp://host:8786``),
whose workers must see the exports and the dataset under the same paths.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from enum import Enum
from typing import Any

from logflow import scratch
from logflow.errors import EngineError
from logflow.fleets.dataset import ERROR, Written, write_export

RETRIES = 2
# How long to wait for a running scheduler to answer.
CONNECT_TIMEOUT_S = 10

Job = dict[str, Any]
"""The arguments of one :func:`~logflow.fleets.dataset.write_export` call, plain values."""
Progress = Callable[[int, int], None]
"""Told ``done`` exports of ``total`` as each finishes."""


class Engine(str, Enum):
    """What runs the exports."""

    THREADS = "threads"
    DASK = "dask"


def run(
    jobs: list[Job],
    *,
    engine: Engine = Engine.THREADS,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run every job on ``engine``: ``workers`` at once (one per core by default), or on the
    Dask ``scheduler`` at that address; each job's :class:`~logflow.fleets.dataset.Written`
    as a dict, in the jobs' order."""
    if not jobs:
        return []
    if engine is Engine.DASK:
        return _on_dask(jobs, scheduler=scheduler, workers=workers, progress=progress)
    return _on_threads(jobs, workers=workers, progress=progress)


def failed(job: Job, error: BaseException) -> dict[str, Any]:
    """The result of a job that raised on every try."""
    why = f"{job['path']}: failed {RETRIES + 1} times, last: {type(error).__name__}: {error}"
    return Written(job["export_id"], ERROR, error=why).to_dict()


def _on_threads(jobs: list[Job], *, workers: int | None, progress: Progress | None) -> list[Any]:
    cores = os.cpu_count() or 1
    workers = min(workers or cores, len(jobs))
    # A core each when there are fewer exports than cores: a big one's blocks side by side.
    threads = max(1, cores // workers)
    results: list[Any] = [None] * len(jobs)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="logflow-fleet")
    try:
        futures = {
            pool.submit(_retried, {**job, "threads": threads}): n for n, job in enumerate(jobs)
        }
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done, len(jobs))
    finally:
        # Stopped (Ctrl-C): the exports not begun are dropped; those begun finish their files.
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _retried(job: Job) -> dict[str, Any]:
    """A job, tried again as Dask's ``retries`` would."""
    for attempt in range(RETRIES + 1):
        try:
            return write_export(**job)
        except Exception as error:
            if attempt == RETRIES:
                return failed(job, error)
    raise AssertionError  # (unreachable)


def _on_dask(
    jobs: list[Job], *, scheduler: str | None, workers: int | None, progress: Progress | None
) -> list[Any]:
    try:
        from distributed import as_completed as completed
    except ImportError:
        msg = "--engine dask needs Dask: pip install 'logflow[fleet]'"
        raise EngineError(msg) from None
    results: list[Any] = [None] * len(jobs)
    with _client(scheduler, workers) as client:
        futures = {
            client.submit(
                write_export,
                **{**job, "threads": 1},
                key=f"logflow-export-{job['export_id']}",
                retries=RETRIES,
                pure=False,
            ): n
            for n, job in enumerate(jobs)
        }
        for done, future in enumerate(completed(list(futures)), start=1):
            n = futures[future]
            if future.status == "error":
                results[n] = failed(jobs[n], future.exception())
            else:
                results[n] = future.result()
            if progress is not None:
                progress(done, len(jobs))
    return results


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A Dask client of the scheduler at ``scheduler``, or of a local cluster of ``workers``
    processes of one thread each, closed at the end."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as err:
            msg = f"cannot reach the Dask scheduler at {scheduler}: {err}"
            raise EngineError(msg) from None
        with client:
            yield client
        return
    threads = 1
    settings = {
        # Polars' thread pool does not survive a fork; a spawned worker starts its own.
        "distributed.worker.multiprocessing-method": "spawn",
    }
    with (
        dask.config.set(settings),
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=threads,
            processes=True,
            dashboard_address=None,
            # No dashboard; its HTTP server (metrics) on any free port, not 8787, which
            # another cluster may hold.
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
            # (Polars sizes its pool when imported: set before the worker imports it.) The
            # workers' scratch is this process's (--tmp-dir).
            env={"POLARS_MAX_THREADS": str(threads), "TMPDIR": str(scratch.base())},
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
