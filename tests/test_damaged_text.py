"""Damaged text: control bytes, binary data, UTF-16 without a byte-order mark, records too long.

What a user notices: every line is still counted, the events found are those of the text, the
report says what was replaced, cut or not read, and memory stays bounded.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from logflow.cli import cli
from logflow.outputs.report import Report
from logflow.pipeline import Parsed, parse
from logflow.reading.inputs import BINARY_REASON, BINARY_REST, MAX_RECORD_BYTES, CutShort

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
RACE = SAMPLES / "logshow-default-race.log"
RACE_BYTES = RACE.read_bytes()
RACE_LINES = RACE_BYTES.splitlines(keepends=True)
# The race's rows alone, without `log show`'s preamble and trailer: they can be repeated.
ROWS = [line for line in RACE_LINES if line[:4].isdigit()]


def network_events(parsed: Parsed) -> pl.DataFrame:
    """The Network events of a parse, without the file they came from."""
    return parsed.events().drop("source").collect()


def core_dump(size: int) -> bytes:
    """Bytes like those of a core dump: mostly NULs, some other bytes."""
    rng = random.Random(14)
    data = bytearray(size)
    for at in range(0, size, 5):
        data[at] = rng.randrange(256)
    return b"\x7fELF\x02\x01\x01\x00" + bytes(data)


def text_of(size: int) -> bytes:
    """The race's rows, repeated to whole lines of about ``size`` bytes."""
    rows = b"".join(ROWS)
    text = rows * (size // len(rows) + 1)
    return text[: text.rfind(b"\n", 0, size) + 1]


@pytest.mark.parametrize("block_bytes", [1000, 8 << 20])
@pytest.mark.parametrize("where", ["first window", "later"])
def test_control_bytes_are_counted_and_replaced(
    tmp_path: Path, where: str, block_bytes: int
) -> None:
    """NUL and other control bytes inside rows (in the first 64 KiB, where they used to make
    the file binary, or further in) are each replaced with U+FFFD and counted; every line is
    read, and the same Network events are found."""
    clean = RACE_BYTES if where == "first window" else text_of(100_000) + RACE_BYTES
    lines = clean.splitlines(keepends=True)
    for at in range(len(lines) - 60, len(lines) - 50):
        lines[at] = lines[at][:-1] + b"\x00\n"
    lines[-60] = lines[-60][:-20] + b"\x01" + lines[-60][-20:]
    (tmp_path / "clean.log").write_bytes(clean)
    (tmp_path / "damaged.log").write_bytes(b"".join(lines))

    expected = parse(tmp_path / "clean.log")
    parsed = parse(tmp_path / "damaged.log", block_bytes=block_bytes)

    report = Report.of(parsed)
    assert (report.lines_read, report.control_chars, report.decode_errors) == (
        clean.count(b"\n"),
        11,
        0,
    )
    assert report.network_events == Report.of(expected).network_events
    messages = parsed.records["message"]
    assert messages.str.contains("\x00", literal=True).sum() == 0
    assert messages.str.count_matches("\ufffd", literal=True).sum() == 11
    assert report.account().endswith(" 11 control characters (NUL and the like) were replaced.")
    assert "control" not in Report.of(expected).account()


def test_tab_ff_vt_and_esc_are_text(tmp_path: Path) -> None:
    """TAB, VT, FF and ESC (a terminal's colour codes) are kept as they are, not counted."""
    path = tmp_path / "colour.log"
    path.write_bytes(RACE_BYTES.replace(b" initialized ", b" \x1b[1minitialized\x1b[0m\x0b\x0c "))
    parsed = parse(path)
    assert (parsed.control_chars, parsed.lines_read) == (0, 94)
    kept = parsed.records["message"].str.contains(
        "\x1b[1minitialized\x1b[0m\x0b\x0c ", literal=True
    )
    assert kept.sum() == RACE_BYTES.count(b" initialized ") > 0


@pytest.mark.parametrize(("share", "binary"), [(0.25, False), (0.35, True)])
def test_a_file_is_binary_when_more_than_30_percent_cannot_be_text(
    tmp_path: Path, share: float, binary: bool
) -> None:
    """A first 64 KiB with 35% control bytes is refused, with the rule in the message;
    with 25% it is text, damaged: read, every line counted."""
    line = b"x" * int(100 * (1 - share)) + b"\x01" * int(100 * share) + b"\n"  # ~100 bytes
    path = tmp_path / "odd.log"
    path.write_bytes(line * 1000)
    result = CliRunner().invoke(cli, ["export", str(path), "-o", str(tmp_path / "out")])
    if binary:
        assert result.exit_code == 1
        assert result.stderr == f"Error: {path}: {BINARY_REASON}\n"
        assert "more than 30% of the bytes of its first 64 KiB" in BINARY_REASON
    else:
        # Read, but it holds no Network event: that is the error now.
        assert result.stderr.startswith(f"Error: found no Network-framework records in {path}")
        parsed = parse(path)
        assert (parsed.lines_read, parsed.control_chars) == (1000, 1000 * int(100 * share))


def test_binary_first_window_in_a_folder_is_skipped(tmp_path: Path) -> None:
    """In a folder, a file that is binary from its start is skipped, with the reason."""
    (tmp_path / "net.log").write_bytes(RACE_BYTES)
    (tmp_path / "core.log").write_bytes(core_dump(100_000))
    parsed = parse(tmp_path)
    assert [Path(s.path).name for s in parsed.skipped] == ["core.log"]
    assert parsed.skipped[0].reason == BINARY_REASON
    assert parsed.cut_short == ()


@pytest.mark.parametrize("block_bytes", [7_001, 65536, 8 << 20])
@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize("text_bytes", [200 * 1024, 3000])
def test_a_log_with_binary_appended_is_read_to_there(
    tmp_path: Path, block_bytes: int, gzipped: bool, text_bytes: int
) -> None:
    """A log with a core dump appended at 200 KiB, or at 3 KB (so its first 64 KiB are
    mostly binary), after a row cut in two, is read up to the last whole line before the
    binary data; the report says from which line and byte it was not read."""
    text = text_of(text_bytes)
    half_row = ROWS[5][:40]
    path = tmp_path / ("core.log.gz" if gzipped else "core.log")
    data = text + half_row + core_dump(500_000)
    path.write_bytes(gzip.compress(data) if gzipped else data)
    (tmp_path / "text.log").write_bytes(text)

    parsed = parse(path, block_bytes=block_bytes)

    lines = text.count(b"\n")
    assert parsed.lines_read == lines
    assert parsed.cut_short == (CutShort(str(path), lines + 1, len(text), BINARY_REST),)
    assert network_events(parsed).equals(network_events(parse(tmp_path / "text.log")))
    assert Report.of(parsed).to_dict()["cut_short"] == [
        {"path": str(path), "line": lines + 1, "byte": len(text), "reason": BINARY_REST}
    ]


def test_the_command_line_says_where_a_file_was_cut_short(tmp_path: Path) -> None:
    """`logflow export` exits 0 and says on stderr which line and byte it stopped at."""
    text = text_of(200 * 1024)
    path = tmp_path / "core.log"
    path.write_bytes(text + core_dump(300_000))
    report = tmp_path / "report.json"
    argv = ["export", str(path), "-o", str(tmp_path / "out"), "--report", str(report)]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    lines = text.count(b"\n")
    note = (
        f"  cut short: {path} at line {lines + 1:,} (byte {len(text):,}): "
        "binary data from there on, not read"
    )
    assert note in result.stderr.splitlines()
    written = json.loads(report.read_text(encoding="utf-8"))
    assert (written["lines_read"], written["cut_short"][0]["line"]) == (lines, lines + 1)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark_is_decoded(tmp_path: Path, encoding: str) -> None:
    """A UTF-16 export saved without a byte-order mark reads as its UTF-8 original does."""
    path = tmp_path / "u16.log"
    path.write_bytes(RACE_BYTES.decode("utf-8").encode(encoding))
    parsed = parse(path, block_bytes=1001)
    assert (parsed.lines_read, parsed.decode_errors, parsed.control_chars) == (94, 0, 0)
    assert network_events(parsed).equals(network_events(parse(RACE)))


@pytest.mark.parametrize("block_bytes", [64 * 1024, 8 << 20])
def test_a_line_longer_than_the_bound_is_cut_and_counted(tmp_path: Path, block_bytes: int) -> None:
    """A 3 MiB row (read across blocks, or within one) is one unparsed record whose message
    is cut to 1 MiB; the other rows' events are all found."""
    long_row = ROWS[3].rstrip(b"\n") + " é".encode() * (1 << 20) + b"\n"
    path = tmp_path / "long.log"
    path.write_bytes(b"".join(RACE_LINES[:10]) + long_row + b"".join(RACE_LINES[10:]))

    parsed = parse(path, block_bytes=block_bytes)

    report = Report.of(parsed)
    assert (report.lines_read, report.records_cut, report.unparsed) == (95, 1, 1)
    assert report.network_events == Report.of(parse(RACE)).network_events
    (cut,) = parsed.records.filter(pl.col("kind") == "unparsed").iter_rows(named=True)
    assert cut["line_no"] == 11
    assert MAX_RECORD_BYTES - 3 < len(cut["message"].encode()) <= MAX_RECORD_BYTES
    assert cut["message"].startswith(ROWS[3][:30].decode())
    assert report.unparsed_examples[0]["reason"] == (
        "longer than 1,048,576 bytes: cut there, the rest not kept"
    )
    assert report.account().endswith(" 1 record over the size limit was cut (unparsed).")


def test_a_record_of_many_lines_longer_than_the_bound_is_cut(tmp_path: Path) -> None:
    """A row with a 30 kB dump under it, over a bound of 10 kB: one record of all its lines,
    unparsed, its message cut to 10 kB; the rows after it are read as before."""
    dump = b"".join(b"\t%s %d\n" % (b"0a1b" * 50, i) for i in range(150))
    path = tmp_path / "dump.log"
    path.write_bytes(b"".join(RACE_LINES[:10]) + ROWS[3] + dump + b"".join(RACE_LINES[10:]))

    parsed = parse(path, max_record_bytes=10_000)

    assert (parsed.lines_read, parsed.records_cut) == (95 + 150, 1)
    (cut,) = parsed.records.filter(pl.col("kind") == "unparsed").iter_rows(named=True)
    assert (cut["line_no"], cut["n_lines"]) == (11, 151)
    assert len(cut["message"].encode()) == 10_000
    expected = parse(RACE)
    assert Report.of(parsed).network_events == Report.of(expected).network_events
    assert parse(path).records_cut == 0  # under the default bound it is a record like others


def test_a_line_of_200_mb_takes_bounded_memory(tmp_path: Path) -> None:
    """A 200 MB line with no line end for 200 MB, read in 1 MiB blocks: the reader keeps 1 MiB
    of it and skips the rest, so memory grows by far less than the line; the rows after it
    are read."""
    path = tmp_path / "huge.log.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(b"".join(RACE_LINES[:5]))
        for _ in range(200):
            out.write(b"x" * (1 << 20))
        out.write(b"\n" + b"".join(ROWS[:3]))
    script = f"""
import sys
from logflow.reading.inputs import Inputs

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))

before = status("VmRSS:")
lines = []
for block in Inputs([{str(path)!r}], block_bytes=1 << 20).blocks():
    lines.extend(len(line) for line in block.lines.to_list())
print(lines[5], len(lines), (status("VmHWM:") - before) // 1024)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    long_line, n_lines, grown_mb = map(int, out.split())
    assert MAX_RECORD_BYTES < long_line <= MAX_RECORD_BYTES + 4
    assert n_lines == 5 + 1 + 3
    assert grown_mb < 40, f"reading grew memory by {grown_mb} MB"
