"""First stage: turn the paths a user names into numbered text lines, or say why not.

Accepts files, folders (their log files, recursively), ``-`` for standard input and gzip'd
files. Text is decoded as UTF-8; undecodable bytes become U+FFFD and are counted, never fatal.
Inputs that cannot be a text export (binary files, ``.logarchive`` bundles, ``.tracev3``
files, empty files) raise :class:`~logflow.errors.InputError` with the command that fixes it.
"""

from __future__ import annotations

import codecs
import gzip
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from logflow.errors import InputError

LOG_SUFFIXES = (".log", ".txt", ".ndjson", ".jsonl", ".json", ".tsv", ".text")
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


def read_texts(paths: Iterable[str | Path]) -> list[Text]:
    """Read and decode every input named by ``paths``."""
    texts = [_read_one(source, data) for source, data in _expand(paths)]
    if not texts:
        msg = "no input given"
        raise InputError(msg)
    return texts


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


def _expand(paths: Iterable[str | Path]) -> Iterator[tuple[str, bytes]]:
    for raw in paths:
        if str(raw) == STDIN:
            yield "<stdin>", sys.stdin.buffer.read()
            continue
        path = Path(raw)
        _refuse_archives(path)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.name.lower().removesuffix(".gz").endswith(LOG_SUFFIXES)
            )
            if not files:
                msg = (
                    f"{path}: folder holds no log files ({', '.join(LOG_SUFFIXES)}, or .gz of them)"
                )
                raise InputError(msg)
            for file in files:
                _refuse_archives(file)
                yield str(file), _read_bytes(file)
        elif path.exists():
            yield str(path), _read_bytes(path)
        else:
            msg = f"{path}: no such file or folder"
            raise InputError(msg)


def _refuse_archives(path: Path) -> None:
    if path.suffix in (".logarchive", ".tracev3"):
        stem = path.stem or "export"
        hint = EXPORT_HINT.format(path=path, stem=stem)
        msg = f"{path}: a binary unified-log archive; export it as text first: {hint}"
        raise InputError(msg)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror}"
        raise InputError(msg) from None


def _read_one(source: str, data: bytes) -> Text:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            msg = f"{source}: damaged gzip file ({exc})"
            raise InputError(msg) from None
    if not data.strip():
        msg = f"{source}: empty file, nothing to read"
        raise InputError(msg)
    if b"\x00" in data[:65536]:
        msg = (
            f"{source}: binary data, not a text log; logflow reads the text that "
            "`log show` or `log stream` print (any --style)"
        )
        raise InputError(msg)
    text, errors = _decode(data)
    return Text(source, text, errors)


def _decode(data: bytes) -> tuple[str, int]:
    """Decode UTF-8, replacing and counting the bytes that are not."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(data, final=True)
    if "\ufffd" not in text:
        return text, 0
    strict = data.decode("utf-8", errors="ignore")
    return text, text.count("\ufffd") - strict.count("\ufffd")
