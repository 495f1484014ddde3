"""First stage: turn the paths a user names into blocks of numbered text lines, or say why not.

Accepts files, folders (their log files, recursively), ``-`` for standard input and gzip'd
files. Text is UTF-8 (a byte-order mark is dropped) or, with its byte-order mark, UTF-16;
undecodable bytes become U+FFFD and are counted, never fatal. Inputs that cannot be a text
export (binary files, ``.logarchive`` bundles, ``.tracev3`` files, empty files) raise
:class:`~logflow.errors.InputError` with what to do instead; met inside a folder, they are
skipped and reported.

Files are read a block at a time (:data:`BLOCK_BYTES`), so that a file of any size is never
in memory whole (:func:`logflow.reading.records.record_chunks` cuts the blocks again where records
start; only a paste of bare messages, with no envelope or metadata line anywhere, offers no
place to cut and is read whole).
"""

from __future__ import annotations

import codecs
import gzip
import threading
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import AnyStr, BinaryIO

import polars as pl

from logflow.errors import InputError
from logflow.reading import stdin

LOG_SUFFIXES = (".log", ".txt", ".ndjson", ".jsonl", ".json", ".tsv", ".text", ".csv")
ARCHIVE_SUFFIXES = (".logarchive", ".tracev3")
STDIN = "-"
# The file every folder logflow writes holds: such a folder (its CSV and NDJSON tables, its
# report) is logflow's output, never read back as logs.
OUTPUT_MARKER = ".logflow-output"
EXPORT_HINT = (
    "on a Mac, log show --archive {path} --info --debug --style ndjson > {stem}.ndjson; "
    "anywhere, macos-UnifiedLogs' unifiedlog_iterator --mode log-archive -i {path} "
    "-o {stem}.jsonl"
)

# The longest line logflow parses. os_log truncates messages far below this, so a longer line
# is a paste gone wrong; it is reported unparsed rather than fed to the patterns.
MAX_LINE_CHARS = 1 << 20
# How much of a file is decoded at once: about 30,000 lines of `log show`. Larger blocks are a
# little faster and take more memory: two are parsed at once on two cores.
BLOCK_BYTES = 8 << 20
# Where to look for NUL bytes, the sign of a binary file.
BINARY_PROBE_BYTES = 65536


@dataclass(frozen=True)
class Text:
    """One input's decoded text, already in memory."""

    source: str
    text: str
    decode_errors: int


@dataclass(frozen=True)
class Skipped:
    """A file inside a folder that was not read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Block:
    """Consecutive whole lines of one input."""

    source: str
    first_line: int
    """The 1-based number of its first line in the input."""
    lines: pl.Series
    """The lines' text, without their line ends."""
    decode_errors: int = 0
    last: bool = True
    """True for the last block of its input."""

    def frame(self) -> pl.DataFrame:
        """One row per line: ``source``, ``line_no`` and ``text``."""
        return pl.DataFrame({"text": self.lines}).select(
            pl.lit(self.source).alias("source"),
            pl.int_range(self.first_line, self.first_line + pl.len(), dtype=pl.Int64).alias(
                "line_no"
            ),
            "text",
        )

    def split(self, at: int) -> tuple[Block, Block]:
        """The lines before index ``at`` (a block that is not the last) and those after."""
        head = Block(self.source, self.first_line, self.lines[:at], self.decode_errors, False)
        tail = Block(self.source, self.first_line + at, self.lines[at:], 0, self.last)
        return head, tail

    def then(self, other: Block) -> Block:
        """This block and the next one of the same input, as one."""
        return Block(
            self.source,
            self.first_line,
            self.lines.append(other.lines),
            self.decode_errors + other.decode_errors,
            other.last,
        )


@dataclass
class Inputs:
    """The inputs named by the user's paths, read block by block."""

    paths: list[Path | str]
    skipped: list[Skipped] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    """The inputs read, in order, as they are met."""
    block_bytes: int = BLOCK_BYTES
    read: set[Path] = field(default_factory=set)
    """The files read so far, resolved: a file named twice (or in a folder named too) is read
    once."""
    _finished_bytes: int = 0
    _reader: _BlockReader | None = None
    _total: tuple[int | None] | None = None

    def blocks(self) -> Iterator[Block]:
        """Every input's lines, a block at a time, inputs in the order named."""
        if not self.paths:
            msg = "no input given"
            raise InputError(msg)
        for raw in self.paths:
            if str(raw) == STDIN:
                yield from self._blocks_of(STDIN, in_folder=False)
            elif Path(raw).is_dir() and not _is_archive(Path(raw)):
                folder, read_any = Path(raw), False
                if (folder / OUTPUT_MARKER).exists():
                    msg = f"{folder}: a folder logflow wrote ({OUTPUT_MARKER} says so), not logs"
                    raise InputError(msg)
                for path in self._folder_files(folder):
                    read_any |= yield from self._blocks_of(path, in_folder=True)
                if not read_any:
                    raise InputError(self._no_log_files(folder))
            else:
                yield from self._blocks_of(Path(raw), in_folder=False)

    def _blocks_of(self, path: Path | str, *, in_folder: bool) -> Generator[Block, None, bool]:
        """The blocks of one input; True if it was read, False if it was skipped."""
        source = "<stdin>" if path == STDIN else str(path)
        if path != STDIN:
            resolved = Path(path).resolve()
            if resolved in self.read:
                self.skipped.append(Skipped(source, "named more than once: read once"))
                return True
            self.read.add(resolved)
        first_line = 1
        try:
            stream = _open(path)
            try:
                self._reader = _BlockReader(stream, source, self.block_bytes)
                for text, decode_errors, last in _decoded(self._reader):
                    lines = _split_lines(text)
                    if first_line == 1:
                        self.sources.append(source)
                    yield Block(source, first_line, lines, decode_errors, last)
                    first_line += lines.len()
            finally:
                self._finished_bytes += self._reader.position() if self._reader else 0
                self._reader = None
                if path != STDIN:  # standard input stays open for whoever reads it next
                    stream.close()
        except _Unreadable as err:
            # A folder's file that is not a log is skipped, unless some of it was read already.
            if not in_folder or first_line > 1:
                raise InputError(str(err)) from None
            self.skipped.append(Skipped(str(path), err.reason))
            return False
        return True

    def _folder_files(self, folder: Path) -> list[Path]:
        files, archives, outputs = _folder_contents(folder)
        notes = [Skipped(str(a), _archive_message(a)) for a in archives] + [
            Skipped(str(output), "logflow's own output, not logs") for output in outputs
        ]
        for note in notes:
            if note not in self.skipped:  # a folder named twice
                self.skipped.append(note)
        if not files:
            raise InputError(self._no_log_files(folder))
        return files

    def position(self) -> tuple[int, int | None]:
        """How far the reading is: bytes read of the inputs as stored, and of how many
        (:meth:`total_bytes`, worked out once)."""
        if self._total is None:
            self._total = (self.total_bytes(),)
        return self.bytes_read(), self._total[0]

    def total_bytes(self) -> int | None:
        """The size of every file to read, as stored (gzip'd or not); None when standard
        input is among them, whose size no one knows."""
        files = input_files(self.paths)
        return None if files is None else sum(f.stat().st_size for f in files)

    def bytes_read(self) -> int:
        """How much of the inputs was read so far, as stored: what :meth:`total_bytes`
        counts."""
        current = self._reader.position() if self._reader is not None else 0
        return self._finished_bytes + current

    def _no_log_files(self, folder: Path) -> str:
        found = f"; {self.skipped[0].path}: {self.skipped[0].reason}" if self.skipped else ""
        return f"{folder}: folder holds no log files ({', '.join(LOG_SUFFIXES)}, or .gz){found}"


def input_files(paths: Iterable[Path | str]) -> list[Path] | None:
    """The files that reading ``paths`` opens (a folder's log files among them, in order),
    or None when standard input is among them."""
    files = []
    for raw in paths:
        if str(raw) == STDIN:
            return None
        path = Path(raw)
        found = _folder_contents(path)[0] if path.is_dir() else [path]
        files.extend(f for f in found if f.is_file())
    return files


def text_blocks(texts: Iterable[Text]) -> Iterator[Block]:
    """Blocks of texts already in memory, one per text."""
    for text in texts:
        yield Block(text.source, 1, _split_lines(text.text), text.decode_errors, True)


class _Unreadable(Exception):
    """An input that is not a text export; ``reason`` says what it is instead."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.reason = reason


def _split_lines(text: str) -> pl.Series:
    """The lines of ``text``: split at LF, a CR before it dropped; no line after a final LF."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the line end of the last line does not start another line
    series = pl.Series("text", lines, pl.String)
    return series.str.strip_suffix("\r") if "\r" in text else series


def _open(path: Path | str) -> BinaryIO:
    if path == STDIN:
        return stdin.standard_input()
    assert isinstance(path, Path)
    if _is_archive(path):
        raise _Unreadable(str(path), _archive_message(path))
    if not path.exists():
        raise _Unreadable(str(path), "no such file or folder")
    try:
        return path.open("rb")
    except OSError as exc:
        raise _Unreadable(str(path), f"cannot read: {exc.strerror}") from None


def _decoded(raw: _BlockReader) -> Iterator[tuple[str, int, bool]]:
    """The text of a stream in blocks that end at a line end: (text, bad bytes, last)."""
    source = raw.source
    first = raw.read()
    utf16 = first[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    if not utf16 and b"\x00" in first[:BINARY_PROBE_BYTES]:
        reason = (
            "binary data, not a text log; logflow reads the text that "
            "`log show` or `log stream` print (any --style)"
        )
        raise _Unreadable(source, reason)
    if raw.done and not first.decode("utf-16" if utf16 else "utf-8", errors="replace").strip():
        raise _Unreadable(source, "empty file, nothing to read")
    if utf16:
        # A UTF-16 line end is two bytes: decode first, then cut the text.
        decoder = _CountingDecoder("utf-16")
        texts = ((decoder.decode(data, final=last), last) for data, last in raw.pieces(first))
        for text, last in _whole_lines(texts):
            yield text, decoder.take_errors(), last
    else:
        # A UTF-8 line end is one byte: cut the bytes, then decode each block once.
        decoder = _CountingDecoder("utf-8-sig")
        for data, last in _whole_lines(raw.pieces(first)):
            yield decoder.decode(data, final=last), decoder.take_errors(), last


def _whole_lines(pieces: Iterator[tuple[AnyStr, bool]]) -> Iterator[tuple[AnyStr, bool]]:
    """The pieces of a stream (bytes or text) cut again to end at a line end: (piece, last).

    Old Mac line ends: a stream whose first line end is a CR not followed by LF ends each
    line with CR.
    """
    pending = None
    cr_only = None
    for piece, last in pieces:
        lf, cr = ("\n", "\r") if isinstance(piece, str) else (b"\n", b"\r")
        if pending:
            piece = pending + piece
        if cr_only is None and (lf in piece or cr in piece.rstrip(cr)):
            cr_only = lf not in piece
        if cr_only:
            piece = piece.replace(cr, lf)
        if last:
            yield piece, True
            return
        cut = piece.rfind(lf) + 1
        pending = piece[cut:]
        if cut:
            yield piece[:cut], False


class _BlockReader:
    """Reads a file, gunzipping it if it is gzip'd, one block at a time."""

    def __init__(self, stream: BinaryIO, source: str, block_bytes: int) -> None:
        self.source = source
        self.block_bytes = block_bytes
        self.done = False
        self.raw = stream
        self.consumed = 0
        magic = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
        self.stream: BinaryIO = gzip.GzipFile(fileobj=stream) if magic == b"\x1f\x8b" else stream

    def pieces(self, first: bytes) -> Iterator[tuple[bytes, bool]]:
        """``first`` (already read), then every next block: (data, last)."""
        yield first, self.done
        while not self.done:
            data = self.read()
            yield data, self.done

    def read(self) -> bytes:
        try:
            data = self.stream.read(self.block_bytes)
        except (OSError, EOFError, zlib.error) as exc:
            if not isinstance(self.stream, gzip.GzipFile):
                raise _Unreadable(self.source, f"cannot read: {exc}") from None
            raise _Unreadable(self.source, f"damaged gzip file ({exc})") from None
        self.done = len(data) < self.block_bytes
        self.consumed += len(data)
        return data

    def position(self) -> int:
        """The bytes read of the stream as stored; of a pipe, the bytes read of it."""
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return self.consumed


class _CountingDecoder:
    """An incremental decoder that replaces undecodable bytes with U+FFFD and counts them."""

    ERRORS = "logflow.count"
    # The error handler is global; on each thread, the decoder decoding now counts.
    decoding = threading.local()

    def __init__(self, encoding: str) -> None:
        self.errors = 0
        codecs.register_error(self.ERRORS, _count_replaced)
        self.decoder = codecs.getincrementaldecoder(encoding)(errors=self.ERRORS)

    def decode(self, data: bytes, *, final: bool) -> str:
        _CountingDecoder.decoding.now = self
        try:
            return self.decoder.decode(data, final=final)
        finally:
            _CountingDecoder.decoding.now = None

    def take_errors(self) -> int:
        errors, self.errors = self.errors, 0
        return errors


def _count_replaced(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    _CountingDecoder.decoding.now.errors += error.end - error.start
    return "\ufffd", error.end


def _folder_contents(folder: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """A folder's log files, the unified-log archives in it, and the folders in it that
    logflow wrote, in name order; what is hidden (a name starting with a dot, at any depth)
    is none of them."""
    files, archives = [], []
    outputs = sorted(marker.parent for marker in folder.rglob(OUTPUT_MARKER))
    for path in sorted(folder.rglob("*")):
        inside = path.relative_to(folder).parts
        if any(part.startswith(".") for part in inside) or not path.is_file():
            continue
        if any(output in path.parents for output in outputs):
            continue
        if any(Path(part).suffix in ARCHIVE_SUFFIXES for part in inside):
            archive = folder.joinpath(*inside[: _archive_depth(inside) + 1])
            if archive not in archives:
                archives.append(archive)
            continue
        if path.name.lower().removesuffix(".gz").endswith(LOG_SUFFIXES):
            files.append(path)
    return files, archives, outputs


def _archive_depth(parts: tuple[str, ...]) -> int:
    return next(i for i, part in enumerate(parts) if Path(part).suffix in ARCHIVE_SUFFIXES)


def _is_archive(path: Path) -> bool:
    return path.suffix in ARCHIVE_SUFFIXES


def _archive_message(path: Path) -> str:
    hint = EXPORT_HINT.format(path=path, stem=path.stem or "export")
    return f"a binary unified-log archive; export it as text first: {hint}"
