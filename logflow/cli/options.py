"""The options several commands share, each defined once: the paths, the filters, the output
format and colour, how to read."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from logflow import scratch
from logflow.analysis.filters import Filters, Moment, connection_id, moment
from logflow.analysis.tree import OUTCOMES
from logflow.errors import FilterError
from logflow.reading.inputs import MAX_RECORD_BYTES
from logflow.reading.redact import Redactor

F = TypeVar("F", bound=Callable[..., Any])
Format = Literal["text", "json", "csv"]


@dataclass(frozen=True)
class Output:
    """How a command prints its answer: for people (``text``, coloured or not; None: as the
    terminal allows) or for programs."""

    format: Format = "text"
    color: bool | None = None


def paths_argument(command: F) -> F:
    """The PATHS argument every command takes."""
    return click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))(
        command
    )


def _converted(convert: Callable[[str], Any]) -> Callable[..., Any]:
    """A click callback: ``convert`` the value, its error a usage error naming the option."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return convert(value)
        except FilterError as err:
            raise click.BadParameter(str(err)) from None

    return callback


def filter_options(command: F) -> F:
    """``--process``, ``--conn``, ``--host``, ``--outcome``, ``--since``, ``--until``, given
    to the command as one ``filters``."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        process: str | None,
        conn: str | None,
        host: str | None,
        outcome: str | None,
        since: Moment | None,
        until: Moment | None,
        **kwargs: Any,
    ) -> Any:
        filters = Filters(process, conn, host, outcome, since, until)
        return command(*args, filters=filters, **kwargs)

    options = [
        click.option(
            "--process",
            metavar="NAME",
            help="Only this process: its name in any case (safari), Name[pid], or a pid.",
        ),
        click.option(
            "--conn",
            metavar="ID",
            callback=_converted(connection_id),
            help="Only the tree that holds this connection: C8, C8.1.2, C8.1.1:2 as logged, "
            "2016's 8.1.2; or a listener, L1.",
        ),
        click.option(
            "--host",
            metavar="TEXT",
            help="Only trees with a connection to a host or address containing TEXT.",
        ),
        click.option(
            "--outcome",
            type=click.Choice(list(OUTCOMES)),
            metavar="OUTCOME",
            help=f"Only trees in which a connection ended so: {', '.join(OUTCOMES)}.",
        ),
        click.option(
            "--since",
            metavar="TIME",
            callback=_converted(moment),
            help="Only what happened from TIME: as the log's clock prints it (09:41:07, "
            "'2025-03-14 09:41'), or after the capture's start (+30s, +1m30s, +500ms).",
        ),
        click.option(
            "--until",
            metavar="TIME",
            callback=_converted(moment),
            help="Only what happened until TIME (as --since).",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def output_options(command: F) -> F:
    """``--json``, ``--csv`` and ``--color/--no-color``, given to the command as one
    ``output``."""

    @functools.wraps(command)
    def wrapper(*args: Any, as_json: bool, as_csv: bool, color: bool | None, **kwargs: Any) -> Any:
        if as_json and as_csv:
            msg = "choose one of --json and --csv"
            raise click.UsageError(msg)
        format: Format = "json" if as_json else "csv" if as_csv else "text"
        return command(*args, output=Output(format, color), **kwargs)

    wrapper = color_option(wrapper)
    wrapper = click.option(
        "--csv",
        "as_csv",
        is_flag=True,
        help="Print CSV: a header, a row a line; lists and structs as JSON text.",
    )(wrapper)
    wrapper = click.option(
        "--json", "as_json", is_flag=True, help="Print JSON: one object a line, nulls kept."
    )(wrapper)
    return wrapper  # type: ignore[return-value]


def color_option(command: F) -> F:
    """``--color/--no-color``, given to the command as ``color`` (None: decide by the terminal)."""
    return click.option(
        "--color/--no-color",
        default=None,
        help="Colour the outcomes. Default: on a terminal, unless NO_COLOR is set.",
    )(command)


@dataclass(frozen=True)
class Reading:
    """How a command reads its inputs: whether it shows progress, the longest record it
    keeps whole, and whether it redacts them (and where it writes the mapping)."""

    quiet: bool = False
    max_record_bytes: int = MAX_RECORD_BYTES
    redact: Redactor | None = None
    mapping: Path | None = None
    workers: int | None = None

    def parse_options(self) -> dict[str, Any]:
        """What :func:`logflow.pipeline.parse` takes of them."""
        return {
            "max_record_bytes": self.max_record_bytes,
            "redact": self.redact,
            "workers": self.workers,
        }


_SIZE = re.compile(r"(?i)^\s*(\d+)\s*(|k|m|g|kib|mib|gib|kb|mb|gb)\s*$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def size(text: str) -> int:
    """Bytes from ``4096``, ``64K``, ``1MiB`` or ``2G`` (binary units)."""
    found = _SIZE.match(text)
    if not found or int(found[1]) == 0:
        msg = f"{text!r} is not a size: give bytes, or a number with K, M or G (1M, 4MiB)"
        raise click.BadParameter(msg)
    return int(found[1]) * _UNITS[found[2][:1].lower()]


def _at_least_one(n: int | None) -> int | None:
    if n is not None and n < 1:
        raise click.BadParameter(f"{n} is not a number of workers: give 1 or more")
    return n


def reading_options(command: F) -> F:
    """``-q/--quiet``, ``--tmp-dir``, ``--workers``, ``--max-record-bytes`` and ``--redact``,
    given to the command as ``reading`` (:class:`Reading`); ``--tmp-dir`` takes effect as it
    is read."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        quiet: bool,
        max_record_bytes: int,
        redact: bool,
        key: str | None,
        mapping: Path | None,
        workers: int | None,
        **kwargs: Any,
    ) -> Any:
        if (key or mapping) and not redact:
            raise click.UsageError("--key and --mapping go with --redact")
        redactor = Redactor.with_key(key) if redact else None
        reading = Reading(quiet, max_record_bytes, redactor, mapping, workers)
        return command(*args, reading=reading, **kwargs)

    wrapper = redaction_options(wrapper)
    wrapper = click.option(
        "--redact",
        is_flag=True,
        help="Print and write pseudonyms for host names, addresses, ids, URLs, user and app "
        "names, so the output can be posted (see `logflow redact --help`).",
    )(wrapper)
    wrapper = click.option(
        "--max-record-bytes",
        default="1M",
        show_default=True,
        callback=lambda _ctx, _param, text: size(text),
        metavar="SIZE",
        help="Cut a longer record (a runaway line, a paste gone wrong) there; cuts are counted.",
    )(wrapper)
    wrapper = click.option(
        "--workers",
        type=int,
        callback=lambda _ctx, _param, n: _at_least_one(n),
        metavar="N",
        help="Parse N blocks at once, or with export --dataset, N exports (default: one per "
        "core). Polars' own threads are set apart, by POLARS_MAX_THREADS.",
    )(wrapper)
    wrapper = click.option(
        "--tmp-dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        callback=lambda _ctx, _param, folder: scratch.use(folder),
        expose_value=False,
        help="Folder for temporary files (default: $TMPDIR); see the README for how much.",
    )(wrapper)
    wrapper = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Show no progress while reading (it shows only on a terminal).",
    )(wrapper)
    return wrapper  # type: ignore[return-value]


def redaction_options(command: F) -> F:
    """``--key`` and ``--mapping``: the pseudonyms' key, and the file of what they stand for."""
    command = click.option(
        "--mapping",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Write what each pseudonym stands for to FILE (private: readable by you only; "
        "never post it). Without it, the mapping is written nowhere.",
    )(command)
    return click.option(
        "--key",
        envvar="LOGFLOW_REDACT_KEY",
        metavar="TEXT",
        help="Key the pseudonyms: the same key gives the same pseudonyms in every run (also "
        "$LOGFLOW_REDACT_KEY). Default: a random key, new pseudonyms each run.",
    )(command)
