"""The command line: thin click commands over the library.

This is the only module that imports click, prints, or decides exit codes. Every
:class:`~logflow.errors.LogflowError` becomes one ``Error: ...`` line on stderr and exit 1;
bad flags are click usage errors (exit 2).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
import polars as pl

from logflow.analysis import diagnose
from logflow.errors import LogflowError
from logflow.outputs import export as exporting
from logflow.outputs import summary as render
from logflow.outputs.report import Report
from logflow.pipeline import Parsed, parse

F = TypeVar("F", bound=Callable[..., Any])

OUTCOME_COLOURS = {"won": "green", "failed": "red", "also-ran": "yellow", "open": "cyan"}


def reports_errors(command: F) -> F:
    """Turn library errors into one clear line and exit status 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except LogflowError as err:
            raise click.ClickException(str(err)) from None

    return wrapper  # type: ignore[return-value]


def paths_argument(command: F) -> F:
    """The PATHS argument every command takes."""
    return click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))(
        command
    )


def table_format(command: F) -> F:
    """``--json`` / ``--csv`` for commands that print a table."""
    command = click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")(command)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="logflow")
def cli() -> None:
    """Turn Apple Network-framework logs into tables and answers.

    logflow reads what `log show`, `log stream`, Console.app and Xcode print (every style and
    era since 2016, gzip'd or not), finds every com.apple.network record in it, rebuilds the
    connection trees (C8 -> C8.1 -> C8.1.1, C8.1.2) and says which Happy Eyeballs attempt won,
    which were also-rans, where a proxy failed and when the path changed.

    \b
    Get a log to read, on the Mac that ran the app:
      log show --last 10m --info --debug \\
          --predicate 'subsystem == "com.apple.network"' > net.log

    \b
    Then:
      logflow summary net.log          one screen: what happened
      logflow tree net.log --failed    the connections that failed, as trees
      logflow export net.log -o out/   Parquet tables for notebooks
    """


@cli.command()
@paths_argument
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the Parquet tables into (created if missing).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a JSON account of the run: lines read, records, unparsed examples.",
)
@click.option("--strict", is_flag=True, help="Exit with status 1 if any record is unparsed.")
@click.option(
    "--keep-other",
    is_flag=True,
    help="Keep other subsystems' records and unparsed records in events.parquet.",
)
@reports_errors
def export(
    paths: tuple[str, ...],
    out_dir: Path,
    report_path: Path | None,
    strict: bool,
    keep_other: bool,
) -> None:
    """Parse log exports into Parquet tables in OUT.

    Writes events.parquet (one row per Network-framework record), connections.parquet,
    races.parquet, proxy_failures.parquet, path_changes.parquet and listeners.parquet. A
    run that fails leaves no new OUT folder behind.

    PATHS are files, folders (every .log .txt .ndjson .jsonl .json .tsv .text .csv file in them,
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
    with _progress() as progress:
        parsed, written = exporting.export(paths, out_dir, keep_other=keep_other, progress=progress)
    report = Report.of(parsed)
    if report_path is not None:
        exporting.write_report(report, report_path)
    click.echo(report.account())
    click.echo(f"Wrote {', '.join(p.name for p in written)} to {out_dir}.")
    _notes(report)
    sys.exit(report.exit_code(strict=strict))


@cli.command()
@paths_argument
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@reports_errors
def summary(paths: tuple[str, ...], as_json: bool) -> None:
    """One screen about the logs: processes, connections and their outcomes, races and
    their also-rans, failures by error, proxy failures, path changes, listeners and what
    they accepted, busiest hosts.

    \b
    Example:
      logflow summary sample_logs/logshow-default-race.log
    """
    parsed = _parse(paths)
    data = render.summary_data(
        parsed.process_events,
        parsed.connections().collect(),
        parsed.races().collect(),
        parsed.proxy_failures().collect(),
        parsed.path_changes().collect(),
        parsed.listeners().collect(),
    )
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(render.summary_text(data, width=shutil.get_terminal_size().columns))
    _notes(Report.of(parsed))


@cli.command()
@paths_argument
@click.option(
    "--conn",
    "conn_id",
    callback=lambda ctx, param, value: _conn_id(value),
    help="Only the tree that holds this connection: C8, C8.1.2 (or 2016's 8).",
)
@click.option("--process", "process", help="Only this process (its name).")
@click.option("--failed", is_flag=True, help="Only trees where an attempt failed.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the outcomes. Default: on a terminal, unless NO_COLOR is set.",
)
@reports_errors
def tree(
    paths: tuple[str, ...],
    conn_id: str | None,
    process: str | None,
    failed: bool,
    color: bool | None,
) -> None:
    """The connection trees: every connection, its attempts, their outcome, endpoint, mode,
    timing and error. Coloured on a terminal, plain in a pipe or with NO_COLOR.

    \b
    Examples:
      logflow tree sample_logs/logshow-default-race.log
      logflow tree sample_logs/logstream-compact-refused.log --failed
      logflow tree net.log --process Safari --conn C8
    """
    conns = _parse(paths).connections()
    if conn_id is not None:
        conns = conns.filter(pl.col("root_id") == conn_id.split(".")[0])
    if process is not None:
        conns = conns.filter(pl.col("process") == process)
    if failed:
        trees = ["source", "process", "pid", "root_id"]
        conns = conns.filter((pl.col("outcome") == "failed").any().over(trees))
    lines = render.tree_lines(conns.collect())
    if not lines:
        click.echo("No connections match.", err=True)
    if color is None and os.environ.get("NO_COLOR"):
        color = False  # https://no-color.org: any non-empty value
    for text, outcome in lines:
        click.echo(click.style(text, fg=OUTCOME_COLOURS.get(outcome or "")), color=color)


def _conn_id(value: str | None) -> str | None:
    """`C8.1.2`, `c8.1.2` and 2016's `8.1.2`, as `C8.1.2`."""
    if value is None:
        return None
    digits = value[1:] if value[:1] in "Cc" else value
    if not digits or not all(part.isdecimal() for part in digits.split(".")):
        msg = f"{value!r} is not a connection id like C8 or C8.1.2"
        raise click.BadParameter(msg)
    return "C" + digits


def _table_command(name: str, table: Callable[[Parsed], pl.LazyFrame], doc: str) -> None:
    @cli.command(name=name, help=doc)
    @paths_argument
    @table_format
    @reports_errors
    def command(paths: tuple[str, ...], as_json: bool, as_csv: bool) -> None:
        _print_table(table(_parse(paths)).collect(), as_json=as_json, as_csv=as_csv)


def _print_table(frame: pl.DataFrame, *, as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        msg = "choose one of --json and --csv"
        raise click.UsageError(msg)
    if as_json:
        click.echo(frame.write_ndjson(), nl=False)
    elif as_csv:
        # CSV has no lists: a list becomes its items, space-separated.
        lists = pl.selectors.by_dtype(pl.List)
        flat = frame.with_columns(lists.cast(pl.List(pl.String)).list.join(" "))
        click.echo(flat.write_csv(), nl=False)
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200):
            click.echo(frame)


@cli.command()
@paths_argument
@table_format
@click.option(
    "--wireshark",
    "wireshark",
    flag_value="also-ran",
    help="Print a Wireshark display filter that selects the also-rans' packets instead.",
)
@click.option(
    "--wireshark-winners",
    "wireshark",
    flag_value="won",
    help="Print a Wireshark display filter that selects the winners' packets instead.",
)
@reports_errors
def races(paths: tuple[str, ...], as_json: bool, as_csv: bool, wireshark: str | None) -> None:
    """Every Happy Eyeballs race: the attempts under one parent, the winner, the also-rans,
    and the addresses the resolver had in hand but never tried.

    With --wireshark, a display filter for a packet trace taken at the same time: each
    also-ran by the addresses and ports the log gives (hashed and <private> ones are left
    out: capture with private data shown for more); wrap it in !( ) to hide them.

    \b
    Examples:
      logflow races sample_logs/logshow-default-race.log --json
      logflow races sample_logs/console-client-local-race.tsv.log --wireshark
      tshark -r trace.pcapng -Y "$(logflow races net.log --wireshark-winners)"
    """
    parsed = _parse(paths)
    if wireshark is None:
        _print_table(parsed.races().collect(), as_json=as_json, as_csv=as_csv)
        return
    text, unaddressed = diagnose.wireshark_filter(parsed.connections(), wireshark)
    noun = "also-ran" if wireshark == "also-ran" else "winner"
    if unaddressed:
        attempts = f"{unaddressed} {noun}{'s' if unaddressed > 1 else ''}"
        click.echo(f"  {attempts} left out: the log gives no address for them", err=True)
    if not text:
        msg = f"no {noun} that was started has an address a packet trace would show"
        raise LogflowError(msg)
    click.echo(text)


_table_command(
    "proxies",
    Parsed.proxy_failures,
    """Every failed proxy attempt, its error, and whether the connection fell back to direct.

    \b
    Example:
      logflow proxies sample_logs/console-copy.tsv.log
    """,
)
_table_command(
    "paths",
    Parsed.path_changes,
    """Every change of a connection's path: status, interface, viability, migration, and
    what any other path event changed (address families, DNS, LQM, ...); changes that hit
    several connections within a second share a system_change number.

    \b
    Examples:
      logflow paths sample_logs/xcode15-metadata.log --csv
      logflow paths sample_logs/console-network-change.tsv.log --json
    """,
)
_table_command(
    "listeners",
    Parsed.listeners,
    """Every listener ([L1]) in a server's log: its inbound connections handled and what
    failed. The inbound connections are in `logflow tree` and the connections table
    (inbound, probable_also_ran, and client_attempt when the client's log is read too).

    \b
    Example:
      logflow listeners sample_logs/logshow-server-listener.log --json
    """,
)


def _parse(paths: tuple[str, ...]) -> Parsed:
    """Parse for a command that prints tables: keep the trees, not the records."""
    with _progress() as progress:
        return parse(paths, keep="none", progress=progress)


@contextmanager
def _progress() -> Iterator[Callable[[int], None] | None]:
    """A line on stderr counting the lines read, on a terminal only; cleared when done."""
    if not sys.stderr.isatty():
        yield None
        return
    shown = False

    def show(lines: int) -> None:
        nonlocal shown
        shown = True
        click.echo(f"\r  read {lines:,} lines", err=True, nl=False)

    try:
        yield show
    finally:
        if shown:
            click.echo("\r\033[K", err=True, nl=False)


def _notes(report: Report) -> None:
    """Files skipped and the first unparsed records, on stderr."""
    for skipped in report.skipped:
        click.echo(f"  skipped: {skipped['path']}: {skipped['reason']}", err=True)
    for example in report.unparsed_examples[:3]:
        where = f"{example['source']}:{example['line_no']}"
        click.echo(f"  unparsed: {where}: {example['reason']}", err=True)


def main() -> None:
    """Entry point of the ``logflow`` console script."""
    cli()
