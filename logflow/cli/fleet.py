"""The command line of fleets: ``export --dataset`` and its options, and ``summary DATASET``.

Thin over :mod:`logflow.fleets`: the options, given to the command as one
:class:`FleetOptions`, and printing.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from logflow.analysis.filters import Filters
from logflow.cli import terminal
from logflow.cli.options import Output, Reading
from logflow.engine import ENGINE
from logflow.fleets.build import build
from logflow.fleets.engines import Engine
from logflow.fleets.questions import fleet, is_dataset
from logflow.fleets.text import answers_text
from logflow.outputs import machine
from logflow.outputs.tables import wrapped_lines

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FleetOptions:
    """How ``export --dataset`` runs: where, and who the exports came from."""

    dataset: bool = False
    engine: Engine = Engine.THREADS
    scheduler: str | None = None
    workers: int | None = None
    device: str | None = None
    devices: Path | None = None
    date: str | None = None


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day: give YYYY-MM-DD") from None


def fleet_options(command: F) -> F:
    """``--dataset``, ``--engine``, ``--scheduler``, ``--device``, ``--devices`` and
    ``--date``, given to the command as one ``fleet`` (:class:`FleetOptions`), all but
    ``--dataset`` only with it. It goes above ``reading_options``, whose ``--workers`` also
    says, with ``--dataset``, how many exports are read at once."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {
            name: kwargs[name] if name == "workers" else kwargs.pop(name)
            for name in FleetOptions.__dataclass_fields__
        }
        options = FleetOptions(**{**given, "engine": Engine(given["engine"] or "threads")})
        own = ("engine", "scheduler", "device", "devices", "date")
        others = [f"--{name}" for name in own if given[name] is not None]
        if others and not options.dataset:
            verb = "goes" if len(others) == 1 else "go"
            raise click.UsageError(f"{', '.join(others)} {verb} with --dataset")
        if options.scheduler and options.engine is not Engine.DASK:
            raise click.UsageError("--scheduler goes with --engine dask")
        if options.scheduler and options.workers:
            msg = "--workers sizes a local cluster; a running scheduler (--scheduler) has its own"
            raise click.UsageError(msg)
        if options.device and options.devices:
            raise click.UsageError("give one of --device and --devices")
        return command(*args, fleet=options, **kwargs)

    options = [
        click.option(
            "--dataset",
            is_flag=True,
            help="Write a fleet dataset to OUT instead: every table partitioned by device and "
            "date, one manifest; run again to add or replace exports (see docs/fleet.md).",
        ),
        click.option(
            "--engine",
            type=click.Choice([engine.value for engine in Engine]),
            help="Run the exports on threads here (default) or on Dask "
            "(pip install 'logflow[fleet]').",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="A running Dask scheduler (tcp://host:8786); default: a local cluster.",
        ),
        click.option(
            "--device",
            metavar="NAME",
            help="The device every export came from (default: each path's first folder).",
        ),
        click.option(
            "--devices",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            metavar="CSV",
            help="A CSV of pattern,device,model,os_version: each export's device by its "
            "path below the folder named (the first pattern that matches).",
        ),
        click.option(
            "--date",
            metavar="YYYY-MM-DD",
            callback=_day,
            help="The date of records whose log prints none (Console copies, device relays; "
            "default: date=unknown).",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def check_export_options(
    report: Path | None, format: str, strict: bool, keep_other: bool, reading: Reading
) -> None:
    """Refuse the export options a dataset has no use for."""
    refused = [
        name
        for name, given in (
            ("--report", report is not None),
            ("--format", format != "parquet"),
            ("--strict", strict),
            ("--keep-other", keep_other),
            ("--redact", reading.redact is not None),
        )
        if given
    ]
    if refused:
        msg = (
            f"{', '.join(refused)} cannot go with --dataset: a dataset is Parquet files of "
            "Network events, and its manifest is the account"
        )
        raise click.UsageError(msg)


def export_dataset(
    paths: tuple[str, ...], out_dir: Path, options: FleetOptions, output: Output, reading: Reading
) -> None:
    """``logflow export PATHS -o DATASET --dataset``: build or update the dataset, print
    the account, and exit 1 if an export failed."""
    with terminal.progress(terminal.ExportsProgress, quiet=reading.quiet) as show:
        built = build(
            list(paths),
            out_dir,
            engine=options.engine,
            scheduler=options.scheduler,
            workers=options.workers,
            device=options.device,
            devices=options.devices,
            date=options.date,
            max_record_bytes=reading.max_record_bytes,
            progress=show,
        )
    if output.format == "json":
        click.echo(machine.json_object(built.to_dict()))
    elif output.format == "csv":
        click.echo(machine.csv_text(built.failed), nl=False)
    else:
        click.echo(wrapped_lines([built.account()], terminal.screen(output.color).width))
    for error in built.failed["error"]:
        click.echo(f"  failed: {error}", err=True)
    sys.exit(built.exit_code)


def is_dataset_paths(paths: tuple[str, ...]) -> bool:
    """Whether the paths name one fleet dataset, for ``summary`` to answer about."""
    return len(paths) == 1 and is_dataset(Path(paths[0]))


def summarize_dataset(folder: str, filters: Filters, output: Output) -> None:
    """``logflow summary DATASET``: the fleet questions' answers."""
    if filters.picks_trees:
        msg = (
            "the filters pick trees in logs, not in a dataset; filter one with "
            "logflow.fleet() or DuckDB (docs/fleet.md)"
        )
        raise click.UsageError(msg)
    dataset = fleet(folder)
    if output.format == "csv":
        worst = dataset.worst_devices().collect(engine=ENGINE)
        click.echo(machine.csv_text(worst), nl=False)
        return
    answers = dataset.answers()
    if output.format == "json":
        click.echo(machine.json_object(answers))
    else:
        width = terminal.screen(output.color).width
        text = answers_text(answers, width)
        click.echo(text)
