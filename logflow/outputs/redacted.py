"""Redacted logs, for posting: each input rewritten with pseudonyms for its identifiers
(:mod:`logflow.reading.redact`), line for line, and the mapping back, only where asked.

What cannot be vouched for is listed (:func:`to_check`): a line that names a secret with a
value (``token=…``, ``Authorization: Bearer …``) or holds a long run of letters and digits
that no pattern knows (a key, a session id) may hold something no pseudonym replaced.
"""

from __future__ import annotations

import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import polars as pl

from logflow.errors import Interrupted, OutputError, writing
from logflow.outputs.files import OutputSet, finish_moves, replacing
from logflow.reading.inputs import STDIN, Inputs, Skipped
from logflow.reading.redact import Redactor

STDIN_NAME = "stdin.log"
# What may be a secret that no pattern replaced: a secret's name with a value, and a long
# run of letters and digits (a key, a session id, a base64 blob).
SECRET_NAMED = (
    r"(?i)\b(?:token|password|passwd|secret|api[_-]?key|auth|authorization|cookie|"
    r"session[_-]?id|bearer)\b[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?[^\s\"',;<]{6,}"
)
LONG_TOKEN = r"[A-Za-z0-9+]{20,}={0,2}"
EXAMPLES = 10


@dataclass
class Redacted:
    """What :func:`redact` wrote: the files, the lines read, the pseudonyms given, and the
    lines to look at before posting."""

    files: list[Path] = field(default_factory=list)
    lines: int = 0
    pseudonyms: int = 0
    to_check: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"file": pl.String, "line": pl.Int64, "why": pl.String, "what": pl.String}
        )
    )
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "files": [str(path) for path in self.files],
            "lines": self.lines,
            "pseudonyms": self.pseudonyms,
            "to_check": self.to_check.to_dicts(),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }


def redact(paths: list[str | Path], out_dir: Path, redactor: Redactor) -> Redacted:
    """Write each input, redacted, to ``out_dir``: a file as ``OUT/<its name>``, the files
    of a folder as ``OUT/<folder name>/<their path in it>``, standard input as
    ``OUT/stdin.log``. The files are one set, moved in together (nothing written on a
    failure or an interrupt).

    Files are read twice: first to learn every name their envelopes give (an app's process
    name may stand in a message above its first row), then to redact them. Standard input
    is read once.
    """
    paths = [str(p) for p in paths]
    redactor.read_names(paths)
    inputs = Inputs(list(paths))
    redacted = Redacted()
    created = not out_dir.exists()
    with writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    output = None
    try:
        finish_moves(out_dir)
        with OutputSet(out_dir) as output:
            checks = _write_redacted(inputs, paths, out_dir, output, redactor, redacted)
            output.commit()
    except BaseException as failure:
        committed = output is not None and output.committed
        if created and not committed:
            shutil.rmtree(out_dir, ignore_errors=True)
        if isinstance(failure, (KeyboardInterrupt, Interrupted)):
            signum = failure.signum if isinstance(failure, Interrupted) else signal.SIGINT
            kept = f"{out_dir} not created" if created else f"{out_dir} as it was"
            kept = f"{out_dir} holds the redacted logs" if committed else f"nothing written, {kept}"
            raise Interrupted(signum, kept) from None
        raise
    redacted.files = [out_dir / name for name in output.names]
    redacted.pseudonyms = len(redactor.mapping())
    redacted.to_check = pl.concat([redacted.to_check, *checks])
    redacted.skipped = list(inputs.skipped)
    return redacted


def _write_redacted(
    inputs: Inputs,
    paths: list[str],
    out_dir: Path,
    output: OutputSet,
    redactor: Redactor,
    redacted: Redacted,
) -> list[pl.DataFrame]:
    """Each input's lines, redacted, into its file of the set; the lines to check."""
    streams: dict[str, TextIO] = {}
    checks = []
    try:
        for block in inputs.blocks():
            name = _output_name(block.source, paths)
            if name not in streams:
                _not_an_input(out_dir / name, block.source)
                streams[name] = output.path(name).open("w", encoding="utf-8", newline="\n")
            lines = redactor.block(block).lines
            with writing(out_dir / name):
                streams[name].write("".join(f"{line}\n" for line in lines))
            redacted.lines += lines.len()
            checks.append(to_check(lines, name, block.first_line))
    finally:
        for stream in streams.values():
            stream.close()
    return checks


def to_check(lines: pl.Series, file: str, first_line: int = 1) -> pl.DataFrame:
    """The lines that may hold a secret no pattern replaced: ``file``, ``line``, ``why`` and
    ``what`` (the text that may be one, cut to 60 characters)."""
    token = pl.element()
    mixed = token.str.contains("[0-9]") & token.str.contains("[A-Za-z]")
    long_token = pl.col("text").str.extract_all(LONG_TOKEN).list.eval(token.filter(mixed))
    secret = pl.col("text").str.extract(f"({SECRET_NAMED})")
    long_token = long_token.list.first()
    why = (
        pl.when(secret.is_not_null())
        .then(pl.lit("names a secret"))
        .when(long_token.is_not_null())
        .then(pl.lit("a long token"))
    )
    return (
        pl.DataFrame({"text": lines})
        .with_row_index("line", offset=first_line)
        .select(
            pl.lit(file).alias("file"),
            pl.col("line").cast(pl.Int64),
            why.alias("why"),
            pl.coalesce(secret, long_token).str.slice(0, 60).alias("what"),
        )
        .filter(pl.col("why").is_not_null())
    )


def write_mapping(redactor: Redactor, path: Path) -> None:
    """The mapping of pseudonyms to originals, readable by its owner only."""
    with replacing(path) as partial:
        partial.write_text(redactor.mapping_json() + "\n", encoding="utf-8")
        os.chmod(partial, 0o600)


def _not_an_input(path: Path, source: str) -> None:
    if source != "<stdin>" and path.resolve() == Path(source).resolve():
        msg = f"{path}: writing it would overwrite the log it redacts; give -o another folder"
        raise OutputError(msg)


def _output_name(source: str, paths: list[str]) -> str:
    """Where in OUT an input's redacted text goes: see :func:`redact`."""
    if source == "<stdin>":
        return STDIN_NAME
    for given in paths:
        if given == STDIN:
            continue
        folder = Path(given)
        if folder.is_dir() and Path(source).is_relative_to(folder):
            return (Path(folder.resolve().name) / Path(source).relative_to(folder)).as_posix()
    return Path(source).name
