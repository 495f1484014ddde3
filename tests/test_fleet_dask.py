"""Fleet datasets on Dask (issue 17): a two-worker LocalCluster over 40 exports, one made to
fail once (retried) and one broken for good (reported), gives the dataset the threads give;
running again changes nothing; adding an export adds only its files."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import dask  # (the test extra's: CI runs these, never skips them)
import polars as pl
import pytest
from click.testing import CliRunner

from logflow.cli import cli
from logflow.fleets import dataset as layout
from logflow.fleets.build import Built, build
from logflow.fleets.engines import Engine
from logflow.testing import FAIL_ONCE

from conftest import ROOT, SAMPLES, generated_log, sample_files

DEVICES = 8
FLAKY = "device-3/generated-1300-4.log"
BROKEN = "device-7/core.log"


def files_of(folder: Path) -> dict[str, int]:
    """The dataset's files, relative, with their modification times (ns)."""
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 exports of 8 devices: the samples, generated logs, and a binary file."""
    folder = tmp_path_factory.mktemp("fleet") / "devices"
    for n, sample in enumerate(sample_files()):
        device = folder / f"device-{n % DEVICES}"
        device.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample, device / sample.name)
    for n in range(17):
        generated_log(folder / f"device-{n % DEVICES}", 1000 + 100 * n, seed=n + 1)
    (folder / BROKEN).write_bytes(bytes(range(256)) * 256)
    assert (folder / FLAKY).exists()
    assert len([p for p in folder.rglob("*") if p.is_file()]) == 40
    return folder


@pytest.fixture(scope="module")
def markers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Where each run's injected failure leaves its mark."""
    folder = tmp_path_factory.mktemp("markers")
    return {"dask": folder / "dask-failed-once", "threads": folder / "threads-failed-once"}


@pytest.fixture(scope="module")
def scheduler(markers: dict[str, Path]) -> Iterator[str]:
    """A two-worker LocalCluster, as `--engine dask` starts one; its workers make FLAKY fail
    once (they take the environment they are spawned with)."""
    from distributed import LocalCluster

    os.environ[FAIL_ONCE] = f"{FLAKY}:{markers['dask']}"
    settings = {
        "distributed.worker.multiprocessing-method": "spawn",
    }
    try:
        with (
            dask.config.set(settings),
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": ":0"},
                env={"POLARS_MAX_THREADS": "1"},
            ) as cluster,
        ):
            del os.environ[FAIL_ONCE]
            yield cluster.scheduler_address
    finally:
        os.environ.pop(FAIL_ONCE, None)


@pytest.fixture(scope="module")
def on_dask(exports: Path, scheduler: str, tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("on-dask") / "fleet"
    return build([str(exports)], out, engine=Engine.DASK, scheduler=scheduler)


@pytest.fixture(scope="module")
def on_threads(
    exports: Path, markers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Built:
    out = tmp_path_factory.mktemp("on-threads") / "fleet"
    os.environ[FAIL_ONCE] = f"{FLAKY}:{markers['threads']}"
    try:
        return build([str(exports)], out, workers=2)
    finally:
        del os.environ[FAIL_ONCE]


def test_the_dask_dataset_is_the_threads_dataset(on_dask: Built, on_threads: Built) -> None:
    dask_files = files_of(on_dask.dataset)
    assert sorted(dask_files) == sorted(files_of(on_threads.dataset))
    assert len(dask_files) > 39 * 2
    for name in dask_files:
        got = pl.read_parquet(on_dask.dataset / name)
        expected = pl.read_parquet(on_threads.dataset / name)
        assert got.equals(expected), name
    for table in layout.TABLES:
        rows = [
            pl.scan_parquet(built.dataset / table / "**" / "*.parquet", hive_partitioning=True)
            .collect()
            .height
            for built in (on_dask, on_threads)
        ]
        assert rows[0] == rows[1], table


def test_a_task_that_failed_once_was_retried(on_dask: Built, markers: dict[str, Path]) -> None:
    assert markers["dask"].exists()  # it failed once, on a worker
    row = on_dask.manifest.filter(pl.col("path") == FLAKY).row(0, named=True)
    assert row["status"] == "ok"
    assert row["files"]


def test_an_export_broken_for_good_is_reported_and_the_rest_finish(on_dask: Built) -> None:
    manifest = on_dask.manifest
    assert manifest.height == 40
    assert manifest.filter(pl.col("status") == "error")["path"].to_list() == [BROKEN]
    assert on_dask.failed["path"].to_list() == [BROKEN]
    assert manifest.filter(pl.col("status") == "ok").height == 39
    assert manifest["device"].n_unique() == DEVICES


def test_running_again_on_dask_changes_nothing(
    on_dask: Built, exports: Path, scheduler: str
) -> None:
    before = files_of(on_dask.dataset)
    again = build([str(exports)], on_dask.dataset, engine=Engine.DASK, scheduler=scheduler)
    assert (again.read, again.unchanged) == (1, 39)  # the broken one is tried again
    assert files_of(on_dask.dataset) == before


def readme_fleet_example() -> list[list[str]]:
    """The README's fleet example on the samples: each command's arguments."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("On the bundled samples")[1].split("```sh\n")[1].split("```")[0]
    commands = block.replace("\\\n", " ").splitlines()
    return [shlex.split(command)[1:] for command in commands]


def test_the_readmes_fleet_example_runs_on_a_local_dask_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    export, summary = readme_fleet_example()
    assert export[:3] == ["export", "sample_logs/", "-o"]
    assert ["--engine", "dask", "--workers", "2"] == export[5:9]
    out = str(tmp_path / "fleet")
    export = [out if arg == "fleet/" else arg for arg in export]
    result = CliRunner().invoke(cli, export)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith(f"Read 22 exports. {out} holds 22 exports of 4 devices, ")
    answers = CliRunner().invoke(cli, [out if arg == "fleet/" else arg for arg in summary])
    assert answers.exit_code == 0
    assert "Failure signatures" in answers.stdout
    devices = {name.split("/")[1] for name in files_of(Path(out)) if name.startswith("events/")}
    assert devices == {
        "device=ipad-lab",
        "device=iphone-15",
        "device=iphone-simulator",
        "device=macbook-pro",
    }


def test_zz_adding_one_export_on_dask_adds_only_its_files(
    on_dask: Built, exports: Path, scheduler: str
) -> None:
    # (Last: it adds to the module's exports.)
    before = files_of(on_dask.dataset)
    (exports / "device-9").mkdir()
    shutil.copy(SAMPLES / "logshow-default-race.log", exports / "device-9" / "race.log")
    added = build([str(exports)], on_dask.dataset, engine=Engine.DASK, scheduler=scheduler)
    after = files_of(on_dask.dataset)
    assert (added.read, added.unchanged) == (2, 39)  # it, and the broken one again
    new = set(after) - set(before)
    new_id = layout.export_id("device-9", "device-9/race.log")
    assert new and all(new_id in name and "/device=device-9/" in name for name in new)
    assert {k: after[k] for k in before if k != layout.MANIFEST} == {
        k: v for k, v in before.items() if k != layout.MANIFEST
    }


def test_the_local_cluster_has_one_thread_a_worker_and_polars_told_so() -> None:
    from logflow.fleets.engines import _client

    with _client(None, 2) as client:
        info = client.scheduler_info()["workers"]
        # (A lambda: os.environ.get, pickled, would take this process's environment along.)
        threads = client.run(lambda: os.environ.get("POLARS_MAX_THREADS"))
    assert sorted(w["nthreads"] for w in info.values()) == [1, 1]
    assert sorted(threads.values()) == ["1", "1"]
