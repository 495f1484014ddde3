"""Properties of a parse that hold for any text: none raises, every line is in one record, and
the results depend on nothing but the text (issue 14).

The texts are pastes built from real lines (runs of a sample's lines, single lines cut or with
junk spliced in) and junk, controls and all. What ``parse`` judges from a file's first block
is left alone where a file is read in blocks of several sizes: its emptiness (a text that is
only whitespace is not tried).
"""

from __future__ import annotations

import codecs
import gzip
import itertools
import re
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from logflow.errors import LogflowError
from logflow.pipeline import TABLE_NAMES, Parsed, parse, parse_texts
from logflow.reading.inputs import WINDOW_BYTES, Text

from conftest import sample_files

# Each sample's lines, and every distinct line of them (short ones first: hypothesis shrinks
# towards the first).
SAMPLE_LINES = [path.read_text(encoding="utf-8").splitlines() for path in sample_files()]
REAL_LINES = sorted({line for lines in SAMPLE_LINES for line in lines}, key=lambda s: (len(s), s))
# Junk: the grammars' punctuation, digits, letters of ids, other scripts and a line separator
# that is no line end. CLEAN is what reads back the same from a file in any encoding; DAMAGED
# adds controls (replaced and counted), the replacement character and a byte-order mark
# inside the text; ANY a CR inside a line too.
CLEAN = "[]():;.,#<->@/|\"'`{}=*+ \t_-0123456789abcdefxCLTnw" + "é错٣🙂\u2028"
DAMAGED = CLEAN + "\x00\x01\x08\x1b\x7f\x0b\x0c\ufffd\ufeff"
ANY = DAMAGED + "\r"
# A file is read in 2 to 6 blocks of 64 bytes to 4 KB: each chunk of whole records takes a
# sixth of a second to parse, however small.
BLOCKS = st.integers(2, 6)
SMALLEST_BLOCK, LARGEST_BLOCK = 64, 4096
# Encodings a file can be written in, each read back to the same lines.
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "crlf", "cr", "gzip")


def junk(alphabet: str) -> st.SearchStrategy[str]:
    return st.text(alphabet, max_size=30)


def pieces(alphabet: str) -> st.SearchStrategy[list[str]]:
    """A few lines: a run of a sample's lines (records of several lines among them), or one
    line that is real, cut, spliced with junk, or junk."""
    real = st.sampled_from(REAL_LINES)
    run = st.tuples(st.sampled_from(SAMPLE_LINES), st.integers(0, 10_000), st.integers(1, 12)).map(
        lambda r: r[0][r[1] % len(r[0]) :][: r[2]]
    )
    cut = st.tuples(real, st.integers(0, 300), st.integers(0, 300)).map(
        lambda c: c[0][min(c[1], c[2]) : max(c[1], c[2])]
    )
    spliced = st.tuples(real, st.integers(0, 300), junk(alphabet), st.integers(0, 300)).map(
        lambda s: s[0][: s[1]] + s[2] + s[0][s[3] :]
    )
    return st.one_of(run, st.lists(st.one_of(real, cut, spliced, junk(alphabet)), max_size=3))


@st.composite
def pastes(draw: st.DrawFn, alphabet: str) -> str:
    """A text of lines built from :func:`pieces`, with a line end after the last or not."""
    lines = list(
        itertools.chain.from_iterable(draw(st.lists(pieces(alphabet), min_size=1, max_size=12)))
    )
    end = draw(st.sampled_from(["\n", ""])) if lines else ""
    return "\n".join(lines) + end


def physical_lines(text: str, *, in_a_file: bool = True) -> int:
    """The lines of a text: each ended by LF, no line after a final one; in a file, by CR too
    where its first line end is a CR not followed by LF (old Mac line ends)."""
    first_end = re.search("\r\n|\r|\n", text)
    if in_a_file and first_end and first_end.group() == "\r":
        text = text.replace("\r", "\n")
    lines = text.split("\n")
    return len(lines) - (lines[-1] == "")


def in_blocks(text: str, blocks: int) -> tuple[str, int]:
    """``text`` (repeated, with a line end between, where it is too short to cut) and the
    ``block_bytes`` that read it in about ``blocks`` blocks."""
    size = len(text.encode())
    if size < blocks * SMALLEST_BLOCK:
        text = text if text.endswith("\n") else text + "\n"
        text *= blocks * SMALLEST_BLOCK // len(text.encode()) + 1
        size = len(text.encode())
    return text, min(LARGEST_BLOCK, max(SMALLEST_BLOCK, -(-size // blocks)))


def assert_every_line_in_one_record(parsed: Parsed, lines: int) -> None:
    """The records cover lines 1 to ``lines``, each once, in order; and the kinds counted
    are the records' kinds."""
    records = parsed.records
    assert parsed.lines_read == lines
    assert records["n_lines"].sum() == lines
    starts = records["line_no"]
    if records.height:
        assert starts[0] == 1
        assert (starts + records["n_lines"]).head(-1).to_list() == starts.tail(-1).to_list()
    assert parsed.kind_counts == dict(records.group_by("kind").len().iter_rows())


def tables(parsed: Parsed, *, drop_source: bool = False) -> dict[str, pl.DataFrame]:
    """Everything a parse holds, as frames: the records, the events, every table."""
    frames = {
        "records": parsed.records,
        "events": parsed.events(keep_other=True).collect(),
        "process_events": parsed.process_events,
        "unparsed_examples": parsed.unparsed_examples,
        "unknown_envelope_examples": parsed.unknown_envelope_examples,
        **{name: parsed.table(name).collect() for name in TABLE_NAMES},
    }
    if drop_source:
        frames = {name: frame.drop("source", strict=False) for name, frame in frames.items()}
    return frames


def assert_same(one: Parsed, other: Parsed, *, drop_source: bool = False) -> None:
    def counts(parsed: Parsed) -> tuple:
        cut_short = [(cut.line, cut.byte, cut.reason) for cut in parsed.cut_short]
        return (
            parsed.lines_read,
            parsed.kind_counts,
            parsed.decode_errors,
            parsed.control_chars,
            parsed.records_cut,
            cut_short,
        )

    assert counts(one) == counts(other)
    expected = tables(other, drop_source=drop_source)
    for name, frame in tables(one, drop_source=drop_source).items():
        try:
            assert_frame_equal(frame, expected[name])
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None


def outcome(path: Path, **options) -> Parsed | str:
    """The parse of a file, or the error it raised."""
    try:
        return parse(path, **options)
    except LogflowError as exc:
        return f"{type(exc).__name__}: {exc}"


_files = itertools.count()


def new_file(folder: Path, name: str = "paste.log") -> Path:
    """A path in a folder of its own (hypothesis runs many examples in one tmp_path)."""
    path = folder / f"example-{next(_files)}" / name
    path.parent.mkdir()
    return path


@settings(deadline=None, max_examples=15)
@given(text=pastes(ANY))
def test_any_paste_parses_with_every_line_in_one_record_and_the_same_twice(text: str) -> None:
    """parse_texts raises nothing on a paste, however damaged; its records cover every line
    once; and a second parse of the same text gives the same records, events and tables."""
    first = parse_texts([Text("paste.log", text, 0)])
    assert_every_line_in_one_record(first, physical_lines(text, in_a_file=False))
    assert_same(parse_texts([Text("paste.log", text, 0)]), first)


@settings(
    deadline=None, max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=pastes(ANY),
    blocks=BLOCKS,
    workers=st.sampled_from([1, 2]),
    spill_rows=st.sampled_from([1 << 30, 3]),
)
def test_a_file_in_blocks_on_threads_parses_as_in_one_pass(
    tmp_path: Path, text: str, blocks: int, workers: int, spill_rows: int
) -> None:
    """A paste, damaged, read in blocks of 64 bytes to 4 KB, on one or two threads, its trees
    spilled or not: the same outcome as one block on one thread (the same records, events and
    tables, or the same error), every line in one record."""
    text, block_bytes = in_blocks(text, blocks)
    assume(text.strip())  # emptiness is judged from the first block
    path = new_file(tmp_path)
    path.write_text(text, encoding="utf-8")
    whole = outcome(path, block_bytes=1 << 30, workers=1)
    chunked = outcome(path, block_bytes=block_bytes, workers=workers, spill_rows=spill_rows)
    if isinstance(whole, str) or isinstance(chunked, str):
        assert chunked == whole
        return
    assert_same(chunked, whole)
    cut_short = whole.cut_short  # binary data in a later window
    lines = cut_short[0].line - 1 if cut_short else physical_lines(text)
    if _nuls_say_utf16(text.encode()):
        lines = whole.lines_read  # read as UTF-16: its lines are other lines
    assert_every_line_in_one_record(whole, lines)


@settings(
    deadline=None, max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=pastes(CLEAN),
    encoding=st.sampled_from(ENCODINGS),
    blocks=BLOCKS,
    workers=st.sampled_from([1, 2]),
)
def test_a_file_in_any_encoding_parses_as_its_text(
    tmp_path: Path, text: str, encoding: str, blocks: int, workers: int
) -> None:
    """A paste written in UTF-8 (with a byte-order mark or not), UTF-16 (with one, or little-
    or big-endian without), with CRLF or old Mac CR line ends, or gzip'd, read in blocks of 64
    bytes to 4 KB: the same records, events and tables as its text in memory."""
    text, block_bytes = in_blocks(text, blocks)
    assume(text.strip())
    data = encoded(text, encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        # Without a byte-order mark, UTF-16 is told by its NULs: a text mostly of characters
        # past U+00FF has too few to tell.
        assume(_nuls_say_utf16(data))
    path = new_file(tmp_path)
    path.write_bytes(data)
    from_file = parse(path, block_bytes=block_bytes, workers=workers)
    in_memory = parse_texts([Text(str(path), text, 0)])
    assert_same(from_file, in_memory, drop_source=True)
    assert_every_line_in_one_record(from_file, physical_lines(text))


def encoded(text: str, encoding: str) -> bytes:
    if encoding == "crlf":
        return text.replace("\n", "\r\n").encode()
    if encoding == "cr":
        return text.replace("\n", "\r").encode()
    if encoding == "gzip":
        return gzip.compress(text.encode(), mtime=0)
    return text.encode(encoding)


def _nuls_say_utf16(data: bytes) -> bool:
    """Whether the reader reads bytes without a byte-order mark as UTF-16, as inputs.py tells
    it: half the bytes of one parity of the first 64 KiB NUL, hardly any of the other."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return True
    window = data[:WINDOW_BYTES]
    pairs = len(window) // 2
    even, odd = window[0 : 2 * pairs : 2].count(0), window[1 : 2 * pairs : 2].count(0)
    return bool(pairs) and (
        (odd >= pairs / 2 and even <= pairs / 20) or (even >= pairs / 2 and odd <= pairs / 20)
    )
