"""Every line is accounted for, on real pastes and on anything else."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logflow.pipeline import Parsed, parse_texts
from logflow.reading.inputs import Text
from logflow.schema import EVENT_SCHEMA, NETWORK_KINDS

from conftest import corpus_body, corpus_files, needs_corpus, sample_files

# Found independently of the grammar, as ../shared/tools/corpus_check.py does: the first
# connection id on a line, modern ([C8.1.1:1], [C2 ...]) or 2016 ([3.2 host:443 ready ...]).
MODERN_ID = re.compile(r"\[C(\d+(?:\.\d+)*)(?::\d+)?[\] ]")
OLD_ID = re.compile(
    r"\[(\d+(?:\.\d+)*) \S+ (?:initial|waiting|in_progress|ready|failed|cancelled)\b"
)


def parse_lines(lines: list[str], source: str = "paste.log") -> Parsed:
    return parse_texts([Text(source, "\n".join(lines) + "\n", 0)])


def assert_every_line_in_one_record(parsed: Parsed, n_lines: int) -> None:
    spans = parsed.records.sort("line_no").select("line_no", "n_lines")
    starts = spans["line_no"].to_list()
    ends = (spans["line_no"] + spans["n_lines"]).to_list()
    assert parsed.lines_read == n_lines
    assert starts[:1] == [1] and ends[-1:] == [n_lines + 1]
    assert starts[1:] == ends[:-1], "records must tile the lines with no gap or overlap"


def first_id(line: str) -> str | None:
    hits = [
        (m.start(), "C" + m.group(1)) for m in (MODERN_ID.search(line), OLD_ID.search(line)) if m
    ]
    return min(hits)[1] if hits else None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
        min_size=1,
        max_size=12,
    )
)
def test_arbitrary_text_never_raises_and_every_line_is_accounted_for(lines: list[str]) -> None:
    """Whatever is pasted, each physical line lands in exactly one record."""
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    assert_every_line_in_one_record(parse_lines(lines), len(lines))


def test_events_carry_the_schema() -> None:
    """The events table has exactly the documented columns and types, in order."""
    parsed = parse_lines(
        ["nw_socket_handle_socket_event [C2:2] Socket SO_ERROR [61: Connection refused]"]
    )
    assert parsed.events().collect_schema() == pl.Schema(EVENT_SCHEMA)


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.name)
def test_samples_are_fully_accounted_for(path) -> None:
    """Each bundled sample parses with every line in one record and nothing unparsed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    parsed = parse_lines(lines, path.name)
    assert_every_line_in_one_record(parsed, len(lines))
    assert parsed.records.filter(pl.col("kind") == "unparsed").height == 0


@needs_corpus
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_real_paste_is_fully_accounted_for(path) -> None:
    """Each real paste parses with every line in one record and nothing unparsed."""
    lines = corpus_body(path)
    parsed = parse_lines(lines, path.name)
    assert_every_line_in_one_record(parsed, len(lines))
    assert parsed.records.filter(pl.col("kind") == "unparsed").height == 0


@needs_corpus
def test_connection_ids_in_real_pastes_are_found() -> None:
    """At least 99.5% of real lines that carry a connection id land in an event with that id."""
    wanted = found = 0
    for path in corpus_files():
        lines = corpus_body(path)
        events = parse_lines(lines, path.name).events().collect()
        covered: dict[int, list[tuple[str, bool]]] = {}
        for line_no, n, conn_id in events.select("line_no", "n_lines", "conn_id").iter_rows():
            for k in range(line_no, line_no + n):
                covered.setdefault(k, []).append((conn_id, k == line_no))
        for k, line in enumerate(lines, start=1):
            if (cid := first_id(line)) is None:
                continue
            wanted += 1
            # A continuation line (the summary naming the winning leaf) may name a descendant.
            found += any(
                rec == cid or (not first and rec is not None and cid.startswith(rec + "."))
                for rec, first in covered.get(k, ())
            )
    assert wanted > 300
    assert found / wanted >= 0.995


def test_network_kinds_exclude_the_non_event_records() -> None:
    """The events table holds Network-framework events only unless other records are asked for."""
    parsed = parse_lines(
        [
            'Filtering the log data using "subsystem == "com.apple.network""',
            "Timestamp                       Thread     Type        Activity             PID    TTL  ",
            "2024-12-12 21:45:11.760781+0100 0x78e2     Default     0x0                  1619   0    banshee: (Network) [com.apple.network:] networkd_settings_read_from_file initialized networkd settings by reading plist directly",
            "2024-12-12 21:45:11.760930+0100 0x78e2     Default     0x0                  1619   0    kernel: (AppleACPIPlatform) ACPI: sleep",
            "--------------------------------------------------------------------------------------------------------------------",
        ]
    )
    assert parsed.records["kind"].to_list() == [
        "preamble",
        "preamble",
        "function_note",
        "other",
        "trailer",
    ]
    assert parsed.events().collect()["kind"].to_list() == ["function_note"]
    assert parsed.events(keep_other=True).collect()["kind"].to_list() == ["function_note", "other"]
    assert set(parsed.events().collect()["kind"].cast(pl.String)) <= set(NETWORK_KINDS)
