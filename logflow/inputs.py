"""First stage: turn the paths a user names into numbered text lines, or say why not.

Accepts files, folders (their log files, recursively), ``-`` for standard input and gzip'd
files. Text is UTF-8 (a byte-order mark is dropped) or, with its byte-order mark, UTF-16;
undecodable bytes become U+FFFD and are counted, never fatal. Inputs that cannot be a text
export (binary files, ``.logarchive`` bundles, ``.tracev3`` files, empty files) raise
:class:`~logflow.errors.InputError` with what to do instead; met inside a folder, they are
skipped and reported.
"""

from __future__ import annotations

import codecs
import gzip
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from logflow.errors import InputError

LOG_SUFFIXES = (".log", ".txt", ".ndjson", ".jsonl", ".json", ".tsv", ".text")
ARCHIVE_SUFFIXES = (".logarchive", ".tracev3")
STDIN = "-"
EXPORT_HINT = "log show --archive {path} --info --debug --style ndjson > {stem}.ndjson"

# The longest line logflow parses. os_log truncates messages far below this, so a longer line
# is a paste gone wrong; it is reported unparsed rather than fed to the patterns.
MAX_LINE_CHARS = 1 << 20


@dataclass(frozen=True)
class Text:
    """One input's decoded text."""

    source: str
    text: str
    decode_errors: int


@dataclass(frozen=True)
class Skipped:
    """A file inside a folder that was not read, and why."""

    path: str
    reason: str


def read_texts(paths: Iterable[str | Path]) -> tuple[list[Text], list[Skipped]]:
    """Read and decode every input named by ``paths``; files skipped in folders beside them."""
    texts: list[Text] = []
    skipped: list[Skipped] = []
    for raw in paths:
        if str(raw) == STDIN:
            texts.append(_decode_input("<stdin>", sys.stdin.buffer.read()))
        elif Path(raw).is_dir() and not _is_archive(Path(raw)):
            texts.extend(_read_folder(Path(raw), skipped))
        else:
            texts.append(_read_file(Path(raw)))
    if not texts:
        msg = "no input given"
        raise InputError(msg)
    return texts, skipped


def lines_frame(texts: list[Text]) -> pl.DataFrame:
    """One row per physical line: ``source``, ``line_no`` (1-based) and ``text``."""
    frames = []
    for text in texts:
        body = text.text.split("\n")
        if body and body[-1] == "":
            body.pop()  # the newline that ends the last line does not start another
        frames.append(
            pl.DataFrame({"text": body}, schema={"text": pl.String}).select(
                pl.lit(text.source).alias("source"),
                pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("line_no"),
                pl.col("text").str.strip_suffix("\r"),
            )
        )
    return pl.concat(frames)


def _read_folder(folder: Path, skipped: list[Skipped]) -> list[Text]:
    texts = []
    for path in sorted(folder.rglob("*")):
        inside = path.relative_to(folder).parts
        if any(part.startswith(".") for part in inside) or not path.is_file():
            continue
        if any(Path(part).suffix in ARCHIVE_SUFFIXES for part in inside):
            archive = folder.joinpath(*inside[: _archive_depth(inside) + 1])
            note = Skipped(str(archive), _archive_message(archive))
            if note not in skipped:
                skipped.append(note)
            continue
        if not path.name.lower().removesuffix(".gz").endswith(LOG_SUFFIXES):
            continue
        try:
            texts.append(_read_file(path))
        except InputError as err:
            skipped.append(Skipped(str(path), str(err).removeprefix(f"{path}: ")))
    if not texts:
        found = f"; {skipped[0].path}: {skipped[0].reason}" if skipped else ""
        msg = f"{folder}: folder holds no log files ({', '.join(LOG_SUFFIXES)}, or .gz){found}"
        raise InputError(msg)
    return texts


def _archive_depth(parts: tuple[str, ...]) -> int:
    return next(i for i, part in enumerate(parts) if Path(part).suffix in ARCHIVE_SUFFIXES)


def _is_archive(path: Path) -> bool:
    return path.suffix in ARCHIVE_SUFFIXES


def _archive_message(path: Path) -> str:
    hint = EXPORT_HINT.format(path=path, stem=path.stem or "export")
    return f"a binary unified-log archive; export it as text first: {hint}"


def _read_file(path: Path) -> Text:
    if _is_archive(path):
        msg = f"{path}: {_archive_message(path)}"
        raise InputError(msg)
    if not path.exists():
        msg = f"{path}: no such file or folder"
        raise InputError(msg)
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror}"
        raise InputError(msg) from None
    return _decode_input(str(path), data)


def _decode_input(source: str, data: bytes) -> Text:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            msg = f"{source}: damaged gzip file ({exc})"
            raise InputError(msg) from None
    encoding = "utf-16" if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    if encoding != "utf-16" and b"\x00" in data[:65536]:
        msg = (
            f"{source}: binary data, not a text log; logflow reads the text that "
            "`log show` or `log stream` print (any --style)"
        )
        raise InputError(msg)
    text, errors = _decode(data, encoding)
    if not text.strip():
        msg = f"{source}: empty file, nothing to read"
        raise InputError(msg)
    if "\n" not in text:
        text = text.replace("\r", "\n")  # old Mac line ends: each CR ends a line
    return Text(source, text, errors)


def _decode(data: bytes, encoding: str) -> tuple[str, int]:
    """Decode, replacing and counting the bytes that do not decode."""
    bad = 0

    def count(error: UnicodeError) -> tuple[str, int]:
        nonlocal bad
        assert isinstance(error, UnicodeDecodeError)
        bad += error.end - error.start
        return "\ufffd", error.end

    codecs.register_error("logflow.count", count)
    return data.decode(encoding, errors="logflow.count"), bad
