"""`logflow export` in each format, and the folders it writes: never read back as logs."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from logflow.cli import cli
from logflow.outputs.export import FORMATS
from logflow.pipeline import TABLE_NAMES

from conftest import SAMPLES

RACE = SAMPLES / "logshow-default-race.log"
TABLES = ("events", *TABLE_NAMES)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every sample exported once in each format: the folders by format."""
    folders = {}
    for format in FORMATS:
        out = tmp_path_factory.mktemp(format)
        result = CliRunner().invoke(
            cli, ["export", str(SAMPLES), "-o", str(out), "--format", format]
        )
        assert result.exit_code == 0, result.output
        folders[format] = out
    return folders


@pytest.mark.parametrize("table", TABLES)
def test_ndjson_holds_what_parquet_holds(exported: dict[str, Path], table: str) -> None:
    parquet = pl.read_parquet(exported["parquet"] / f"{table}.parquet")
    ndjson = pl.read_ndjson(exported["ndjson"] / f"{table}.ndjson", schema=parquet.schema)
    assert ndjson.equals(parquet, null_equal=True)


@pytest.mark.parametrize("table", TABLES)
def test_csv_holds_what_parquet_holds_nested_values_as_json(
    exported: dict[str, Path], table: str
) -> None:
    parquet = pl.read_parquet(exported["parquet"] / f"{table}.parquet")
    csv = pl.read_csv(exported["csv"] / f"{table}.csv", infer_schema=False)
    assert csv.columns == parquet.columns and csv.height == parquet.height
    for name, dtype in parquet.schema.items():
        if dtype.is_nested():
            # A list or struct is its JSON text; a null an empty cell.
            decoded = [json.loads(v) if v is not None else None for v in csv[name]]
            assert decoded == parquet[name].to_list(), name
        elif dtype == pl.Datetime("us", "UTC"):
            read = csv[name].str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC")
            assert read.equals(parquet[name], null_equal=True), name
        else:
            assert csv[name].equals(parquet[name].cast(pl.String), null_equal=True), name


def test_races_children_read_back_as_lists(exported: dict[str, Path]) -> None:
    races = pl.read_csv(exported["csv"] / "races.csv").filter(pl.col("parent_id") == "C8.1")
    assert json.loads(races["children"][0]) == ["C8.1.1", "C8.1.2"]


def test_an_export_folder_is_marked_and_never_read_as_logs(
    exported: dict[str, Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    for format, folder in exported.items():
        assert json.loads((folder / ".logflow-output").read_text())["written_by"] == "logflow"
        result = runner.invoke(cli, ["summary", str(folder)])
        assert result.exit_code == 1, format
        assert "a folder logflow wrote (.logflow-output says so), not logs" in result.stderr
    # Beside the logs it was made from, an export is skipped, and says so.
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / RACE.name).write_text(RACE.read_text())
    runner.invoke(cli, ["export", str(logs), "-o", str(logs / "out"), "--format", "csv"])
    result = runner.invoke(cli, ["export", str(logs), "-o", str(tmp_path / "again"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["files"] == 1
    assert report["skipped"] == [
        {"path": str(logs / "out"), "reason": "logflow's own output, not logs"}
    ]


def test_a_failed_export_into_a_folder_that_was_there_changes_nothing(tmp_path: Path) -> None:
    """Not even the marker: the folder may be one of logs."""
    (tmp_path / "notes.log").write_text("a log of mine\n")
    missing = tmp_path / "missing.log"
    result = CliRunner().invoke(cli, ["export", str(missing), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert [p.name for p in tmp_path.iterdir()] == ["notes.log"]


@pytest.mark.parametrize("table", TABLES)
def test_every_parquet_column_says_what_it_is_and_the_file_what_wrote_it(
    exported: dict[str, Path], table: str
) -> None:
    import pyarrow.parquet as pq

    from logflow import schema

    path = exported["parquet"] / f"{table}.parquet"
    fields = pq.read_schema(path)
    for field in fields:
        assert field.metadata[b"description"].decode() == schema.DESCRIPTIONS[table][field.name]
    about = {k.decode(): v.decode() for k, v in pq.read_metadata(path).metadata.items()}
    assert about["logflow.table"] == table
    assert about["logflow.schema_version"] == str(schema.SCHEMA_VERSION)
    assert about["logflow.version"] == importlib.metadata.version("logflow")
    sources = json.loads(about["logflow.sources"])
    assert sources and all(source.startswith(str(SAMPLES)) for source in sources)
    assert json.loads(about["logflow.report"])["lines_read"] > 0


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_reads_every_table_with_its_types(exported: dict[str, Path], table: str) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = exported["parquet"] / f"{table}.parquet"
    parquet = pl.read_parquet(path)
    described = duckdb.sql(f"describe select * from '{path}'").fetchall()
    types = {name: kind for name, kind, *_ in described}
    assert list(types) == parquet.columns
    for name, dtype in parquet.schema.items():
        if isinstance(dtype, pl.Enum):  # a dictionary column: its values, as text
            assert types[name] == "VARCHAR", name
        elif dtype == pl.Datetime("us", "UTC"):
            assert types[name] == "TIMESTAMP WITH TIME ZONE", name
    ((rows,),) = duckdb.sql(f"select count(*) from '{path}'").fetchall()
    assert rows == parquet.height
