"""Reading what users hand over: encodings, line ends, folders."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from logflow.errors import InputError
from logflow.reading.inputs import Inputs, Text

LINE = "nw_socket_handle_socket_event [C2:2] Socket SO_ERROR [61: Connection refused]"


def read_texts(paths: list[Path], block_bytes: int = 1 << 20) -> tuple[list[Text], list]:
    """Each input's lines joined again, from the blocks they were read in."""
    inputs = Inputs(list(paths), block_bytes=block_bytes)
    texts: dict[str, list] = {}
    for block in inputs.blocks():
        lines, errors, next_line = texts.setdefault(block.source, [[], 0, 1])
        assert block.first_line == next_line, "blocks follow each other line by line"
        lines.extend(block.lines.to_list())
        texts[block.source] = [lines, errors + block.decode_errors, next_line + block.lines.len()]
    joined = [
        Text(source, "".join(f"{line}\n" for line in lines), errors)
        for source, (lines, errors, _) in texts.items()
    ]
    return joined, inputs.skipped


def test_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    """A UTF-8 file saved with a BOM reads as if it had none."""
    path = tmp_path / "bom.log"
    path.write_bytes(codecs.BOM_UTF8 + f"{LINE}\n".encode())
    (text,), _ = read_texts([path])
    assert text.text == f"{LINE}\n"


@pytest.mark.parametrize("block_bytes", [1 << 20, 100])
def test_only_the_first_byte_order_mark_is_dropped(tmp_path: Path, block_bytes: int) -> None:
    """The mark is dropped at the file's start only, in whatever blocks the file is read, and
    bytes that are not UTF-8 in any block are replaced and counted."""
    path = tmp_path / "bom.log"
    body = "\n".join([LINE] * 3 + ["\ufeff" + LINE, "café\r", ""]).encode()
    path.write_bytes(codecs.BOM_UTF8 + body + b"bad \xff byte\n")
    (text,), _ = read_texts([path], block_bytes=block_bytes)
    expected = "\n".join([LINE] * 3 + ["\ufeff" + LINE, "café", "bad \ufffd byte", ""])
    assert (text.text, text.decode_errors) == (expected, 1)


def test_utf16_with_byte_order_mark_is_decoded(tmp_path: Path) -> None:
    """A UTF-16 export (as some Windows editors save it) is text, not binary."""
    path = tmp_path / "u16.log"
    path.write_bytes(f"{LINE}\n".encode("utf-16"))
    (text,), _ = read_texts([path])
    assert (text.text, text.decode_errors) == (f"{LINE}\n", 0)


def test_old_mac_line_ends_split_lines(tmp_path: Path) -> None:
    """A file whose lines end in CR alone still has one line per entry."""
    path = tmp_path / "cr.log"
    path.write_bytes(f"{LINE}\r{LINE}\r".encode())
    (text,), _ = read_texts([path])
    assert text.text.split("\n")[:2] == [LINE, LINE]


def test_undecodable_bytes_are_counted_as_bytes(tmp_path: Path) -> None:
    """Each byte that is not UTF-8 is replaced and counted once."""
    path = tmp_path / "bad.log"
    path.write_bytes(b"nw_x \xff\xfe\xfd done\n")
    (text,), _ = read_texts([path])
    assert text.decode_errors == 3


def test_folder_skips_archives_and_empty_files_and_says_so(tmp_path: Path) -> None:
    """In a folder, a .logarchive and an empty file are skipped with the reason; the rest is read."""
    (tmp_path / "net.log").write_text(f"{LINE}\n")
    (tmp_path / "empty.log").write_text("")
    archive = tmp_path / "system.logarchive"
    archive.mkdir()
    (archive / "Info.txt").write_text("not a log")
    texts, skipped = read_texts([tmp_path])
    assert [Path(t.source).name for t in texts] == ["net.log"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert reasons["empty.log"] == "empty file, nothing to read"
    assert "log show --archive" in reasons["system.logarchive"]


def test_folder_of_archives_only_says_how_to_export(tmp_path: Path) -> None:
    """A folder holding only an archive is an error that gives the export command."""
    (tmp_path / "x.logarchive").mkdir()
    (tmp_path / "x.logarchive" / "0000.tracev3").write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match="log show --archive"):
        read_texts([tmp_path])


@pytest.mark.parametrize("block_bytes", [7, 64, 1000])
def test_small_blocks_give_the_same_lines(tmp_path: Path, block_bytes: int) -> None:
    """However small the blocks a file is read in, its lines and bad bytes come out whole."""
    text = "".join(f"{i} {LINE}\r\n" for i in range(50)) + "caf\u00e9 \u2014 end"
    path = tmp_path / "net.log"
    path.write_bytes(text.encode() + b" \xff\n")
    (whole,), _ = read_texts([path], block_bytes=block_bytes)
    assert whole.text == text.replace("\r\n", "\n") + " \ufffd\n"
    assert whole.decode_errors == 1


def test_gzip_is_read_in_blocks(tmp_path: Path) -> None:
    """A gzip'd export reads as the same lines as the plain one."""
    import gzip

    text = "".join(f"{i} {LINE}\n" for i in range(200))
    path = tmp_path / "net.log.gz"
    path.write_bytes(gzip.compress(text.encode()))
    (whole,), _ = read_texts([path], block_bytes=100)
    assert whole.text == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_in_small_blocks_gives_the_same_lines(tmp_path: Path, encoding: str) -> None:
    """A UTF-16 export read a few bytes at a time comes out line for line, CR-only ends too."""
    text = "".join(f"{i} {LINE} \u2014\n" for i in range(30))
    for name, body in (("lf.log", text), ("cr.log", text.replace("\n", "\r"))):
        path = tmp_path / f"{encoding}-{name}"
        path.write_bytes(codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE)
        with path.open("ab") as f:
            f.write(body.encode(encoding))
        (whole,), _ = read_texts([path], block_bytes=50)
        assert (whole.text, whole.decode_errors) == (text, 0)


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    """The same file twice, or a folder and a file in it (by another spelling of its path):
    read once, and the second naming is noted."""
    log = tmp_path / "net.log"
    log.write_text(LINE + "\n", encoding="utf-8")
    texts, skipped = read_texts([log, tmp_path, tmp_path / "." / "net.log"])
    assert [text.source for text in texts] == [str(log)]
    assert [note.reason for note in skipped] == ["named more than once: read once"] * 2
