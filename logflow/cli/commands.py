"""The command line: thin click commands over the library.

This is the only module that imports click, prints, or decides exit codes. Every
:class:`~logflow.errors.LogflowError` becomes one ``Error: ...`` line on stderr and exit 1;
bad flags are click usage errors (exit 2); SIGINT and SIGTERM stop a run cleanly, with one
line saying what was kept, and exit 130 and 143, as a shell reports them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
import polars as pl

from logflow import notebook, scratch
from logflow.analysis import diagnose
from logflow.analysis.filters import Filters
from logflow.cli import fleet as fleets
from logflow.cli import terminal
from logflow.cli.options import (
    Output,
    Reading,
    color_option,
    filter_options,
    output_options,
    paths_argument,
    reading_options,
    redaction_options,
)
from logflow.engine import ENGINE
from logflow.errors import Interrupted, LogflowError
from logflow.outputs import export as exporting
from logflow.outputs import machine, tables, timeline_text, trees
from logflow.outputs import redacted as redacting
from logflow.outputs import summary as summaries
from logflow.outputs import timeline as timelines
from logflow.outputs.cells import counted
from logflow.outputs.files import replacing
from logflow.outputs.report import Report
from logflow.pipeline import Parsed, parse
from logflow.reading import stdin
from logflow.reading.inputs import STDIN
from logflow.reading.redact import Redactor

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn library errors into one clear line and exit status 1, and interrupts into one
    line saying what was kept and exit status 130 (SIGINT) or 143 (SIGTERM); never a
    traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except LogflowError as err:
            raise click.ClickException(str(err)) from None
        except (KeyboardInterrupt, Interrupted) as stop:
            if not isinstance(stop, Interrupted):
                stop = Interrupted(signal.SIGINT)
            click.echo(f"Interrupted by {stop.name}: {stop.kept or 'nothing written'}.", err=True)
            sys.exit(stop.exit_code)

    return wrapper  # type: ignore[return-value]


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM stops a run as Ctrl-C does: what it was writing is removed on the way out."""
    raise Interrupted(signum)


@contextlib.contextmanager
def _kept_on_interrupt(kept: str) -> Iterator[None]:
    """Say what an interrupt in the block left as it was, unless it says so itself."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT, kept) from None
    except Interrupted as stop:
        raise Interrupted(stop.signum, stop.kept or kept) from None


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
      logflow summary net.log             one screen: what happened
      logflow tree net.log --failed       the connections that failed, as trees
      logflow timeline net.log -o t.html  the connections on a time axis
      logflow events net.log --conn C8    every line of C8 and its attempts
      logflow export net.log -o out/      Parquet tables for notebooks
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
@click.option(
    "--format",
    "format_",
    type=click.Choice(exporting.FORMATS),
    default="parquet",
    show_default=True,
    help="The tables' files: Parquet, CSV (lists and structs as JSON text) or NDJSON.",
)
@click.option("--strict", is_flag=True, help="Exit with status 1 if any record is unparsed.")
@click.option(
    "--keep-other",
    is_flag=True,
    help="Keep other subsystems' records and unparsed records in events.parquet.",
)
@fleets.fleet_options
@reading_options
@output_options
@reports_errors
def export(
    paths: tuple[str, ...],
    out_dir: Path,
    report_path: Path | None,
    format_: exporting.Format,
    strict: bool,
    keep_other: bool,
    reading: Reading,
    output: Output,
    fleet: fleets.FleetOptions,
) -> None:
    """Parse log exports into tables in OUT.

    Writes events.parquet (one row per Network-framework record), connections.parquet,
    races.parquet, proxy_failures.parquet, path_changes.parquet and listeners.parquet, every
    row of them (filter in the notebook); .csv or .ndjson files with --format. They are one
    set, moved into OUT together: a run that fails or is stopped leaves OUT as it was (and
    no new OUT). OUT holds a .logflow-output file, so that it is never read back as logs.

    PATHS are files, folders (every .log .txt .ndjson .jsonl .json .tsv .text .csv file in them,
    gzip'd or not), or - for standard input. Every input line is accounted for: it is part
    of a Network event, of another subsystem's record, of `log`'s preamble or trailer, or it
    is reported as unparsed. --json and --csv print that account for a program.

    Exit status: 0 on success, 1 on bad input (or unparsed records with --strict), 2 on a
    usage error, 130 or 143 when stopped by Ctrl-C (SIGINT) or SIGTERM.

    \b
    Examples:
      logflow export sample_logs/logshow-default-race.log -o out/
      logflow export ~/Desktop/logs/ -o out/ --report out/report.json
      logflow export net.log -o out/ --format csv
      log stream --style ndjson --predicate 'subsystem == "com.apple.network"' \\
          | logflow export - -o out/   # Ctrl-C ends the stream, not the export

    With --dataset, OUT is a fleet dataset: each table's rows in
    OUT/<table>/device=<device>/date=<YYYY-MM-DD>/<export_id>-<n>.parquet, and
    OUT/_manifest.parquet listing every export. Run it again on the same folders: unchanged
    exports are skipped, changed ones replaced, new ones added. Exit status 1 if an export
    could not be read (the others are written; the manifest says why).

    \b
    Fleet examples (devices/ holds a folder per device):
      logflow export sample_logs/ -o fleet/ --dataset --device mac
      logflow export devices/ -o fleet/ --dataset --engine dask --workers 2
      logflow export lab/ -o fleet/ --dataset --devices lab.csv --date 2025-03-14
      logflow summary fleet/
    """
    if fleet.dataset:
        fleets.check_export_options(report_path, format_, strict, keep_other, reading)
        fleets.export_dataset(paths, out_dir, fleet, output, reading)
        return
    with _reading_inputs(paths, reading) as progress:
        exported = exporting.export(
            paths,
            out_dir,
            format=format_,
            keep_other=keep_other,
            report_path=report_path,
            progress=progress,
            **reading.parse_options(),
        )
    report = exported.report
    if output.format == "json":
        click.echo(machine.json_object(report.to_dict()))
    elif output.format == "csv":
        click.echo(machine.csv_text(pl.DataFrame([report.counts()])), nl=False)
    else:
        click.echo(report.account())
        click.echo(f"Wrote {', '.join(p.name for p in exported.files)} to {out_dir}.")
    _notes(report)
    sys.exit(report.exit_code(strict=strict))


@cli.command()
@paths_argument
@filter_options
@output_options
@reading_options
@reports_errors
def summary(paths: tuple[str, ...], filters: Filters, output: Output, reading: Reading) -> None:
    """One screen about the logs: the capture, its processes, connections and attempts and
    their outcomes, races (winners and also-rans), failures by error, proxy failures, path
    changes, listeners and what they accepted, busiest hosts.

    --json prints it all as one object, no list cut; --csv prints a row per process.

    Given a fleet dataset (export --dataset), it answers across devices instead: failure
    signatures, Happy Eyeballs outcomes and also-rans by address family, proxy failures by
    proxy, path-change storms, the worst devices (--csv: a row per device).

    \b
    Examples:
      logflow summary sample_logs/logshow-default-race.log
      logflow summary net.log --process Safari --since +30s
      logflow summary fleet/ --json
    """
    if fleets.is_dataset_paths(paths):
        fleets.summarize_dataset(paths[0], filters, output)
        return
    parsed = _parse(paths, reading)
    data = summaries.summarize(parsed, filters)
    if output.format == "json":
        click.echo(machine.json_object(data))
    elif output.format == "csv":
        click.echo(machine.csv_text(pl.DataFrame(data["processes"])), nl=False)
    else:
        screen = terminal.screen(output.color)
        click.echo(summaries.summary_text(data, width=screen.width))
    _notes(Report.of(parsed))


@cli.command()
@paths_argument
@filter_options
@click.option(
    "--failed", is_flag=True, help="Only trees where an attempt failed (--outcome failed)."
)
@output_options
@reading_options
@reports_errors
def tree(
    paths: tuple[str, ...], filters: Filters, failed: bool, output: Output, reading: Reading
) -> None:
    """The connection trees: every connection and its attempts, a line each: id, endpoint,
    mode, OUTCOME, when it started (and how long after its root), how long it took, when it
    was ready, the bytes it moved, its rtt, its error. Trees come by file, process, then
    start; coloured by outcome on a terminal.

    --json and --csv print one flat row per connection, in the order drawn (each with its
    depth and parent_id).

    \b
    Examples:
      logflow tree sample_logs/logshow-default-race.log
      logflow tree sample_logs/logstream-compact-refused.log --failed
      logflow tree net.log --process safari --conn C8.1.1:2
    """
    if failed:
        filters = dataclasses.replace(filters, outcome="failed")
    parsed = _parse(paths, reading)
    conns = parsed.table("connections", filters).collect(engine=ENGINE)
    if output.format != "text":
        _print_machine(trees.in_tree_order(conns, list(parsed.sources)), output)
        return
    if conns.is_empty():
        click.echo(_nothing("connections", parsed, filters), err=True)
        return
    screen = terminal.screen(output.color)
    _echo_lines(
        trees.tree_lines(conns, parsed.captures, list(parsed.sources), width=screen.width), screen
    )


def _echo_lines(lines: list[trees.Line], screen: tables.Screen) -> None:
    """Lines that show an outcome, in its colour where the screen takes colour."""
    for text, outcome in lines:
        fg = tables.OUTCOME_COLOURS.get(outcome or "")
        click.echo(click.style(text, fg=fg) if screen.color and fg else text, color=screen.color)


def _table_command(name: str, doc: str) -> None:
    @cli.command(name=tables.VIEWS[name].command, help=doc)
    @paths_argument
    @filter_options
    @output_options
    @reading_options
    @reports_errors
    def command(paths: tuple[str, ...], filters: Filters, output: Output, reading: Reading) -> None:
        parsed = _parse(paths, reading)
        _print_table(
            name, parsed.table(name, filters).collect(engine=ENGINE), parsed, filters, output
        )


def _print_table(
    name: str, table: pl.DataFrame, parsed: Parsed, filters: Filters, output: Output
) -> None:
    """A table for people (fitted to the terminal, or whole in a pipe) or for programs."""
    if output.format != "text":
        _print_machine(table, output)
    elif table.is_empty():
        click.echo(_nothing(name, parsed, filters))
    else:
        screen = terminal.screen(output.color)
        view = tables.cells_of(name, table, parsed.captures)
        outcome = tables.VIEWS[name].outcome
        click.echo(tables.render(view, screen, outcome=outcome), color=screen.color)


def _print_machine(table: pl.DataFrame, output: Output) -> None:
    text = machine.json_lines(table) if output.format == "json" else machine.csv_text(table)
    click.echo(text, nl=False)


def _nothing(name: str, parsed: Parsed, filters: Filters) -> str:
    """``No races in net.log.``, saying when the filters left none."""
    noun = tables.VIEWS[name].noun if name in tables.VIEWS else name
    return tables.nothing_found(
        noun, list(parsed.sources), filtered=filters.picks_trees, width=terminal.screen(None).width
    )


@cli.command()
@paths_argument
@filter_options
@output_options
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
@reading_options
@reports_errors
def races(
    paths: tuple[str, ...],
    filters: Filters,
    output: Output,
    wireshark: str | None,
    reading: Reading,
) -> None:
    """Every Happy Eyeballs race: the attempts under one parent, the winner (how long it
    took to connect, and by how much it beat the next), the also-rans, and the addresses
    the resolver had in hand but never tried.

    With --wireshark, a display filter for a packet trace taken at the same time: each
    also-ran by the addresses and ports the log gives (hashed and <private> ones are left
    out: capture with private data shown for more); wrap it in !( ) to hide them.

    \b
    Examples:
      logflow races sample_logs/logshow-default-race.log --json
      logflow races sample_logs/console-client-local-race.tsv.log --wireshark
      tshark -r trace.pcapng -Y "$(logflow races net.log --wireshark-winners)"
    """
    parsed = _parse(paths, reading)
    if wireshark is None:
        _print_table(
            "races", parsed.table("races", filters).collect(engine=ENGINE), parsed, filters, output
        )
        return
    if output.format != "text":
        msg = "--wireshark prints a display filter: no --json or --csv with it"
        raise click.UsageError(msg)
    connections = parsed.table("connections", filters)
    text, unaddressed = diagnose.wireshark_filter(connections, wireshark)
    noun = "also-ran" if wireshark == "also-ran" else "winner"
    if unaddressed:
        attempts = f"{unaddressed} {noun}{'s' if unaddressed > 1 else ''}"
        click.echo(f"  {attempts} left out: the log gives no address for them", err=True)
    if not text:
        msg = f"no {noun} that was started has an address a packet trace would show"
        raise LogflowError(msg)
    click.echo(text)


_table_command(
    "proxy_failures",
    """Every failed proxy attempt, its error, and whether the connection fell back to direct.

    \b
    Example:
      logflow proxies sample_logs/console-copy.tsv.log
    """,
)
_table_command(
    "path_changes",
    """Every change of a connection's path: status, interface, viability, migration, and
    what any other path event changed (address families, DNS, LQM, ...); changes that hit
    several connections within a second share a system-wide number.

    \b
    Examples:
      logflow paths sample_logs/xcode15-metadata.log --csv
      logflow paths sample_logs/console-network-change.tsv.log --since +2s
    """,
)
_table_command(
    "listeners",
    """Every listener ([L1]) in a server's log: its inbound connections handled and what
    failed. The inbound connections are in `logflow tree` and the connections table
    (inbound, probable_also_ran, and client_attempt when the client's log is read too).

    \b
    Example:
      logflow listeners sample_logs/logshow-server-listener.log --json
    """,
)


@cli.command()
@paths_argument
@filter_options
@output_options
@reading_options
@reports_errors
def events(paths: tuple[str, ...], filters: Filters, output: Output, reading: Reading) -> None:
    """Every record of a connection and its attempts, in log order: its line, time (and
    offset from the capture's start), id and instance, kind, state or event, and message.
    Where several processes have a C8, each one's come under its name.

    This is what Apple's advice, search the log for [C8.1.1], asks for. Without --conn it
    prints every event the other filters keep.

    \b
    Examples:
      logflow events sample_logs/logshow-default-race.log --conn C8
      logflow events net.log --conn C8.1.2 --process Weather
      logflow events net.log --conn C8 --json | jq .message
    """
    with _parsed_with_events(paths, reading) as parsed:
        found = tables.in_log_order(
            parsed.events(filters).collect(engine=ENGINE), list(parsed.sources)
        )
        if output.format != "text":
            _print_machine(found, output)
        elif found.is_empty():
            click.echo(_nothing("events", parsed, filters))
        else:
            screen = terminal.screen(output.color)
            view = tables.cells_of("events", found, parsed.captures)
            if screen.width is None:
                click.echo(tables.render(view, screen))
            else:
                click.echo("\n".join(tables.event_lines(view, screen.width)))


TIMELINE_FORMATS = {
    ".pftrace": "perfetto",
    ".perfetto-trace": "perfetto",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
}


@cli.command()
@paths_argument
@click.option(
    "-o",
    "--out",
    "out_path",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="File to write: .pftrace (Perfetto), .html, .txt; - prints the text timeline.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["perfetto", "html", "text"]),
    help="What to write, when OUT's extension does not say.",
)
@filter_options
@color_option
@reading_options
@reports_errors
def timeline(
    paths: tuple[str, ...],
    out_path: Path,
    format_: str | None,
    filters: Filters,
    color: bool | None,
    reading: Reading,
) -> None:
    """Every connection and attempt on a time axis: a race, its also-rans, a proxy failure
    or a path change, where they happened.

    \b
    Formats (from OUT's extension, or --format):
      perfetto  .pftrace, for https://ui.perfetto.dev (Open trace file: it is
                read in the browser, not uploaded): a track per process,
                connection and attempt, nested as the tree is, with phases,
                errors and path changes. Needs: pip install 'logflow[trace]'
      html      one offline page to attach to a bug report: a row per
                connection, zoom, details on hover, filters.
                Needs: pip install 'logflow[html]'
      text      a bar per connection for a terminal or an issue: light until
                the connection is ready, solid after

    \b
    Examples:
      logflow timeline sample_logs/logshow-default-race.log
      logflow timeline net.log -o race.pftrace --process Weather --since 10:32:05
      logflow timeline net.log -o timeline.html --outcome failed
    """
    format_ = format_ or _timeline_format(out_path)
    to_file = str(out_path) != "-"
    kept = f"{out_path} {'as it was' if out_path.exists() else 'not written'}" if to_file else ""
    with _kept_on_interrupt(kept), _parsed_with_events(paths, reading) as parsed:
        shown = timelines.timeline(parsed, filters)
        if shown.spans.is_empty():
            nothing = (
                "The log's lines carry no times: there is no time axis to draw."
                if shown.untimed
                else _nothing("connections", parsed, filters)
            )
            if str(out_path) == "-":
                click.echo(nothing, err=True)
                return
            # A file asked for and not written is a failure.
            msg = f"{nothing[0].lower()}{nothing[1:].rstrip('.')}; {out_path} not written"
            raise LogflowError(msg)
        if shown.untimed:
            left_out = counted(shown.untimed, "connection")
            click.echo(f"  {left_out} left out: their lines carry no time", err=True)
        if format_ == "perfetto":
            from logflow.outputs.perfetto import write_perfetto

            write_perfetto(shown, out_path)
        elif format_ == "html":
            from logflow.outputs.html import write_html

            write_html(shown, out_path)
        elif str(out_path) == "-":
            screen = terminal.screen(color)
            _echo_lines(timeline_text.timeline_lines(shown, screen.width), screen)
            return
        else:
            lines = timeline_text.timeline_lines(shown, None)
            with replacing(out_path) as partial:
                partial.write_text("".join(f"{text}\n" for text, _ in lines), encoding="utf-8")
    if not reading.quiet:
        click.echo(
            f"Wrote the timeline of {len(shown.spans):,} connections to {out_path}.", err=True
        )


def _timeline_format(out_path: Path) -> str:
    if str(out_path) == "-":
        return "text"
    suffix = out_path.suffix.lower()
    if suffix not in TIMELINE_FORMATS:
        msg = (
            f"{out_path}: cannot tell the format from {suffix or 'no extension'}; "
            "name it .pftrace, .html or .txt, or give --format"
        )
        raise click.UsageError(msg)
    return TIMELINE_FORMATS[suffix]


@contextlib.contextmanager
def _parsed_with_events(paths: tuple[str, ...], reading: Reading) -> Iterator[Parsed]:
    """Parse, the events written to a scratch Parquet file (not held in memory) that lasts
    as long as the block."""
    folder = scratch.folder("events")
    try:
        with _reading_inputs(paths, reading) as progress, scratch.writing_scratch():
            parsed = parse(
                paths,
                keep="none",
                events_file=folder / "events.parquet",
                progress=progress,
                **reading.parse_options(),
            )
        yield parsed.require_network_events()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@cli.command()
@paths_argument
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the redacted logs (made if need be).",
)
@redaction_options
@click.option("--json", "as_json", is_flag=True, help="Print what was done as one JSON object.")
@reports_errors
def redact(
    paths: tuple[str, ...], out_dir: Path, key: str | None, mapping: Path | None, as_json: bool
) -> None:
    """Rewrite logs so they can be posted publicly, telling the same story.

    Host names, IPv4 and IPv6 addresses (of the same family and class: private stays
    private, link-local link-local), hashed endpoints, UUIDs, url hashes, URL paths and
    queries, user names in paths, e-mail addresses, Wi-Fi and device names, and the process
    and bundle names of apps not Apple's become pseudonyms: the same value, the same
    pseudonym. Connection ids, states, errors, counts, times, and Apple's process and
    subsystem names are kept, so the redacted log gives the same trees, races, proxy
    failures and path changes as the original.

    Each file is written to OUT under its own name, a folder's files under the folder's
    name, standard input as OUT/stdin.log; line for line, as UTF-8. Lines that may hold a
    secret no pattern knows (`token=...`, a long run of letters and digits) are listed:
    look at them before posting. The mapping back is written only with --mapping.

    \b
    Examples:
      logflow redact sample_logs/logshow-failures-and-losses.log -o share/
      logflow redact ~/Desktop/logs/ -o share/ --mapping ~/private/map.json
      logflow redact net.log -o share/ --key "$KEY"  # the same pseudonyms again
      logflow summary net.log --redact               # a summary to paste
    """
    redactor = Redactor.with_key(key)
    done = redacting.redact(list(paths), out_dir, redactor)
    if mapping is not None:
        redacting.write_mapping(redactor, mapping)
    if as_json:
        click.echo(machine.json_object(done.to_dict()))
        return
    files = counted(len(done.files), "file")
    click.echo(
        f"Redacted {counted(done.lines, 'line')} of {files} into {out_dir}, "
        f"with {counted(done.pseudonyms, 'pseudonym')}."
    )
    for skipped in done.skipped:
        click.echo(f"  skipped: {skipped.path}: {skipped.reason}", err=True)
    _lines_to_check(done.to_check)


def _lines_to_check(to_check: pl.DataFrame) -> None:
    if to_check.is_empty():
        click.echo("No line holds what looks like a secret; still, read the files before posting.")
        return
    click.echo(
        f"Look at {counted(to_check.height, 'line')} before posting: they may hold a secret "
        "that no pattern replaced."
    )
    width = shutil.get_terminal_size().columns
    for file, line, why, what in to_check.head(redacting.EXAMPLES).iter_rows():
        shown = f"  {file}:{line}: {why}: {what}"
        click.echo(shown if len(shown) <= width else shown[: width - 1] + "…")
    if to_check.height > redacting.EXAMPLES:
        click.echo(f"  … and {to_check.height - redacting.EXAMPLES:,} more (--json lists all)")


@cli.group()
def cache() -> None:
    """The cache of parses that logflow.read() keeps for notebooks, so that reading an
    unchanged export again takes no parse: under $XDG_CACHE_HOME/logflow (~/.cache/logflow).

    \b
    Examples:
      logflow cache info
      logflow cache clear
    """


@cache.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print it as one JSON object.")
def cache_info(as_json: bool) -> None:
    """Where the cache is, and what it holds."""
    entries, held = notebook.cache_contents()
    folder = notebook.cache_folder()
    if as_json:
        click.echo(machine.json_object({"folder": str(folder), "entries": entries, "bytes": held}))
    else:
        click.echo(f"{folder}: {counted(entries, 'parse')}, {held / 1e6:,.1f} MB")


@cache.command("clear")
def cache_clear() -> None:
    """Remove every parse the cache holds."""
    entries, held = notebook.clear()
    click.echo(f"Removed {counted(entries, 'parse')}, {held / 1e6:,.1f} MB.")


def _parse(paths: tuple[str, ...], reading: Reading) -> Parsed:
    """Parse for a command that prints tables: keep the trees, not the records."""
    with _reading_inputs(paths, reading) as progress:
        parsed = parse(paths, keep="none", progress=progress, **reading.parse_options())
    return parsed.require_network_events()


@contextlib.contextmanager
def _reading_inputs(
    paths: tuple[str, ...], reading: Reading
) -> Iterator[terminal.ParseProgress | None]:
    """Progress while the inputs are read; reading standard input, the first Ctrl-C ends the
    input and the run goes on with what was read (`log stream` has no end of its own), the
    second stops it."""
    reads_stdin = STDIN in paths and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _end_input) if reads_stdin else None
    try:
        with terminal.progress(terminal.ParseProgress, quiet=reading.quiet) as progress:
            yield progress
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if stdin.ended():
        click.echo("  standard input ended by Ctrl-C: this is what was read before it", err=True)
    if reading.mapping is not None and reading.redact is not None:
        redacting.write_mapping(reading.redact, reading.mapping)


def _end_input(signum: int, frame: object) -> None:
    stdin.end()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the next Ctrl-C stops the run
    click.echo("  Ctrl-C: ending the input, going on with what was read (again to stop)", err=True)


def _notes(report: Report) -> None:
    """Files skipped, files read only in part and the first unparsed records, on stderr."""
    for skipped in report.skipped:
        click.echo(f"  skipped: {skipped['path']}: {skipped['reason']}", err=True)
    for cut in report.cut_short:
        where = f"{cut['path']} at line {cut['line']:,} (byte {cut['byte']:,})"
        click.echo(f"  cut short: {where}: {cut['reason']}", err=True)
    for example in report.unparsed_examples[:3]:
        where = f"{example['source']}:{example['line_no']}"
        click.echo(f"  unparsed: {where}: {example['reason']}", err=True)


def main() -> None:
    """Entry point of the ``logflow`` console script."""
    signal.signal(signal.SIGTERM, _terminated)
    cli()
