"""An atheris target: any bytes, read as a log file by ``logflow.parse``.

What it holds for every input (issue 14): no exception but a
:class:`~logflow.errors.LogflowError` escapes (an :class:`~logflow.errors.InputError` says a
binary, empty or damaged gzip file is not a log), and every physical line is accounted for:
the records cover lines 1 to ``lines_read`` once each, in order (a record may span several
lines), and ``lines_read`` is the number of lines of the decoded input, as
:mod:`logflow.reading.inputs` cuts them (at LF, a CR before it dropped; at CR alone in an old
Mac file; no line after a final line end), up to where an input turns binary. It also
collects the events and every table, so that the trees and diagnoses run on what was parsed.

The first byte of an input says how it is read (:class:`Options`): in one block or cut into up
to eight (the reader's and then records.py's cutting), gzip'd or not, repeated past 64 KiB or
not (the reader judges text or binary a 64 KiB window at a time), with records bounded at 256
bytes or not, on one thread or two; the rest is the file.

Run it from the repository's top::

    .venv/bin/python fuzz/parse_fuzz.py -max_total_time=60        # fuzz, seeded (below)
    .venv/bin/python fuzz/parse_fuzz.py fuzz/artifacts/crash-...   # run one input again

Without a corpus folder it uses ``fuzz/corpus/`` (ignored by git). An empty or missing
corpus folder is first seeded from ``sample_logs/`` and ``../shared/corpus`` (where present):
the first lines of each file, behind an options byte.
Crashes go to ``fuzz/artifacts/`` unless ``-artifact_prefix`` says otherwise.
``tests/test_fuzz.py`` runs it for a minute in CI.
"""

from __future__ import annotations

import codecs
import functools
import gzip
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["logflow"]):
    import logflow
    from logflow.errors import LogflowError
    from logflow.pipeline import TABLE_NAMES
    from logflow.reading.inputs import MAX_RECORD_BYTES, WINDOW_BYTES

ROOT = Path(__file__).resolve().parent.parent
SEED_FOLDERS = (ROOT / "sample_logs", ROOT.parent / "shared" / "corpus")
# The three header lines the project added to each corpus file: not the paste's own.
CORPUS_HEADER = re.compile(rb"# (source|style|era):")
# A CR with something but a line end after it: a line end of an old Mac file, or a CR in a line.
LONE_CR = re.compile(r"\r(?=[^\r\n])")
# A seed is a file's first lines, up to this many bytes: each input is parsed in full, with
# its trees, and parsing takes about a third of a second whatever the size below this.
SEED_BYTES = 4096
# The reader judges text or binary a window of 64 KiB at a time (inputs.WINDOW_BYTES): an
# input repeated past it reaches the judging of a later window.
REPEATED_BYTES = 100_000
# Into how many blocks an input is read (one: 1 MB blocks). Each chunk of whole records costs
# a sixth of a second to parse, however small: blocks of a fixed small size would make a
# repeated input thousands of chunks.
BLOCKS = (1, 2, 4, 8)
# The options of the seeds, in turn: in one block and in several, gzip'd, repeated, with
# small records, on two threads. Half are one block: a seed in eight blocks takes five times
# as long, and libFuzzer runs every seed before its time limit counts (40 seeds: 30 s).
SEED_OPTIONS = (0, 1, 0, 2, 4 | 0, 8 | 1, 16 | 2, 32 | 3)
MAX_SEEDS = 40
# A small bound on a record, to reach the cutting of long lines and records.
SMALL_RECORD_BYTES = 256
# libFuzzer's flags unless the command line gives them.
DEFAULT_FLAGS = {
    "-max_len": str(SEED_BYTES + 1),
    "-timeout": "60",
    "-rss_limit_mb": "4096",
    "-artifact_prefix": str(ROOT / "fuzz" / "artifacts") + "/",
}


class Broken(Exception):
    """An invariant of the parse that does not hold."""


@dataclass(frozen=True)
class Options:
    """How an input is read, from its first byte: bits 0-1 pick the number of blocks
    (:data:`BLOCKS`), bit 2 gzips the file, bit 3 repeats it past 64 KiB, bit 4 bounds a
    record at 256 bytes, bit 5 parses on two threads."""

    blocks: int
    gzipped: bool
    repeated: bool
    small_records: bool
    workers: int

    def block_bytes(self, size: int) -> int:
        """``block_bytes`` for a file that unzips to ``size`` bytes."""
        return 1 << 20 if self.blocks == 1 else max(64, -(-size // self.blocks))

    @classmethod
    def of(cls, byte: int) -> Options:
        return cls(
            blocks=BLOCKS[byte & 3],
            gzipped=bool(byte & 4),
            repeated=bool(byte & 8),
            small_records=bool(byte & 16),
            workers=2 if byte & 32 else 1,
        )


def test_one_input(data: bytes) -> None:
    """Parse ``data`` (after its options byte) as a file and check what came out."""
    if not data:
        return
    options, raw = Options.of(data[0]), data[1:]
    if options.repeated and raw:
        raw = raw * (REPEATED_BYTES // len(raw) + 1)
    path = work_folder() / "input.log"
    stored = gzip.compress(raw, mtime=0) if options.gzipped else raw
    path.write_bytes(stored)
    try:
        parsed = logflow.parse(
            path,
            block_bytes=options.block_bytes(len(raw)),
            workers=options.workers,
            max_record_bytes=SMALL_RECORD_BYTES if options.small_records else MAX_RECORD_BYTES,
        )
    except LogflowError:
        return
    check_lines(parsed, unzipped(stored), str(path))
    parsed.events(keep_other=True).collect()
    for name in TABLE_NAMES:
        parsed.table(name).collect()


@functools.cache
def work_folder() -> Path:
    """Where each input is written, one folder for the run: libFuzzer ends the process
    without Python's clean-up, so a folder an input made and removed could be left behind
    (tests/test_fuzz.py points $TMPDIR at its own temporary folder)."""
    return Path(tempfile.mkdtemp(prefix="logflow-fuzz-"))


def check_lines(parsed: logflow.Parsed, raw: bytes | None, source: str) -> None:
    """Every line of ``raw`` (the file's bytes, unzipped; None: not known) is read, and
    belongs to exactly one record."""
    records = parsed.records
    counts = dict(records.group_by("kind").len().iter_rows())
    if counts != parsed.kind_counts:
        raise Broken(f"kind_counts {parsed.kind_counts} but the records hold {counts}")
    if records["n_lines"].sum() != parsed.lines_read:
        raise Broken(f"{parsed.lines_read} lines read, {records['n_lines'].sum()} in records")
    starts = records["line_no"].to_list()
    ends = (records["line_no"] + records["n_lines"]).to_list()
    if records.height and starts[0] != 1:
        raise Broken(f"the first record starts at line {starts[0]}")
    gaps = [(end, start) for end, start in zip(ends[:-1], starts[1:], strict=True) if end != start]
    if gaps or (records.height and records["n_lines"].min() < 1):
        raise Broken(f"records do not follow each other: {gaps[:5]}")
    if set(records["source"]) - {source}:
        raise Broken(f"records of another source: {set(records['source'])}")
    if raw is None:
        return
    if parsed.cut_short:
        (cut,) = parsed.cut_short
        if parsed.lines_read != cut.line - 1:
            raise Broken(f"{parsed.lines_read} lines read, but the input stops at {cut}")
        expected = physical_lines(raw, upto=cut.byte)
    else:
        expected = physical_lines(raw)
    if parsed.lines_read not in expected:
        raise Broken(f"{parsed.lines_read} lines read of {' or '.join(map(str, expected))}")


def unzipped(stored: bytes) -> bytes | None:
    """What a file holds, gunzipped where it is gzip'd (as the reader tells it: by its first
    two bytes); None where it does not gunzip, though the parse read it."""
    if stored[:2] != b"\x1f\x8b":
        return stored
    try:
        return gzip.decompress(stored)
    except (OSError, EOFError, ValueError):
        return None


def physical_lines(raw: bytes, upto: int | None = None) -> set[int]:
    """The lines of ``raw`` (of its first ``upto`` bytes) decoded as inputs.py documents it:
    UTF-16 by its byte-order mark or where the NULs of its first 64 KiB fall, else UTF-8;
    lines end at LF (a CR before it dropped), or at CR where the text's line ends are CRs
    alone.

    Two counts where a CR stands inside a line: the reader tells an old Mac file by the first
    of its pieces that holds a line end, so which rule it takes depends on where the blocks
    fall (a first piece of ``block_bytes``) where a text has LF too, or where the piece that
    would tell is part of a line cut for its length.
    """
    text = raw[:upto].decode(encoding_of(raw), errors="replace")
    by_lf = _count_lines(text)
    by_cr = _count_lines(text.replace("\r", "\n"))
    return {by_lf} if LONE_CR.search(text) is None else {by_lf, by_cr}


def _count_lines(text: str) -> int:
    lines = text.split("\n")
    return len(lines) - (lines[-1] == "")


def encoding_of(raw: bytes) -> str:
    if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    window = raw[:WINDOW_BYTES]
    pairs = len(window) // 2
    if pairs:
        even, odd = window[0 : 2 * pairs : 2].count(0), window[1 : 2 * pairs : 2].count(0)
        if odd >= pairs / 2 and even <= pairs / 20:
            return "utf-16-le"
        if even >= pairs / 2 and odd <= pairs / 20:
            return "utf-16-be"
    return "utf-8-sig"


def write_seeds(corpus: Path) -> int:
    """Seed ``corpus`` with the first lines of every sample and real paste, each behind an
    options byte (:data:`SEED_OPTIONS` in turn); returns how many seeds were written.

    Past :data:`MAX_SEEDS` files, a seed holds the first lines of several, one after the
    other.
    """
    corpus.mkdir(parents=True, exist_ok=True)
    files = [
        path
        for folder in SEED_FOLDERS
        if folder.is_dir()
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != "README.md"
    ]
    groups = [files[start::MAX_SEEDS] for start in range(min(len(files), MAX_SEEDS))]
    for number, group in enumerate(groups):
        size = (SEED_BYTES - 1) // len(group)
        text = b"".join(first_lines(path, size) for path in group)
        options = SEED_OPTIONS[number % len(SEED_OPTIONS)]
        (corpus / f"seed-{number:02d}-{group[0].stem}").write_bytes(bytes([options]) + text)
    return len(groups)


def first_lines(path: Path, size: int) -> bytes:
    """The whole lines of a file that fit in ``size`` bytes (at least the start of one),
    without the header lines of a corpus file."""
    lines = path.read_bytes().splitlines(keepends=True)
    while lines and CORPUS_HEADER.match(lines[0]):
        lines.pop(0)
    head = b""
    for line in lines:
        if len(head) + len(line) > size:
            break
        head += line
    return head or b"".join(lines)[:size]


def main(argv: list[str]) -> None:
    flags = [arg for arg in argv[1:] if arg.startswith("-")]
    named = [arg for arg in argv[1:] if not arg.startswith("-")]
    if not named:
        named = [str(ROOT / "fuzz" / "corpus")]
    first = Path(named[0])
    if not first.is_file() and (not first.is_dir() or not any(first.iterdir())):
        write_seeds(first)
    given = {flag.split("=", 1)[0] for flag in flags}
    for flag, value in DEFAULT_FLAGS.items():
        if flag not in given:
            flags.append(f"{flag}={value}")
            if flag == "-artifact_prefix":
                Path(value).mkdir(parents=True, exist_ok=True)
    atheris.Setup([argv[0], *flags, *named], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
