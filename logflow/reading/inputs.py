"""First stage: turn the paths a user names into blocks of numbered text lines, or say why not.

Accepts files, folders (their log files, recursively), ``-`` for standard input and gzip'd
files. Text is UTF-8 (a byte-order mark is dropped) or UTF-16, told by its byte-order mark or,
without one, by where the NULs fall in the first 64 KiB. Undecodable bytes become U+FFFD and
are counted, never fatal; so do control bytes (NUL and the other C0 controls, and DEL; not
TAB, LF, CR, VT, FF or ESC: see :data:`CONTROL_BYTES`). Every line is still read, and keeps
its number.

Binary or text is judged a window of 64 KiB (:data:`WINDOW_BYTES`) at a time: a window is
binary when more than 30% of its bytes (:data:`BINARY_SHARE`) cannot be text, that is are
control bytes or do not decode as UTF-8 (in UTF-16, characters that are controls or do not
decode). A file that turns binary after a text start of at least one whole line (a log with a
core dump appended) is read up to the first byte that cannot be text in its first binary
window, cut back to a line end, and no further; :attr:`Inputs.cut_short` says where (for a
gzip'd file, the byte offset is in the unzipped text). A file binary from its first line is
refused.

A line longer than :data:`MAX_RECORD_BYTES` (``max_record_bytes``) is cut while it is read:
its first bytes are kept (one more than the bound, for
:func:`logflow.reading.records.group_records` to see it is too long, cut it and count it), the
rest is skipped to its line end, so a line of any length takes bounded memory.

Inputs that cannot be a text export (binary files, ``.logarchive`` bundles, ``.tracev3``
files, empty files) raise :class:`~logflow.errors.InputError` with what to do instead; met
inside a folder, they are skipped and reported.

Files are read a block at a time (:data:`BLOCK_BYTES`), so that a file of any size is never
in memory whole (:func:`logflow.reading.records.record_chunks` cuts the blocks again where records
start; only a paste of bare messages, with no envelope or metadata line anywhere, offers no
place to cut and is read whole).
"""

from __future__ import annotations

import codecs
import gzip
import re
import threading
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
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

# The longest record logflow keeps, in bytes of UTF-8 text: os_log truncates messages far
# below this, so a longer line (or multi-line record) is a paste gone wrong. A longer line is
# cut while it is read (memory stays bounded however long it is), a longer record when its
# lines are grouped (records.py); either is reported unparsed, and counted.
MAX_RECORD_BYTES = 1 << 20
# How much of a file is decoded at once: about 45,000 lines of `log show`. Each block costs
# about 0.1 CPU-second whatever its size, and takes 13 to 15 times its size in memory while
# it is parsed, on each worker. (1M lines on two cores: 12 MB blocks took 8% less time than
# 8 MB ones, peak RSS 0.9 GiB, not 0.73; 16 MB ones 10% less, 1.02 GiB.)
BLOCK_BYTES = 12 << 20
# A file is judged text or binary a window at a time: binary where more than BINARY_SHARE of
# a window's bytes cannot be text.
WINDOW_BYTES = 65536
BINARY_SHARE = 0.3
# Bytes that cannot be text: the C0 controls and DEL, but for TAB, LF and CR, and for VT, FF
# and ESC. Those three are kept as they are: VT and FF are whitespace that editors and `pr`
# leave in text files (page breaks), and ESC begins the ANSI colour sequences that a terminal
# copy of `log stream --color always` holds; replacing them would damage text and find no
# binary file that its NULs and other controls do not already show.
CONTROL_BYTES = bytes((*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F))
_ASCII_TEXT = bytes(byte for byte in range(0x80) if byte not in CONTROL_BYTES)
_CONTROL_IN_BYTES = re.compile(b"[" + re.escape(CONTROL_BYTES) + b"]")
_CONTROL_IN_TEXT = re.compile(f"[{re.escape(CONTROL_BYTES.decode('ascii'))}]")
REPLACEMENT = "\ufffd"
BINARY_REASON = (
    f"binary data, not a text log (more than {BINARY_SHARE:.0%} of the bytes of its first "
    f"{WINDOW_BYTES // 1024} KiB are control bytes or not UTF-8); logflow reads the text that "
    "`log show` or `log stream` print (any --style)"
)
BINARY_REST = "binary data from there on, not read"


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
class CutShort:
    """An input read only up to ``line``, the first line not read, which starts at ``byte``
    of the input (of its unzipped text, for a gzip'd file); ``reason`` says why."""

    path: str
    line: int
    byte: int
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
    control_chars: int = 0
    """Control characters in the text (NUL and the like) replaced with U+FFFD."""
    max_record_bytes: int = MAX_RECORD_BYTES
    """The longest record kept: a longer line was cut just past it as it was read, and
    records.py cuts records at it."""

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
        head = replace(self, lines=self.lines[:at], last=False)
        tail = replace(
            self,
            first_line=self.first_line + at,
            lines=self.lines[at:],
            decode_errors=0,
            control_chars=0,
        )
        return head, tail

    def then(self, other: Block) -> Block:
        """This block and the next one of the same input, as one."""
        return Block(
            self.source,
            self.first_line,
            self.lines.append(other.lines),
            self.decode_errors + other.decode_errors,
            other.last,
            self.control_chars + other.control_chars,
            self.max_record_bytes,
        )


@dataclass
class Inputs:
    """The inputs named by the user's paths, read block by block."""

    paths: list[Path | str]
    skipped: list[Skipped] = field(default_factory=list)
    cut_short: list[CutShort] = field(default_factory=list)
    """The inputs read only in part (binary data after a text start), and where they stop."""
    sources: list[str] = field(default_factory=list)
    """The inputs read, in order, as they are met."""
    block_bytes: int = BLOCK_BYTES
    max_record_bytes: int = MAX_RECORD_BYTES
    """The longest line kept whole; a longer one is cut while read (:data:`MAX_RECORD_BYTES`)."""
    read: set[Path] = field(default_factory=set)
    """The files read so far, resolved: a file named twice (or in a folder named too) is read
    once."""
    _finished_bytes: int = 0
    _reader: _BlockReader | None = None
    _total: tuple[int | None] | None = None

    def __post_init__(self) -> None:
        if self.max_record_bytes < 1:
            msg = f"max_record_bytes must be at least 1, not {self.max_record_bytes}"
            raise ValueError(msg)

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
                decoding = _Decoding(self._reader, self.max_record_bytes)
                for lines, decode_errors, control_chars, last in decoding:
                    if first_line == 1:
                        self.sources.append(source)
                    yield Block(
                        source,
                        first_line,
                        lines,
                        decode_errors,
                        last,
                        control_chars=control_chars,
                        max_record_bytes=self.max_record_bytes,
                    )
                    first_line += lines.len()
                if decoding.unread_at is not None:
                    self.cut_short.append(
                        CutShort(source, first_line, decoding.unread_at, BINARY_REST)
                    )
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
    return _lines(pl.Series("text", [text], pl.String))


def _utf8_lines(data: bytes) -> pl.Series | None:
    """:func:`_split_lines` of UTF-8 bytes, which Polars decodes; None where they are not UTF-8.

    Nearly every block of a log is: decoded by Python, it took two and a half times as long,
    all of it holding the interpreter's lock, which the workers' Python needs too.
    """
    try:
        text = pl.Series("text", [data], pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:
        return None
    return _lines(text)


def _lines(text: pl.Series) -> pl.Series:
    """The lines of the one text in ``text``, as :func:`_split_lines` says."""
    lines = text.str.split("\n").explode()
    if lines[-1] == "":
        lines = lines.head(-1)  # the line end of the last line does not start another line
    # (Looking at the lines' ends is quicker than searching the whole text for a CR.)
    return lines.str.strip_suffix("\r") if lines.str.ends_with("\r").any() else lines


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


class _Decoding:
    """One input's lines in blocks that end at a line end: (lines, bad bytes, control
    characters, last).

    UTF-8 is judged and cut into blocks as bytes, then decoded a block at a time (its line end
    is one byte); UTF-16 is decoded first (its line end is two bytes), then judged and cut as
    text. Where the input turns binary after a text start, ``unread_at`` is the byte offset
    of the first line not read.
    """

    def __init__(self, raw: _BlockReader, max_record_bytes: int) -> None:
        self.raw = raw
        self.max_record_bytes = max_record_bytes
        self.unread_at: int | None = None
        self._controls = False
        """Whether any judged piece held a control byte: only then are blocks searched."""
        self._binary = False
        """Whether the judged pieces stop at a binary window."""

    def __iter__(self) -> Iterator[tuple[pl.Series, int, int, bool]]:
        raw = self.raw
        first = raw.read_at_least(WINDOW_BYTES)
        encoding, bom = _encoding(first)
        if raw.done and not first.decode(encoding, errors="replace").strip():
            raise _Unreadable(raw.source, "empty file, nothing to read")
        decoder = _CountingDecoder(encoding)
        if encoding == "utf-8-sig":
            judged = self._judged(raw.pieces(first), WINDOW_BYTES, raw.block_bytes)
            for number, (data, last) in enumerate(self._whole_lines(judged)):
                controls = 0
                # (Searched with a pattern only where one pass of translate finds some.)
                if self._controls and len(data.translate(None, CONTROL_BYTES)) < len(data):
                    # A control byte is never part of a UTF-8 character: replaced as bytes.
                    data, controls = _CONTROL_IN_BYTES.subn(REPLACEMENT.encode(), data)
                if number == 0:
                    # The decoder drops a byte-order mark at the start only: from here on, a
                    # block it decodes is one of many, and so is one decoded without it.
                    data = data.removeprefix(codecs.BOM_UTF8)
                    decoder = _CountingDecoder("utf-8")
                lines = _utf8_lines(data)
                if lines is None:  # bytes that are not UTF-8: replaced, and counted
                    lines = _split_lines(decoder.decode(data, final=last))
                yield lines, decoder.take_errors(), controls, last
        else:
            texts = ((decoder.decode(data, final=last), last) for data, last in raw.pieces(first))
            judged = self._judged(texts, WINDOW_BYTES // 2, max(raw.block_bytes // 2, 1))
            for text, last in self._whole_lines(judged, read=bom):
                controls = 0
                if self._controls:
                    text, controls = _CONTROL_IN_TEXT.subn(REPLACEMENT, text)
                yield _split_lines(text), decoder.take_errors(), controls, last

    def _judged(
        self, pieces: Iterable[tuple[AnyStr, bool]], window: int, size: int
    ) -> Iterator[tuple[AnyStr, bool]]:
        """The pieces of the stream up to its first binary window (``window`` bytes, or
        characters of UTF-16): a binary window ends the pieces at its first byte that cannot
        be text (and sets ``_binary``), but a first window that is binary before a whole line
        of text refuses the input.

        A window is passed on once it is judged whole: the end of a piece that is not one is
        held for the next. Pieces with no control byte and nothing undecodable, nearly all,
        are passed on as they are, in pieces of at most ``size`` (the first window is read
        whole, however small the blocks).
        """
        held = None
        start = 0
        for piece, last in pieces:
            if held:
                piece = held + piece
            end = len(piece) if last else len(piece) - len(piece) % window
            judged, held = piece[:end], piece[end:]
            controls, undecodable = _suspect(judged, final=last)
            self._controls |= controls
            if controls or undecodable:
                for at in range(0, end, window):
                    part = judged[at : at + window]
                    if _bad(part) <= BINARY_SHARE * len(part):
                        continue
                    text = judged[: at + _first_bad(part)]
                    if start + at == 0 and not _holds_a_line(text):
                        raise _Unreadable(self.raw.source, BINARY_REASON)
                    self._binary = True
                    yield from _sliced(text, size, last=True)
                    return
            start += end
            yield from _sliced(judged, size, last=last)

    def _whole_lines(
        self, pieces: Iterable[tuple[AnyStr, bool]], *, read: int = 0
    ) -> Iterator[tuple[AnyStr, bool]]:
        """The pieces of a stream (bytes or text) cut again to end at a line end: (piece, last).

        A line longer than ``max_record_bytes`` keeps its first ``max_record_bytes + 1`` bytes
        (characters of UTF-16), enough for records.py to see it is too long, and the rest of
        it is skipped: memory stays bounded however long the line. Where the pieces stop at
        binary data, the line they stop in is dropped, and ``unread_at`` is where it starts.
        ``read`` is the bytes before the first piece (a UTF-16 byte-order mark).

        Old Mac line ends: a stream whose first line end is a CR not followed by LF ends each
        line with CR.
        """
        limit = self.max_record_bytes
        pending = None
        head = None  # while skipping the rest of a line that is cut: its first bytes
        cr_only = None
        line_start = read  # where the line in `pending` (or `head`) starts in the stream
        for piece, last in pieces:
            lf, cr = ("\n", "\r") if isinstance(piece, str) else (b"\n", b"\r")
            read += _stream_bytes(piece)
            if pending:
                piece = pending + piece
            if cr_only is None:
                cr_only = _ends_lines_with_cr(piece, last=last)
            if cr_only:
                piece = piece.replace(cr, lf)
            if head is not None:
                end = piece.find(lf)
                if end < 0 and not last:
                    continue
                piece = head + piece[end:] if end >= 0 else head
                if end < 0 and self._binary:
                    piece = piece[:0]  # the input turns binary inside the line that is cut
                head = None
            if last:
                if self._binary:
                    cut = piece.rfind(lf) + 1
                    if cut:
                        line_start = read - _stream_bytes(piece[cut:])
                    self.unread_at = line_start
                    piece = piece[:cut]
                yield piece, True
                return
            cut = piece.rfind(lf) + 1
            if cut:
                line_start = read - _stream_bytes(piece[cut:])
            pending = piece[cut:]
            if len(pending) > limit:
                head, pending = _head(pending, limit + 1), None
            if cut:
                yield piece[:cut], False


def _ends_lines_with_cr(text: AnyStr, *, last: bool) -> bool | None:
    """Whether the first line end in ``text`` is a CR not followed by LF; None while that
    cannot be told yet (no line end, or a CR at the end of a piece that is not the last)."""
    lf, cr = ("\n", "\r") if isinstance(text, str) else (b"\n", b"\r")
    first_cr = text.find(cr)
    first_lf = text.find(lf)
    if first_cr < 0 or 0 <= first_lf < first_cr:
        return False if first_lf >= 0 else None
    after = text[first_cr + 1 : first_cr + 2]
    if not after:
        return True if last else None
    return after != lf


def _sliced(piece: AnyStr, size: int, *, last: bool) -> Iterator[tuple[AnyStr, bool]]:
    """``piece`` in pieces of at most ``size``: (piece, last); none of an empty piece but
    the last."""
    if len(piece) <= size:  # nearly always: passed on as it is
        if piece or last:
            yield piece, last
        return
    for at in range(0, len(piece), size):
        yield piece[at : at + size], last and at + size >= len(piece)


def _encoding(first: bytes) -> tuple[str, int]:
    """The encoding of a stream that starts with ``first``, and the bytes of its byte-order
    mark that the decoder drops.

    UTF-16 without a byte-order mark is told by where the NULs fall in the first window: a
    character below U+0100, as nearly all of a log's are, has a NUL high byte, the odd bytes
    in UTF-16LE and the even ones in UTF-16BE. So at least half of one and hardly any of the
    other (binary data has NULs in both).
    """
    if first[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16", 2
    pairs = min(len(first), WINDOW_BYTES) // 2
    if pairs:
        even, odd = first[0 : 2 * pairs : 2].count(0), first[1 : 2 * pairs : 2].count(0)
        if odd >= pairs / 2 and even <= pairs / 20:
            return "utf-16-le", 0
        if even >= pairs / 2 and odd <= pairs / 20:
            return "utf-16-be", 0
    return "utf-8-sig", 0


def _suspect(piece: bytes | str, *, final: bool) -> tuple[bool, bool]:
    """Whether a piece holds control bytes, and whether it holds bytes that are not UTF-8
    (of UTF-16, decoded: U+FFFD); a character cut at the piece's start, or at its end when
    not ``final``, is not one.

    One pass over the bytes: what is left of them without the ASCII text bytes (the control
    bytes and the non-ASCII ones, few in a log) is looked at. The non-ASCII bytes of UTF-8
    text are whole characters, so put together they decode too; bytes that do not decode in
    place nearly always do not decode put together either, and in a window of binary data the
    control bytes are never all missing.
    """
    if isinstance(piece, str):
        return _CONTROL_IN_TEXT.search(piece) is not None, REPLACEMENT in piece
    rest = piece.translate(None, _ASCII_TEXT)
    if not rest:
        return False, False
    high = rest.translate(None, CONTROL_BYTES)
    try:
        codecs.utf_8_decode(high[_char_start(high) :], "strict", final)
    except UnicodeDecodeError:
        return len(high) < len(rest), True
    return len(high) < len(rest), False


def _bad(window: bytes | str) -> int:
    """How many of a window's bytes (characters, of UTF-16) cannot be text."""
    if isinstance(window, str):
        return len(_CONTROL_IN_TEXT.findall(window)) + window.count(REPLACEMENT)
    controls = len(window) - len(window.translate(None, CONTROL_BYTES))
    if window.isascii():
        return controls
    start = _char_start(window)
    decoded = window[start:].decode("utf-8", errors="ignore")
    return controls + len(window) - start - len(decoded.encode())


def _holds_a_line(text: bytes | str) -> bool:
    """Whether ``text`` holds a whole line: a binary window after one is read up to there."""
    return any(end in text for end in (("\n", "\r") if isinstance(text, str) else (b"\n", b"\r")))


def _first_bad(window: bytes | str) -> int:
    """Where in a window the first byte (character) that cannot be text is."""
    if isinstance(window, str):
        found, replaced = _CONTROL_IN_TEXT.search(window), window.find(REPLACEMENT)
        first = found.start() if found else len(window)
        return first if replaced < 0 else min(first, replaced)
    found = _CONTROL_IN_BYTES.search(window)
    first = found.start() if found else len(window)
    start = _char_start(window)
    try:
        codecs.utf_8_decode(window[start:], "strict", True)
    except UnicodeDecodeError as exc:
        first = min(first, start + exc.start)
    return first


def _char_start(data: bytes) -> int:
    """Where the first character that starts in ``data`` starts: a window may begin inside
    one (up to three continuation bytes)."""
    start = 0
    while start < min(3, len(data)) and data[start] & 0xC0 == 0x80:
        start += 1
    return start


def _head(line: AnyStr, size: int) -> AnyStr:
    """The first ``size`` bytes of a line (characters, of text), to the end of the character
    the last of them is in."""
    if isinstance(line, bytes):
        while size < len(line) and line[size] & 0xC0 == 0x80:
            size += 1
    return line[:size]


def _stream_bytes(piece: bytes | str) -> int:
    """The bytes a piece takes in the stream: of UTF-16 text, two a code unit."""
    if isinstance(piece, bytes):
        return len(piece)
    return 2 * len(piece) if piece.isascii() else len(piece.encode("utf-16-le"))


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

    def read_at_least(self, size: int) -> bytes:
        """The next blocks, as many as make ``size`` bytes or reach the end."""
        data = [self.read()]
        got = len(data[0])
        while got < size and not self.done:
            data.append(self.read())
            got += len(data[-1])
        return b"".join(data)

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
