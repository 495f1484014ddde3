"""The grammars load, and the compiled column-wise patterns parse exactly as Lark does."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logflow.errors import GrammarLoadError
from logflow.reading import grammar
from logflow.schema import CFNETWORK_KINDS, NETWORK_KINDS

from conftest import SAMPLES, corpus_body, corpus_files, sample_files

GRAMMARS = ("envelope", "message", "endpoint", "path", "summary")
# Text built from the grammars' own punctuation and fragments of real lines, foreign digits too.
PIECES = st.lists(
    st.sampled_from(
        [*'[]() :.#<->@\t/|"CLx0123456789abf_-,٣']
        + ["nw_a ", "[C1", ":2]", " ready ", " event: ", "flow:x", " @0.1s", "Task <", "> "]
        + ["Connection 1: ", "0x1f", "Type: ", "Duration: 1.0s", ", TLS took 0.1s", "IPv6#a.443"]
    ),
    max_size=25,
).map("".join)


def compiled_rows(name: str, texts: list[str | None]) -> list[dict]:
    """Parse texts with the compiled pattern, as the pipeline does."""
    frame = pl.LazyFrame({"text": texts}, schema={"text": pl.String})
    parsed = grammar.load(name).extract(frame, pl.col("text"), into="parsed")
    rows = parsed.select("parsed").unnest("parsed").collect().to_dicts()
    return [row if row["kind"] is not None else None for row in rows]


def real_lines() -> list[str]:
    lines = [line for path in corpus_files() for line in corpus_body(path)]
    for path in sample_files():
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    return lines


def texts_for(name: str) -> list[str]:
    """Every text the pipeline hands to grammar ``name``, from the real corpus and the samples."""
    lines = real_lines()
    if name in ("envelope", "summary"):
        return lines
    messages = distinct(row["message"] for row in compiled_rows("envelope", lines) if row)
    if name == "message":
        return messages
    # endpoint.lark and path.lark parse the ENDPOINT and PATH a message carries.
    return distinct(row[name] for row in compiled_rows("message", messages) if row)


def distinct(values) -> list[str]:
    return sorted({v for v in values if v is not None})


@pytest.mark.parametrize("name", GRAMMARS)
def test_grammar_loads(name: str) -> None:
    """Each grammar builds a Lark parser and a pattern Polars accepts."""
    compiled = grammar.load(name)
    assert compiled.kinds
    assert compiled.lark.parse is not None  # Lark refuses some terminals (zero-width ones)
    compiled_rows(name, ["x"])


@pytest.mark.parametrize("name", GRAMMARS)
def test_compiled_pattern_agrees_with_lark_on_real_text(name: str) -> None:
    """On every real line (and every message, endpoint, path in them) both parsers agree."""
    texts = texts_for(name)
    compiled = grammar.load(name)
    disagreements = [
        (text, row, lark)
        for text, row in zip(texts, compiled_rows(name, texts), strict=True)
        if (lark := compiled.parse_with_lark(text)) != row
    ]
    assert disagreements == []


@settings(max_examples=150, deadline=None)
@given(PIECES)
@pytest.mark.parametrize("name", GRAMMARS)
def test_compiled_pattern_agrees_with_lark_on_arbitrary_text(name: str, text: str) -> None:
    """On generated text the two parsers still agree."""
    assert compiled_rows(name, [text]) == [grammar.load(name).parse_with_lark(text)]


def test_message_shapes_are_the_schema_kinds() -> None:
    """Every message shape is a kind of the events table, and every such kind a shape."""
    assert set(grammar.load("message").kinds) == {*NETWORK_KINDS, *CFNETWORK_KINDS}


def test_recursive_rule_is_refused() -> None:
    """A grammar that is not regular cannot become a pattern, and says which rule is to blame."""
    source = 'start: nested\nnested: "(" nested ")" | "x"\n'
    with pytest.raises(GrammarLoadError, match="'nested' is recursive"):
        grammar.compile_grammar(source, "nested")


def test_repeat_compiles_to_a_loop() -> None:
    """``x*`` becomes a regex repeat that takes any number of items, as Lark does."""
    compiled = grammar.compile_grammar(
        'start: items\nitems: ITEM ("," ITEM)*\nITEM: /[a-z]+/\n', "t"
    )
    assert compiled.parse_with_lark("a,bb,ccc") is not None
    frame = pl.LazyFrame({"t": ["a,bb,ccc", "a,,b"]})
    parsed = compiled.extract(frame, pl.col("t"), into="p").select("p").unnest("p").collect()
    assert parsed["kind"].to_list() == ["items", None]


SHARED_START = r"""
start: tail
tail: "[" KEY "]" _change?
_change: " " EVENT | " " WORD | _ADDING ENDPOINT | "x" WORD
_ADDING: / Adding for /
KEY: /[A-Z]+/
EVENT: /[A-Z][a-z]+ up/
WORD: /[a-z]+/
ENDPOINT: /[^ ]+/
"""


def test_alternatives_with_a_shared_start_spell_it_once() -> None:
    """Neighbouring alternatives that start with the same literal text have it written once
    (the pattern then never offers two ways forward on one character, so the fast capture
    engine runs), and still match as Lark does, in Lark's order of preference."""
    compiled = grammar.compile_grammar(SHARED_START, "t")
    [shape] = compiled.shapes
    # The space, written once before the three alternatives that start with one; "x" apart.
    assert r"(?:\ (?:(?P<EVENT__1>" in shape.pattern
    texts = ["[A] Link up", "[A] link", "[A] Adding for h:1", "[A]xword", "[A] ", "[A]"]
    frame = pl.LazyFrame({"t": texts})
    rows = compiled.extract(frame, pl.col("t"), into="p").select("p").unnest("p").collect()
    by_lark = [compiled.parse_with_lark(text) for text in texts]
    assert [row if row["kind"] else None for row in rows.to_dicts()] == by_lark
    assert [row and row["word"] for row in by_lark] == [None, "link", None, "word", None, None]


FREE_TEXT_IN_A_BRANCH = """
start: note | word
note: "A" | "B" NOTE?
word: WORD
NOTE: /.+/
WORD: /[a-z]+/
"""


@pytest.mark.parametrize("test_first", [True, False])
def test_free_text_inside_one_branch_still_tells_the_shape(test_first: bool) -> None:
    """Where free text ends only one branch of a shape, texts of the other branch have the shape
    too, whether the texts are tested first or the captures alone tell the shape."""
    note = grammar.compile_grammar(FREE_TEXT_IN_A_BRANCH, "t").shapes[0]
    texts = ["A", "Bxyz", "B", "Ax", "abc"]
    lines = pl.DataFrame({grammar.ROW: range(len(texts)), "text": texts})
    taken, rest = note.take(lines.cast({grammar.ROW: pl.UInt32}), test_first=test_first)
    assert taken[grammar.ROW].to_list() == [0, 1, 2]
    assert taken["note"].to_list() == [None, "xyz", None]
    assert rest["text"].to_list() == ["Ax", "abc"]


def test_shapes_the_first_texts_lack_are_still_found() -> None:
    """Which shapes to try alone is guessed from the first texts, then from the call before;
    a guess never loses a text of another shape, wherever it stands."""
    compiled = grammar.load("message")
    handler = "[C1 h:443 ready socket-flow (satisfied)] event: flow:connected @0.1s"
    task = "Task <0A1B2C3D-0A1B-0A1B-0A1B-0A1B2C3D4E5F>.<1> resuming"
    for texts in ([handler] * 400 + [task], [task] * 400 + [handler], [handler, task] * 3):
        kinds = compiled.match(pl.Series(texts)).struct.field("kind").to_list()
        expected = ["handler_event" if t == handler else "cfnetwork_task" for t in texts]
        assert kinds == expected


@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_extract_on_no_rows_gives_no_rows(engine: str) -> None:
    """An empty column (a chunk with no messages of a kind) extracts to an empty struct."""
    frame = pl.LazyFrame({"text": []}, schema={"text": pl.String})
    out = grammar.load("message").extract(frame, pl.col("text"), into="m").collect(engine=engine)
    assert out.height == 0
    assert out.schema["m"] == grammar.load("message").dtype


# ---- Finding a shape inside a text: the message-first reading -------------------------------

NETWORK_MESSAGE = [kind for kind in grammar.load("message").kinds if kind != "unknown"]
PREFIX = grammar.load("envelope", "prefix")
# What real pastes put before a message, and what they do not (no function, no id).
JUNK = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="[_<\n\r"
    ),
    max_size=30,
)


def found(name: str, texts: list[str | None], kinds, top: str = "start") -> list[str | None]:
    frame = pl.LazyFrame({"text": texts}, schema={"text": pl.String})
    lead = grammar.load(name, top).find(pl.col("text"), kinds)
    return frame.select(lead).collect().to_series().to_list()


def lines_to_search() -> list[str]:
    """Real lines where a message is found inside, or that name a connection, and a sample of
    the rest (Lark tries every word of a line that holds none, a few hundredths of a second)."""
    lines = distinct(real_lines())
    leads = found("message", lines, NETWORK_MESSAGE)
    return [
        line
        for k, (line, lead) in enumerate(zip(lines, leads, strict=True))
        if lead or "[C" in line or k % 16 == 0
    ]


def test_finding_the_message_agrees_with_lark_on_real_lines() -> None:
    """Where a Network message starts in a real line, the compiled pattern and Lark agree."""
    lines = lines_to_search()
    compiled = grammar.load("message")
    disagreements = [
        (line, lead, lark)
        for line, lead in zip(lines, found("message", lines, NETWORK_MESSAGE), strict=True)
        if (lark := _lead(compiled.find_with_lark(line, NETWORK_MESSAGE))) != lead
    ]
    assert disagreements == []
    assert sum(1 for lead in found("message", lines, NETWORK_MESSAGE) if lead) > 10


def _lead(result: tuple[str, dict] | None) -> str | None:
    return None if result is None else result[0]


@settings(max_examples=150, deadline=None)
@given(JUNK, PIECES)
def test_finding_the_message_agrees_with_lark_on_arbitrary_text(junk: str, text: str) -> None:
    """On generated text behind generated junk, the two find the message at the same place."""
    line = f"{junk} {text}"
    lark = grammar.load("message").find_with_lark(line, NETWORK_MESSAGE)
    assert found("message", [line], NETWORK_MESSAGE) == [_lead(lark)]


def prefix_fields(texts: list[str]) -> list[dict | None]:
    """The fields the prefix rule reads, after the junk before them, compiled."""
    frame = pl.LazyFrame({"text": texts}, schema={"text": pl.String})
    junk = PREFIX.find(pl.col("text"), PREFIX.kinds)
    rest = pl.col("text").str.slice(junk.str.len_chars())
    parsed = PREFIX.extract(frame.with_columns(junk=junk), rest, into="p")
    rows = parsed.select("junk", "p").unnest("p").collect().to_dicts()
    return rows


def prefix_fields_with_lark(text: str) -> dict | None:
    junk, row = PREFIX.find_with_lark(text, PREFIX.kinds)
    return {"junk": junk, **row}


def test_reading_a_prefix_agrees_with_lark_on_real_prefixes() -> None:
    """What stands before the message in real lines reads the same with Lark and compiled."""
    lines = lines_to_search()
    leads = distinct(found("message", lines, NETWORK_MESSAGE))[::3]
    variants = [
        *leads,
        *(f"Line 3: 2024-12-12T21:45:11.830Z DEFAULT {lead}" for lead in leads[::8]),
    ]
    rows = prefix_fields(variants)
    assert [prefix_fields_with_lark(text) for text in variants] == rows


@settings(max_examples=150, deadline=None)
@given(
    JUNK,
    st.sampled_from(
        [
            "2024-12-12 21:45:11.830877+0100 ",
            "21:45:11.830 ",
            "Oct 11 09:21:10 ",
            "2019-07-21T19:57:30.042Z ",
        ]
    ),
    st.sampled_from(["", "Default ", "df ", "E ", "<Notice>: ", "NOTICE "]),
    st.sampled_from(["", "App[12:0x1a] ", "My App(Network)[2146] ", "banshee: ", "App[7]: "]),
    st.sampled_from(["", "(Network) ", "[com.apple.network:connection] ", "[BoringSSL] ", "[] "]),
)
def test_reading_a_prefix_agrees_with_lark_on_generated_prefixes(
    junk: str, stamp: str, level: str, process: str, source: str
) -> None:
    """Generated prefixes, junk first, read the same with Lark and compiled."""
    text = f"{junk} {stamp}{level}{process}{source}"
    assert prefix_fields([text]) == [prefix_fields_with_lark(text)]


def test_csv_records_read_the_same_with_lark() -> None:
    """Every record of unifiedlog_iterator's CSV sample, its quoted lines included, gives the
    same fields with Lark as with the compiled pattern."""
    import csv
    import io

    text = (SAMPLES / "unifiedlog-iterator.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    records = [",".join(_csv_field(field) for field in row) for row in rows]
    compiled = grammar.load("envelope", "csv_record")
    frame = pl.LazyFrame({"text": records})
    got = compiled.extract(frame, pl.col("text"), into="r").select("r").unnest("r").collect()
    assert got.to_dicts() == [compiled.parse_with_lark(record) for record in records]
    assert got["kind"].null_count() == 0


def _csv_field(field: str) -> str:
    """A field as the csv crate writes it: quoted where it must be, quotes doubled."""
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field
