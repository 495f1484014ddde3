"""Parsing a chunk at a time, on every core, with the trees spilled to disk, changes nothing.

The fast path reads a file in blocks, cuts them again at record starts, parses the chunks on
threads and partitions the tree rows on disk; each test compares it with one pass over the
whole input on one thread, held in memory.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from logflow.analysis.partition import TreeEvents
from logflow.pipeline import Parsed, parse
from logflow.reading.inputs import Inputs
from logflow.reading.records import record_chunks

from conftest import SAMPLES, corpus_files, generated_log, sample_files

TABLES = ("connections", "races", "proxy_failures", "path_changes")


def whole(paths: list[Path]) -> Parsed:
    return parse(paths, workers=1, block_bytes=1 << 30, spill_rows=1 << 30)


def chunked(paths: list[Path], *, block_bytes: int, spill_rows: int = 1 << 30) -> Parsed:
    return parse(paths, workers=2, block_bytes=block_bytes, spill_rows=spill_rows)


def assert_same(fast: Parsed, slow: Parsed) -> None:
    assert_frame_equal(fast.records, slow.records)
    for table in TABLES:
        assert_frame_equal(getattr(fast, table)().collect(), getattr(slow, table)().collect())
    assert (fast.lines_read, fast.kind_counts) == (slow.lines_read, slow.kind_counts)
    assert_frame_equal(fast.process_events, slow.process_events)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_log(tmp_path_factory.mktemp("gen"), 10_000)


@pytest.mark.parametrize("block_bytes", [60_000, 300_000])
def test_generated_export_in_chunks_parses_as_in_one_pass(export: Path, block_bytes: int) -> None:
    """Blocks of 60 KB (about 200 lines) or 300 KB, two at once: the same records and tables."""
    assert_same(chunked([export], block_bytes=block_bytes), whole([export]))


def test_trees_spilled_to_disk_are_the_trees_built_in_memory(export: Path) -> None:
    """With a few thousand rows in memory at most, the trees are built partition by partition,
    and come out the same."""
    fast = chunked([export], block_bytes=300_000, spill_rows=1_000)
    tree_rows = fast.records.filter(pl.col("conn_id").is_not_null()).height
    assert tree_rows > 5 * 1_000, "the trees must be spilled, in several batches"
    assert_same(fast, whole([export]))


def test_spilled_rows_come_back_whole_and_in_order() -> None:
    """Past the limit the rows go to disk; every row comes back once, in input order within
    its tree, and no tree is split between two batches."""
    rows = pl.DataFrame(
        {
            "source": ["a.log"] * 6000,
            "process": ["app"] * 6000,
            "pid": [1] * 6000,
            "conn_id": [f"C{i % 300}.{i % 7}" for i in range(6000)],
            "line_no": range(6000),
        }
    )
    with TreeEvents(spill_rows=1000) as trees:
        for start in range(0, 6000, 700):
            trees.add(rows.slice(start, 700))
        assert trees.folder is not None
        batches = [batch.collect() for batch in trees.batches()]
    assert len(batches) > 1
    assert_frame_equal(pl.concat(batches).sort("line_no"), rows)
    roots = [b.with_columns(root=pl.col("conn_id").str.extract(r"^(C[0-9]+)", 1)) for b in batches]
    for batch in roots:
        in_order = batch.group_by("root").agg(pl.col("line_no").is_sorted()).to_series(1)
        assert in_order.all()
    assert sum(b["root"].n_unique() for b in roots) == 300, "each tree in one batch"


def test_every_sample_and_real_paste_in_chunks_parses_as_in_one_pass() -> None:
    """Each bundled sample and corpus paste, read in 4 KB blocks, two files at once."""
    paths = [*sample_files(), *corpus_files()]
    assert_same(chunked(paths, block_bytes=4096, spill_rows=500), whole(paths))


def test_a_folder_is_read_in_parallel_as_in_series(tmp_path: Path) -> None:
    """Several exports in a folder: parsed side by side, the same as one after the other."""
    for seed in (1, 2, 3):
        generated_log(tmp_path, 3_000, seed)
    fast = parse([tmp_path], workers=2, block_bytes=50_000)
    slow = parse([tmp_path], workers=1)
    assert len(fast.sources) == 3
    assert_same(fast, slow)


def test_tables_outlive_the_parse_and_their_files_do_not() -> None:
    """A table taken from a parse still reads after the parse is gone; the parse's scratch
    files are removed with it."""
    import gc

    parsed = parse(sample_files()[:3])
    folder = parsed.tables.folder
    conns = parsed.connections()
    assert folder.is_dir()
    del parsed
    gc.collect()
    assert not folder.exists()
    assert conns.collect().height > 0


def test_every_style_is_cut_into_chunks(tmp_path: Path) -> None:
    """ndjson, pretty JSON, Console key/value and Xcode 15 exports are read a block at a time
    too (not held whole), and parse as in one pass."""
    for name in ("logshow.ndjson", "logshow.json", "console-kv-blocks.log", "xcode15-metadata.log"):
        sample = (SAMPLES / name).read_text(encoding="utf-8")
        path = tmp_path / name
        path.write_text(sample * 20, encoding="utf-8")
        blocks = list(record_chunks(Inputs([path], block_bytes=len(sample)).blocks()))
        assert len(blocks) > 5, name
        assert_same(chunked([path], block_bytes=len(sample)), whole([path]))


def test_an_xcode_paste_below_does_not_regroup_lines_above(tmp_path: Path) -> None:
    """Bare notes at the top of a file stay records of their own, whether or not the Xcode 15
    paste further down is in the same block."""
    row = (SAMPLES / "logshow-default-race.log").read_text().splitlines()[1]
    xcode = (SAMPLES / "xcode15-metadata.log").read_text()
    path = tmp_path / "mixed.log"
    path.write_text(f"note one\nnote two\n{row}\n" + xcode, encoding="utf-8")
    slow = whole([path])
    assert slow.records["n_lines"].head(2).to_list() == [1, 1]
    assert_same(chunked([path], block_bytes=300), slow)


def test_tls_streams_stay_linked_when_the_trees_are_spilled() -> None:
    """C42 is the TLS stream of C41.1.1.1: two trees, linked however they are batched."""
    path = SAMPLES / "device-relay.log"
    for spill_rows in (1 << 30, 1):
        conns = parse([path], spill_rows=spill_rows).connections().collect()
        links = conns.filter(pl.col("tls_stream_of").is_not_null())
        assert links.select("conn_id", "tls_stream_of").rows() == [("C42", "C41.1.1.1")]


def test_a_failed_export_leaves_no_events_file(tmp_path: Path) -> None:
    """An export that fails half-way (a damaged gzip after a good file) leaves no partial
    events.parquet behind, nor the folder it made for it."""
    import gzip

    from logflow.errors import InputError
    from logflow.outputs.export import export

    folder = tmp_path / "logs"
    folder.mkdir()
    good = (SAMPLES / "logshow-default-race.log").read_bytes()
    (folder / "a.log").write_bytes(good)
    # Cut early: about 170 KB decode before the damage is found (a file damaged within its
    # first window of 64 KiB is skipped, not read).
    (folder / "b.log.gz").write_bytes(gzip.compress(good * 50)[:5000])
    with pytest.raises(InputError, match="damaged gzip"):
        export([folder], tmp_path / "out", block_bytes=4096)
    assert not (tmp_path / "out").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(InputError, match="damaged gzip"):
        export([folder], tmp_path / "kept", block_bytes=4096)
    assert list((tmp_path / "kept").iterdir()) == []
