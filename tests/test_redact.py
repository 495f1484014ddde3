"""Redaction keeps every answer (issue 15): a redacted log parses into the same records,
trees, races, proxy failures and path changes as the original, up to the pseudonyms; the
pseudonyms are stable with a key; the mapping turns them back; and --redact gives the
commands' output the same pseudonyms. (What no identifier survives is test_redact_leaks.)"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from logflow.cli import cli
from logflow.pipeline import TABLE_NAMES, parse
from logflow.reading.inputs import Block
from logflow.reading.redact import Redactor, read_mapping, reveal

from conftest import corpus_files, sample_files

SAMPLES = Path(__file__).parent.parent / "sample_logs"
RACE = SAMPLES / "logshow-default-race.log"
FAILURES = SAMPLES / "logshow-failures-and-losses.log"
# Endpoints that are no one's: loopback, the unspecified address, Apple's own <private>.
NO_ONES = re.compile(r"^(?:127\.|::1\b|localhost\b|0\.0\.0\.0|::[.:]|<private>)")


@pytest.fixture(scope="module")
def parsed_both() -> tuple[Redactor, object, object]:
    """Every sample and real paste parsed as it is, and redacted with one key."""
    files = [*sample_files(), *corpus_files()]
    redactor = Redactor.with_key("test key")
    return redactor, parse(files), parse(files, redact=redactor)


def test_the_redacted_logs_give_the_same_records_and_tables(parsed_both) -> None:
    """Every record (kind, lines, fields) and every table is the original's with its
    identifiers replaced by the same pseudonyms: no answer changes."""
    redactor, original, redacted = parsed_both
    assert redacted.kind_counts == original.kind_counts
    assert_frame_equal(redacted.records, redactor.frame(original.records))
    for name in TABLE_NAMES:
        table = original.table(name).collect()
        assert table.height, f"no {name} in the samples: the test would prove nothing"
        assert_frame_equal(redacted.table(name).collect(), redactor.frame(table), check_exact=True)


def test_the_redacted_tables_hold_none_of_the_original_hosts_and_addresses(parsed_both) -> None:
    """The hosts and endpoints of the connections are all pseudonyms."""
    _, original, redacted = parsed_both
    before = original.table("connections").collect()
    after = redacted.table("connections").collect()
    for column in ("host", "endpoint"):
        kept = set(before[column].drop_nulls()) & set(after[column].drop_nulls())
        assert not {v for v in kept if not NO_ONES.match(v)}


def test_a_key_gives_the_same_pseudonyms_and_no_key_new_ones() -> None:
    lines = pl.Series(RACE.read_text(encoding="utf-8").splitlines())
    keyed = [Redactor.with_key("k").lines(lines) for _ in range(2)]
    random = [Redactor.with_key(None).lines(lines) for _ in range(2)]
    assert keyed[0].equals(keyed[1])
    assert not random[0].equals(random[1])
    assert not keyed[0].equals(Redactor.with_key("another").lines(lines))
    assert random[0].len() == lines.len()


@pytest.mark.parametrize(
    ("original", "kept"),
    [
        ("192.168.1.20", "192.168."),
        ("10.20.30.40", "10."),
        ("169.254.7.1", "169.254."),
        ("8.8.8.8", "198.1"),
        ("fe80::1c2b:3a4d", "fe80::"),
        ("fd12:3456::1", "fd"),
        ("2607:f8b0:4020:802::200e", "2001:db8:"),
    ],
)
def test_an_address_keeps_its_family_and_class(original: str, kept: str) -> None:
    """Private stays private (in its own block), link-local link-local; any other address
    becomes one of the ranges set aside for documentation and benchmarks."""
    line = f"[C1 {original}:443 tcp] connected"
    redacted = Redactor.with_key("k").text(line)
    pseudonym = redacted.split()[1].rsplit(":", 1)[0]
    assert pseudonym != original and pseudonym.startswith(kept)


def test_what_is_no_ones_is_kept() -> None:
    """Loopback, the unspecified address, connection ids, states, Apple's names stay."""
    line = (
        "2025-03-14 10:32:35.730305+0100 0x1c4a2 Default 0x0 2317 0 nsurlsessiond: (Network) "
        "[com.apple.network:connection] [C8.1.1 127.0.0.1:8080 ::1.443 0.0.0.0:0] ready"
    )
    assert Redactor.with_key("k").text(line) == line


def test_the_mapping_turns_the_answers_back(tmp_path: Path) -> None:
    """`redact --mapping` writes a file only its owner reads; with it the redacted
    connections table reads as the original's."""
    out, mapping = tmp_path / "out", tmp_path / "private" / "mapping.json"
    argv = ["redact", str(RACE), "-o", str(out), "--mapping", str(mapping)]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(mapping.stat().st_mode) == 0o600
    pairs = read_mapping(mapping)
    assert pairs and {"kind", "original", "pseudonym"} <= set(pairs[0])
    original = parse(RACE).table("connections").collect()
    redacted = parse(out / RACE.name).table("connections").collect()
    for column in ("host", "endpoint", "process"):
        assert reveal(redacted[column], pairs).equals(original[column]), column


def test_no_mapping_is_written_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["redact", str(RACE), str(FAILURES), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([RACE.name, FAILURES.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    lines = sum(len(log.read_text(encoding="utf-8").splitlines()) for log in (RACE, FAILURES))
    assert result.output.startswith(f"Redacted {lines} lines of 2 files into {out}")


def test_redact_never_overwrites_its_input(tmp_path: Path) -> None:
    log = tmp_path / "net.log"
    log.write_bytes(RACE.read_bytes())
    result = CliRunner().invoke(cli, ["redact", str(log), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "would overwrite the log it redacts" in result.stderr
    assert log.read_bytes() == RACE.read_bytes()


def test_summary_and_tree_with_redact_show_pseudonyms(tmp_path: Path) -> None:
    """--redact on a command: its output is that of the redacted log, the same pseudonyms
    with the same key; --mapping writes what they stand for."""
    runner = CliRunner()
    out = tmp_path / "out"
    assert (
        runner.invoke(cli, ["redact", str(FAILURES), "-o", str(out), "--key", "k"]).exit_code == 0
    )
    for command in (["summary", "--json"], ["tree", "--json"]):
        direct = runner.invoke(cli, [*command, str(FAILURES), "--redact", "--key", "k"])
        assert direct.exit_code == 0, direct.output
        of_redacted = runner.invoke(cli, [*command, str(out / FAILURES.name)])
        plain = runner.invoke(cli, [*command, str(FAILURES)])
        assert direct.output.replace(str(FAILURES), "") == of_redacted.output.replace(
            str(out / FAILURES.name), ""
        )
        assert direct.output != plain.output
    mapping = tmp_path / "m.json"
    argv = ["summary", str(FAILURES), "--redact", "--mapping", str(mapping)]
    assert runner.invoke(cli, argv).exit_code == 0
    assert json.loads(mapping.read_text(encoding="utf-8"))["pseudonyms"]


def test_export_with_redact_writes_pseudonyms(tmp_path: Path) -> None:
    out = tmp_path / "tables"
    argv = ["export", str(RACE), "-o", str(out), "--redact", "--key", "k"]
    assert CliRunner().invoke(cli, argv).exit_code == 0
    hosts = set(pl.read_parquet(out / "connections.parquet")["host"].drop_nulls())
    original = set(parse(RACE).table("connections").collect()["host"].drop_nulls())
    assert hosts and not hosts & original


def test_key_without_redact_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["summary", str(RACE), "--key", "k"])
    assert result.exit_code == 2
    assert "--key and --mapping go with --redact" in result.stderr


def test_lines_that_may_hold_a_secret_are_listed(tmp_path: Path) -> None:
    """A token no pattern knows is listed with its file and line, to look at before posting."""
    log = tmp_path / "net.log"
    secret = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abc"
    log.write_text(RACE.read_text(encoding="utf-8") + secret + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["redact", str(log), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    (found,) = [c for c in json.loads(result.output)["to_check"] if c["why"] == "names a secret"]
    assert found["file"] == "net.log"
    assert found["line"] == len(RACE.read_text(encoding="utf-8").splitlines()) + 1


@pytest.mark.parametrize(
    ("line", "gone", "pseudonym"),
    [
        ('wifid: joined SSID "Alice Home" on en0', "Alice Home", 'SSID "wifi'),
        ("mail to bob.smith@example.org failed", "bob.smith", "user-"),
        ("GET https://api.example.com:8443/v1/users?id=42", "/v1/users", ":8443/path-"),
        ("[C2 'c0 a8 01 14'.443 tcp] ready", "'c0 a8 01 14'", "'c0 a8 "),
        (
            "Jun  3 09:14:02 Alices-iPhone Mail(Network)[1207] <Notice>: [C1] start",
            "Alices",
            "device",
        ),
    ],
)
def test_the_rarer_identifiers_become_pseudonyms(line: str, gone: str, pseudonym: str) -> None:
    """A Wi-Fi name, an e-mail address, a URL's path and query (its port kept), an address
    printed as its bytes (a private one stays private), a device-relay row's device."""
    redacted = Redactor.with_key("k").block(Block("x.log", 1, pl.Series([line]))).lines[0]
    assert gone not in redacted and pseudonym in redacted, redacted
