"""The Parquet contract: every column of every table logflow writes is in logflow/schema.py,
with its type and its description, and docs/schema.md is generated from it."""

from __future__ import annotations

import re

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from logflow import schema
from logflow.analysis import tree
from logflow.pipeline import Parsed, parse, parse_texts
from logflow.reading.inputs import Text
from logflow.schema import (
    DESCRIPTIONS,
    SCHEMAS,
    TABLES,
    described_schema,
    parquet_metadata,
    parquet_schema,
    schema_markdown,
)

from conftest import ROOT, SAMPLES, sample_files

SPILLED = (
    "logshow-default-race.log",
    "console-copy.tsv.log",
    "console-network-change.tsv.log",
    "logshow-server-listener.log",
    "console-client-local-race.tsv.log",
)


@pytest.fixture(scope="module")
def samples() -> Parsed:
    """Every bundled sample at once, other subsystems' records kept: every kind of row."""
    return parse(sample_files(), keep_other=True)


@pytest.fixture(scope="module")
def spilled() -> Parsed:
    """Samples that give every table rows, their trees built in batches from files on disk,
    as a big export's are."""
    return parse([SAMPLES / name for name in SPILLED], keep_other=True, spill_rows=50)


def table(parsed: Parsed, name: str) -> pl.LazyFrame:
    return parsed.events(keep_other=True) if name == "events" else parsed.table(name)


def flat_names(dtypes: dict[str, pl.DataType]) -> list[str]:
    """Column names, a struct's fields as `column.field`."""
    names = []
    for name, dtype in dtypes.items():
        names.append(name)
        if isinstance(dtype, pl.Struct):
            names.extend(f"{name}.{field.name}" for field in dtype.fields)
    return names


def one_line(line: str) -> Parsed:
    return parse_texts([Text("pasted.log", line + "\n", 0)])


def test_the_tables_are_the_pipelines() -> None:
    assert TABLES == (
        "events",
        "connections",
        "races",
        "proxy_failures",
        "path_changes",
        "listeners",
    )
    assert SCHEMAS["events"] is schema.EVENT_SCHEMA


@pytest.mark.parametrize("name", TABLES)
def test_every_table_has_the_documented_columns_and_types(samples, spilled, name) -> None:
    """Column for column, in order, with its type: on the samples, where the trees are built
    in batches (spilled), and where the input gives the table no row."""
    empty = one_line("hello")
    for parsed in (samples, spilled, empty):
        assert table(parsed, name).collect_schema() == pl.Schema(SCHEMAS[name])
    assert table(spilled, name).collect().height > 0, "the samples should give this table rows"


@pytest.mark.parametrize("name", TABLES)
def test_every_column_is_described_and_no_description_names_another(samples, name) -> None:
    """The descriptions are exactly the columns the pipeline produces, struct fields too."""
    produced = flat_names(dict(table(samples, name).collect_schema()))
    assert list(DESCRIPTIONS[name]) == produced


@pytest.mark.parametrize("name", TABLES)
def test_descriptions_are_sentences(name) -> None:
    for column, text in DESCRIPTIONS[name].items():
        assert text.strip() == text and "\n" not in text, column
        assert text[0].isupper() or text[0] in "`0123456789", column
        assert text.endswith("."), column
        assert len(text) <= 420, f"{name}.{column}: one or two sentences, please"


def test_closed_sets_are_enums() -> None:
    connections, races, events = SCHEMAS["connections"], SCHEMAS["races"], SCHEMAS["events"]
    assert connections["outcome"] == pl.Enum(list(schema.OUTCOMES))
    assert SCHEMAS["proxy_failures"]["fallback_outcome"] == schema.Outcome
    assert connections["client_attempt"].to_schema()["outcome"] == schema.Outcome
    assert races["outcome"] == pl.Enum(["won", "all-failed", "undecided"])
    assert list(schema.RACE_OUTCOMES) == ["won", "all-failed", "undecided"]
    for dtypes in (events, connections):
        assert dtypes["transport"] == pl.Enum(["tcp", "udp", "quic"])
    assert connections["requested_transport"] == schema.Transport
    assert connections["family"] == pl.Enum(["ipv4", "ipv6", "name"])
    assert races["families"] == pl.List(schema.Family)
    assert (events["kind"], events["envelope"]) == (schema.Kind, schema.Envelope)
    # Open sets stay strings, their known values in their descriptions.
    for name in ("level", "state", "mode", "path_status"):
        assert events[name] == pl.String
    assert SCHEMAS["path_changes"]["change"] == pl.String


def test_the_trees_use_the_schemas_outcomes() -> None:
    assert tree.OUTCOMES is schema.OUTCOMES
    assert tree.Outcome == schema.Outcome


def test_every_transport_the_grammar_reads_is_in_the_enum() -> None:
    """message.lark's TRANSPORT, each spelling on a connection line, lands in the enum
    (a value outside it would be cast to null without a word)."""
    grammar = (ROOT / "grammars" / "message.lark").read_text(encoding="utf-8")
    (alternatives,) = re.findall(r"^TRANSPORT: /(.+)/$", grammar, flags=re.MULTILINE)
    expected = {"tcp": "tcp", "udp": "udp", "quic": "quic", "stream": "tcp"}
    expected["quic-connection"] = "quic"
    assert set(alternatives.split("|")) == set(expected)
    for spelling, transport in expected.items():
        line = (
            "[C8 6F1D2A40-93B7-4C1E-8A52-0D7E4F3B9C61 Hostname#5c1e07a3:443 "
            f"{spelling}, url hash: 3b9e41c7, tls, definite, attribution: developer] start"
        )
        events = one_line(line).events().collect()
        assert events["transport"].to_list() == [transport], spelling
    connected = (
        "nw_flow_connected [C8.1.1 IPv6#a0c4f19e.443 in_progress socket-flow (satisfied (Path "
        "is satisfied), viable, interface: en0[802.11], ipv6, dns, uses wifi)] Transport "
        "protocol connected (udp)"
    )
    assert one_line(connected).events().collect()["transport"].to_list() == ["udp"]


def test_path_changes_are_the_documented_kinds(samples) -> None:
    """`change` is one of the kinds, or kinds of flag joined by ", "."""
    known = set(schema.PATH_CHANGES) | set(schema.PATH_FLAG_CHANGES)
    changes = samples.table("path_changes").collect()["change"].unique().to_list()
    assert changes
    for change in changes:
        assert set(change.split(", ")) <= known, change
    for kind in known:
        assert f"`{kind}`" in DESCRIPTIONS["path_changes"]["change"]


def test_race_outcomes_are_the_documented_ones(samples) -> None:
    outcomes = samples.table("races").collect()["outcome"]
    assert outcomes.dtype == schema.RaceOutcome
    assert set(outcomes.cast(pl.String)) <= set(schema.RACE_OUTCOMES)


def test_described_schema_attaches_the_descriptions() -> None:
    described = parquet_schema("events")
    for field in described:
        assert field.metadata[b"description"].decode() == DESCRIPTIONS["events"][field.name]
    summary = described.field("summary").type
    leaf = summary.field(summary.get_field_index("leaf_id"))
    assert leaf.metadata[b"description"].decode() == DESCRIPTIONS["events"]["summary.leaf_id"]
    # Polars' own metadata (an enum's categories) stays beside it.
    assert b"_PL_ENUM_VALUES2" in described.field("kind").metadata
    assert described.metadata[b"logflow.schema_version"] == str(schema.SCHEMA_VERSION).encode()
    assert parquet_metadata("races") == {
        "logflow.table": "races",
        "logflow.schema_version": str(schema.SCHEMA_VERSION),
    }


def test_described_schema_refuses_an_undescribed_column() -> None:
    arrow = pl.Schema(SCHEMAS["listeners"]).to_arrow()
    with pytest.raises(ValueError, match="listeners: no description for shiny"):
        described_schema("listeners", arrow.append(pa.field("shiny", pa.int64())))
    attempt = pa.struct([pa.field("conn_id", pa.string()), pa.field("colour", pa.string())])
    with pytest.raises(ValueError, match=r"client_attempt\.colour"):
        described_schema("connections", pa.schema([pa.field("client_attempt", attempt)]))
    with pytest.raises(ValueError, match="no table 'sessions'"):
        described_schema("sessions", arrow)


@pytest.mark.parametrize("name", TABLES)
def test_a_parquet_file_carries_the_descriptions(samples, name, tmp_path) -> None:
    """What export does: the table sunk with its described schema and metadata reads back the
    same in Polars, enums included, and with its descriptions in pyarrow."""
    frame = table(samples, name)
    path = tmp_path / f"{name}.parquet"
    frame.sink_parquet(
        path,
        arrow_schema=parquet_schema(name, frame.collect_schema()),
        metadata=parquet_metadata(name),
    )
    back = pl.read_parquet(path)
    assert back.schema == pl.Schema(SCHEMAS[name])
    assert back.equals(frame.collect())
    written = pq.read_schema(path)
    assert {f.name: f.metadata[b"description"].decode() for f in written} == {
        column: DESCRIPTIONS[name][column] for column in SCHEMAS[name]
    }
    assert pq.ParquetFile(path).metadata.metadata[b"logflow.table"] == name.encode()


def test_schema_page_is_generated_from_the_module() -> None:
    page = ROOT / schema.SCHEMA_PAGE
    assert page.read_text(encoding="utf-8") == schema_markdown(), (
        f"{schema.SCHEMA_PAGE} differs from logflow/schema.py: run `{schema.MAKE_PAGE}`"
    )


def test_schema_page_shows_every_column_with_its_type() -> None:
    page = schema_markdown()
    for name in TABLES:
        section = page.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        for column, dtype in SCHEMAS[name].items():
            shown = "Struct" if isinstance(dtype, pl.Struct) else str(dtype)
            assert f"| `{column}` | `{shown}` |" in section, (name, column)
    assert "| `undecided` |" in page and "| `also-ran` |" in page
