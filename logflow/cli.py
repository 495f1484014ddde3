"""The command line: thin click commands over the library.

This is the only module that imports click, prints, or decides exit codes. Every
:class:`~logflow.errors.LogflowError` becomes one ``Error: ...`` line on stderr and exit 1;
bad flags are click usage errors (exit 2).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from logflow import export as exporting
from logflow.errors import LogflowError
from logflow.pipeline import parse
from logflow.report import Report

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn library errors into one clear line and exit status 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except LogflowError as err:
            raise click.ClickException(str(err)) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="logflow")
def cli() -> None:
    """Turn Apple Network-framework logs into tables and answers.

    logflow reads what `log show`, `log stream`, Console.app and Xcode print (every style and
    era since 2016, gzip'd or not) and finds every com.apple.network record in it: connection
    ids like [C8.1.1], endpoints, states, events, errors.

    \b
    Get a log to read, on the Mac that ran the app:
      log show --last 10m --info --debug \\
          --predicate 'subsystem == "com.apple.network"' > net.log

    \b
    Then:
      logflow export net.log -o out/
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write events.parquet into (created if missing).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a JSON account of the run: lines read, records, unparsed examples.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with status 1 if any record could not be parsed.",
)
@click.option(
    "--keep-other",
    is_flag=True,
    help="Keep other subsystems' records and unparsed records in the table (see its kind column).",
)
@reports_errors
def export(
    paths: tuple[str, ...],
    out_dir: Path,
    report_path: Path | None,
    strict: bool,
    keep_other: bool,
) -> None:
    """Parse log exports into OUT/events.parquet, one row per Network-framework record.

    PATHS are files, folders (every .log .txt .ndjson .jsonl .json .tsv .text file in them,
    gzip'd or not), or - for standard input. Every input line is accounted for: it is part
    of a Network event, of another subsystem's record, of `log`'s preamble or trailer, or it
    is reported as unparsed.

    Exit status: 0 on success, 1 on bad input (or unparsed records with --strict), 2 on a
    usage error.

    \b
    Examples:
      logflow export sample_logs/logshow-default-race.log -o out/
      logflow export ~/Desktop/logs/ -o out/ --report out/report.json
      log stream --style ndjson --predicate 'subsystem == "com.apple.network"' \\
          | logflow export - -o out/
    """
    parsed = parse(paths)
    report = Report.of(parsed)
    events_path = exporting.write_events(parsed, out_dir, keep_other=keep_other)
    if report_path is not None:
        exporting.write_report(report, report_path)
    click.echo(report.account())
    click.echo(f"Wrote {events_path}.")
    for example in report.unparsed_examples[:3]:
        click.echo(
            f"  unparsed: {example['source']}:{example['line_no']}: {example['reason']}", err=True
        )
    sys.exit(report.exit_code(strict=strict))


def main() -> None:
    """Entry point of the ``logflow`` console script."""
    cli()
