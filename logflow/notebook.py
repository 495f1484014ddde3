"""What a notebook calls: :func:`read` parses each export once, into a cache of Parquet files,
and returns a ``scan_parquet`` LazyFrame; the table functions take what :func:`read` returns
(or any events table, lazy or not).

Given :func:`read`'s frame, :func:`connections` and the others scan the tables that parse
already built, a batch of trees at a time, so a notebook's memory stays as flat as the
command line's; given any other frame, they compute the table from it.

The cache lives under ``$XDG_CACHE_HOME/logflow`` (``~/.cache/logflow``), or in the folder
named with ``cache=``. An entry is keyed by the inputs' paths, sizes and modification times,
logflow's version and the options; it is built in a hidden folder and renamed into place
whole, so a reader never meets half of one; the oldest entries go first when the cache
outgrows its cap. ``logflow cache clear`` empties it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from logflow import scratch
from logflow.analysis import diagnose, tree
from logflow.outputs.export import export, version
from logflow.reading.inputs import input_files

# The most the cache holds, in bytes, before its oldest entries go.
MAX_CACHE_BYTES = 4 << 30
# Bumped when what an entry holds changes shape.
ENTRY_VERSION = 1

Frame = pl.LazyFrame | pl.DataFrame


@dataclass(frozen=True)
class Entry:
    """A parse in the cache: a folder of the events and the tables built from them."""

    folder: Path

    def scan(self, table: str) -> pl.LazyFrame:
        return _remembered(pl.scan_parquet(self.folder / f"{table}.parquet"), self)

    @property
    def bytes(self) -> int:
        return sum(f.stat().st_size for f in self.folder.iterdir() if f.is_file())


def cache_folder(cache: Path | str | None = None) -> Path:
    """Where the cache is: ``cache``, else ``$XDG_CACHE_HOME/logflow``, else
    ``~/.cache/logflow``."""
    if cache is not None:
        return Path(cache)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "logflow"


def read(
    paths: Iterable[str | Path] | str | Path,
    *,
    keep_other: bool = False,
    cache: Path | str | None = None,
    max_cache_bytes: int = MAX_CACHE_BYTES,
) -> pl.LazyFrame:
    """The events table of the given exports, as a ``LazyFrame`` over Parquet.

    Parameters
    ----------
    paths
        Files, folders (their log files), ``"-"`` for standard input; gzip'd files are fine.
    keep_other
        Keep records of other subsystems and unparsed records too (``kind`` tells them apart).
    cache
        The folder to cache the parse in (default: ``$XDG_CACHE_HOME/logflow``). Reading an
        unchanged input again takes no parse.
    max_cache_bytes
        The cache's cap; the entries least recently read go first.

    Examples
    --------
    >>> events = read("sample_logs/logshow-default-race.log")  # doctest: +SKIP
    >>> events.filter(pl.col("conn_id") == "C8.1.2").collect()  # doctest: +SKIP
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    entry = cached(list(paths), keep_other=keep_other, cache=cache, max_bytes=max_cache_bytes)
    return entry.scan("events")


def cached(
    paths: list[str | Path],
    *,
    keep_other: bool = False,
    cache: Path | str | None = None,
    max_bytes: int = MAX_CACHE_BYTES,
) -> Entry:
    """The cache's entry for ``paths``, parsed into it first where it has none."""
    folder = cache_folder(cache)
    key = _key(paths, keep_other=keep_other)
    entry = Entry(folder / key)
    if entry.folder.is_dir():
        os.utime(entry.folder)  # read now: the last to go
        return entry
    folder.mkdir(parents=True, exist_ok=True)
    # Named by this process, so that the next read removes the build of one that was killed.
    build = scratch.folder("build", within=folder, hidden=True)
    try:
        export(paths, build, keep_other=keep_other)
        with contextlib.suppress(OSError):  # another process put the same entry first
            build.rename(entry.folder)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    _evict(folder, max_bytes, keep=entry.folder)
    return entry


def clear(cache: Path | str | None = None) -> tuple[int, int]:
    """Empty the cache: how many entries and bytes it held."""
    entries = _entries(cache_folder(cache))
    held = sum(entry.bytes for entry in entries)
    for entry in entries:
        shutil.rmtree(entry.folder, ignore_errors=True)
    return len(entries), held


def cache_contents(cache: Path | str | None = None) -> tuple[int, int]:
    """How many entries and bytes the cache holds."""
    entries = _entries(cache_folder(cache))
    return len(entries), sum(entry.bytes for entry in entries)


def connections(events: Frame) -> pl.LazyFrame:
    """The connections table (:func:`logflow.analysis.tree.connections`) of an events table;
    of :func:`read`'s, the one its parse built."""
    entry = _entry_of(events)
    return entry.scan("connections") if entry else tree.connections(events.lazy())


def races(connections: Frame) -> pl.LazyFrame:
    """The races (:func:`logflow.analysis.diagnose.races`) of a connections table."""
    entry = _entry_of(connections)
    return entry.scan("races") if entry else diagnose.races(connections.lazy())


def proxy_failures(events: Frame, connections: Frame) -> pl.LazyFrame:
    """The proxy failures (:func:`logflow.analysis.diagnose.proxy_failures`)."""
    entry = _entry_of(events)
    if entry:
        return entry.scan("proxy_failures")
    return diagnose.proxy_failures(events.lazy(), connections.lazy())


def path_changes(events: Frame) -> pl.LazyFrame:
    """The path changes (:func:`logflow.analysis.diagnose.path_changes`)."""
    entry = _entry_of(events)
    return entry.scan("path_changes") if entry else diagnose.path_changes(events.lazy())


def listeners(events: Frame) -> pl.LazyFrame:
    """The listeners (:func:`logflow.analysis.diagnose.listeners`)."""
    entry = _entry_of(events)
    return entry.scan("listeners") if entry else diagnose.listeners(events.lazy())


# The frames handed out from cache entries, by id, with the entry each came from: a
# LazyFrame cannot be hashed or weakly referenced, so each is kept (a plan, no data) until
# many newer ones push it out.
_HANDED_OUT: OrderedDict[int, tuple[pl.LazyFrame, Entry]] = OrderedDict()
REMEMBERED = 256


def _remembered(frame: pl.LazyFrame, entry: Entry) -> pl.LazyFrame:
    _HANDED_OUT[id(frame)] = (frame, entry)
    while len(_HANDED_OUT) > REMEMBERED:
        _HANDED_OUT.popitem(last=False)
    return frame


def _entry_of(frame: Frame) -> Entry | None:
    """The cache entry ``frame`` scans as it was handed out (not filtered or changed)."""
    handed = _HANDED_OUT.get(id(frame))
    return handed[1] if handed is not None and handed[0] is frame else None


def _key(paths: list[str | Path], *, keep_other: bool) -> str:
    """What names a parse: the files it reads (path, size, modification time), logflow's
    version and the options. Standard input is never the same twice."""
    files = input_files(paths)
    if files is None:
        return f"stdin-{uuid.uuid4().hex}"
    stats = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    said = json.dumps([ENTRY_VERSION, version(), keep_other, stats])
    return hashlib.sha256(said.encode()).hexdigest()[:32]


def _entries(folder: Path) -> list[Entry]:
    """The cache's entries, the least recently read first."""
    if not folder.is_dir():
        return []
    entries = [Entry(p) for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(entries, key=lambda entry: entry.folder.stat().st_mtime)


def _evict(folder: Path, max_bytes: int, *, keep: Path) -> None:
    """Remove the least recently read entries until the cache is within ``max_bytes`` (never
    ``keep``)."""
    entries = _entries(folder)
    held = sum(entry.bytes for entry in entries)
    for entry in entries:
        if held <= max_bytes:
            break
        if entry.folder != keep:
            held -= entry.bytes
            shutil.rmtree(entry.folder, ignore_errors=True)
