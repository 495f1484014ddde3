"""What `logflow redact` leaves of a log's identifiers: none, by patterns of our own.

Every corpus paste and every sample is redacted, and the hosts, addresses, hashed endpoints,
UUIDs, URL paths, user names, e-mail addresses, bundle ids and device names that the patterns
below find in the raw text must be gone from what was written. The patterns are this file's own
(not logflow's grammars), so a value the parser never extracts still counts.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from logflow.cli import cli

from conftest import CORPUS, CORPUS_HEADER, SAMPLES, corpus_files, needs_corpus, sample_files

INPUTS = corpus_files() + sample_files()
KEY = "leak-check"
# The file every folder logflow writes holds (see logflow.reading.inputs.OUTPUT_MARKER).
MARKER = ".logflow-output"
KINDS = (
    "host",
    "ipv4",
    "ipv6",
    "uuid",
    "url_path",
    "user",
    "email",
    "hashed_endpoint",
    "url_hash",
    "bundle",
    "device",
)

# --- The identifiers in a text, by our own patterns ---------------------------------------------

# Top-level domains a host name in a log ends with. Two-letter country codes that are also the
# extensions of source files logs name (main.py, SessionCore.mm, tls_record.cc, run.sh,
# README.md, lib.rs, libfoo.so, x.pl, x.pm, x.ps) are left out, and so is `invalid`, the test TLD.
GENERIC_TLDS = set(
    "com net org edu gov mil int info biz io co me dev app ai cloud tech online site xyz shop "
    "store tv page blog local lan internal arpa".split()
)
COUNTRY_TLDS = set(
    "ac ad ae af ag al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs "
    "bt bw by bz ca cd cf cg ch ci ck cl cm cn cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg "
    "er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk "
    "hm hn hr ht hu id ie il im in iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la "
    "lb lc li lk lr ls lt lu lv ly ma mc mg mh mk ml mn mo mp mq mr ms mt mu mv mw mx my mz na "
    "nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pn pr pt pw qa re ro ru rw sa sb sc "
    "sd se sg si sj sk sl sm sn sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt "
    "tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw".split()
)
TLDS = GENERIC_TLDS | COUNTRY_TLDS
# A name whose first label is one of these is a reverse-DNS id (com.apple.network,
# com.example.MyApp, io.flutter.x, dev.mobdev.netfixture), not a host.
REVERSE_DNS_FIRST = set(
    "com net org edu gov io co me dev app ai info biz tv uk de fr jp cn nl ru br ca ch se".split()
)
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# Lower-case TLD: Rocket.Chat and Network.NWError are names, not hosts.
HOST = re.compile(rf"(?<![\w.@%-])((?:{LABEL}\.)+([a-z]{{2,13}}))(?![\w-]|\.[A-Za-z0-9])")
# Not after a word character or a dot (C1.1.1.1 is a connection id, Nexy_v1.6.1.27 a version),
# nor after `word-` (boringssl-1.2.3.4); `<->10.0.1.200.57912` is an address and its port.
IPV4 = re.compile(r"(?<![\w.])(?<!\w-)((?:\d{1,3}\.){3}\d{1,3})(?![\w]|\.\d+\.)")
# Colon groups, then an embedded IPv4 tail or not; ipaddress decides what is an address, so
# 10:32:35.730 (three groups, no ::) and aa:bb:cc:dd:ee:ff (six groups) are not.
IPV6 = re.compile(
    r"(?<![\w:.])((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![0-9A-Za-z:])"
    r"((?:\.\d{1,3}){3}(?![\d.]))?"
)
# An address printed as its 16 bytes: '00 00 … 00 01'.8081
IPV6_BYTES = re.compile(r"'((?:[0-9a-fA-F]{2} ){15}[0-9a-fA-F]{2})'")
UUID = re.compile(r"(?<![\w-])([0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})(?![\w-])")
# macos-UnifiedLogs writes UUIDs as 32 upper-case hex digits without dashes.
BARE_UUID = re.compile(r"(?<![\w-])([0-9A-F]{32})(?![\w-])")
URL = re.compile(r"\b(?:https?|wss?)://[^/?#\s\"'<>,)\]}]+([/?][^\s\"'<>,)\]}]*)?")
USER = re.compile(r"/(?:Users|home)/([^/\s\"'<>,:;)\]}]+)")
# A shell prompt pasted with the log: `devzkndeMacBook-Pro:.git devzkn$ knlog ...`
PROMPT_USER = re.compile(r"^\S+:\S* ([\w.-]+)\$ ", re.MULTILINE)
NOT_USERS = {"Shared", "<private>", "<redacted>"}
EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+@(?:[A-Za-z0-9-]+\.)+[a-z]{2,13})(?![\w-])")
HASHED_ENDPOINT = re.compile(r"(?<!\w)((?:Hostname|IPv4|IPv6)#[0-9a-f]{8})(?![0-9a-f])")
URL_HASH = re.compile(r"\burl hash: ([0-9a-f]{6,})\b")
# Reverse-DNS ids of apps that are not Apple's, also inside runningboardd's
# `app<application.com.ledgerly.mac.41233516.41233522(501)>`.
BUNDLE = re.compile(
    r"(?:(?<=application\.)|(?<=group\.)|(?<![\w.-]))"
    r"((?:com|net|org|io|dev|app|co|me|de|uk)\.(?!apple\.)[A-Za-z0-9-]+(?:\.[A-Za-z0-9_-]+)+)"
)
# A device's own name: Sathishs-MacBook-Pro-4, devzkndeMacBook-Pro, Johns-iPhone (not the bare
# model name `iPhone` that device syslog prints for every phone).
DEVICE = re.compile(
    r"(?<![\w-])([A-Za-z0-9][\w'-]*?(?:MacBook|iMac|iPhone|iPad|Mac-mini|Mac-Pro|MacPro)"
    r"[\w-]*)(?![\w-])"
)
APPLE_MARKERS = {"<private>", "<redacted>"}


def found_identifiers(text: str) -> dict[str, set[str]]:
    """The identifiers in ``text`` by kind (every kind a key): what redaction must remove.

    Loopback and unspecified addresses, `localhost`, all-zero UUIDs, a URL path that is only `/`
    or Apple's `<private>`/`<redacted>`, and Apple's own `com.apple.*` ids are not identifiers.
    JSON's escaped `\\/` is read as `/`.
    """
    text = text.replace("\\/", "/")
    found: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for match in HOST.finditer(text):
        name, tld = match.group(1), match.group(2)
        start = match.start(1)
        in_path = text[start - 1 : start] == "/" and text[start - 2 : start] != "//"
        if tld not in TLDS or name.split(".")[0] in REVERSE_DNS_FIRST:
            continue
        # Console.app, /Applications/Tickerly.app and …/example.app/example are bundles;
        # upload.fieldnote.app is a host.
        if tld == "app" and (name != name.lower() or in_path):
            continue
        found["host"].add(name)
    for match in IPV4.finditer(text):
        octets = [int(part) for part in match.group(1).split(".")]
        if max(octets) <= 255 and octets[0] != 127 and octets != [0, 0, 0, 0]:
            found["ipv4"].add(match.group(1))
    for match in IPV6.finditer(text):
        value = match.group(1) + (match.group(2) or "")
        if _routable_ipv6(value):
            found["ipv6"].add(value)
        elif match.group(2) and _routable_ipv6(match.group(1)):
            found["ipv6"].add(match.group(1))
    for match in IPV6_BYTES.finditer(text):
        packed = bytes(int(byte, 16) for byte in match.group(1).split())
        if _routable_ipv6(str(ipaddress.IPv6Address(packed))):
            found["ipv6"].add(match.group(1))
    for pattern in (UUID, BARE_UUID):
        for match in pattern.finditer(text):
            if set(match.group(1)) - {"0", "-"}:
                found["uuid"].add(match.group(1))
    for match in URL.finditer(text):
        path = match.group(1)
        if path and path != "/" and path.strip("/") not in APPLE_MARKERS:
            found["url_path"].add(path)
    for pattern in (USER, PROMPT_USER):
        found["user"].update(m.group(1) for m in pattern.finditer(text))
    found["user"] -= NOT_USERS
    found["email"].update(m.group(1) for m in EMAIL.finditer(text))
    found["hashed_endpoint"].update(m.group(1) for m in HASHED_ENDPOINT.finditer(text))
    found["url_hash"].update(m.group(1) for m in URL_HASH.finditer(text))
    for match in BUNDLE.finditer(text):
        # com.ledgerly.mac.41233516.41233522: the app is com.ledgerly.mac.
        found["bundle"].add(re.sub(r"(\.\d+)+$", "", match.group(1)))
    found["device"].update(m.group(1) for m in DEVICE.finditer(text))
    return found


def _routable_ipv6(value: str) -> bool:
    """True for an IPv6 address that is not loopback (::1) or unspecified (::)."""
    try:
        address = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def survives(kind: str, value: str, text: str) -> bool:
    """Whether ``value`` (an identifier of ``kind``) is still in ``text``.

    User names and url hashes are short: they count as a whole word. Addresses count when no
    digit runs on (a pseudonym 10.0.1.170 does not leak 10.0.1.17). The rest count as substrings.
    """
    texts = {text, text.replace("\\/", "/")}
    if kind in ("user", "url_hash"):
        return any(_bounded(value, t) for t in texts)
    if kind == "ipv4":
        pattern = re.compile(rf"(?<!\d){re.escape(value)}(?!\d)")
        return any(pattern.search(t) for t in texts)
    if kind == "ipv6" and " " not in value:
        pattern = re.compile(rf"(?<![0-9A-Fa-f:]){re.escape(value)}(?![0-9A-Fa-f])")
        return any(pattern.search(t) for t in texts)
    return any(value in t for t in texts)


def _bounded(value: str, text: str) -> bool:
    """``value`` in ``text`` with no word character running on at either end."""
    before = r"(?<!\w)" if re.match(r"\w", value) else ""
    after = r"(?!\w)" if re.search(r"\w$", value) else ""
    return re.search(before + re.escape(value) + after, text) is not None


# --- What redaction keeps ----------------------------------------------------------------------

CONNECTION_ID = re.compile(r"\[([CL]\d+(?:\.\d+)*)[\s:\]]")
TIME_OF_DAY = re.compile(r"(?<![\w:.])\d{2}:\d{2}:\d{2}\.\d{3,9}(?!\d)")
ELAPSED = re.compile(r"@\d+\.\d{3}s\b")
APPLE_ID = re.compile(r"(?<![\w.-])com\.apple(?:\.[\w-]+)+")


def kept_tokens(line: str, identifiers: set[str]) -> list[str]:
    """What must stay in a redacted ``line``: its connection ids, times, Apple ids and markers.

    Any identifier found in the file is blanked first, so nothing inside one counts.
    """
    for value in sorted(identifiers, key=len, reverse=True):
        line = line.replace(value, " ")
    tokens = [m.group(1) for m in CONNECTION_ID.finditer(line)]
    tokens += TIME_OF_DAY.findall(line) + ELAPSED.findall(line) + APPLE_ID.findall(line)
    return tokens


# --- Running the command and reading what it wrote ---------------------------------------------


def redact(*args: str | Path) -> Result:
    """`logflow redact ARGS...`, run in-process."""
    return CliRunner().invoke(cli, ["redact", *map(str, args)])


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def lines_of(text: str) -> list[str]:
    """A file's lines (a last line end ends the last line, it does not start another)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def header_count(path: Path) -> int:
    """How many of the `# source/style/era` lines we put above each corpus paste it starts with."""
    if path.parent != CORPUS:
        return 0
    count = 0
    for line in lines_of(read(path)):
        if not CORPUS_HEADER.match(line):
            break
        count += 1
    return count


def body(path: Path, text: str) -> str:
    """``text`` (``path``'s content, or what redaction wrote for it) without our header lines."""
    return "\n".join(lines_of(text)[header_count(path) :])


@dataclass(frozen=True)
class Redacted:
    """One `logflow redact` run over inputs: what it printed and where it wrote."""

    result: Result
    out: Path
    mapping: Path | None = None

    def text(self, path: Path) -> str:
        """What the run wrote for the input ``path`` (OUT/<file name>)."""
        assert self.result.exit_code == 0, self.result.output[-3000:]
        written = self.out / path.name
        assert written.is_file(), f"{path.name}: no {written} written"
        return read(written)


def assert_same_lines(path: Path, original: str, redacted: str) -> None:
    count_in, count_out = len(lines_of(original)), len(lines_of(redacted))
    assert count_in == count_out, f"{path.name}: {count_in} lines in, {count_out} lines written"


def leaks(path: Path, original: str, redacted: str) -> list[str]:
    """The identifiers of ``original``'s body that are still in ``redacted``'s body."""
    found = found_identifiers(body(path, original))
    written = body(path, redacted)
    return [
        f"{path.name}: {kind} {value!r} survives"
        for kind in KINDS
        for value in sorted(found[kind])
        if survives(kind, value, written)
    ]


@pytest.fixture(scope="module")
def redacted(tmp_path_factory: pytest.TempPathFactory) -> Redacted:
    """Every corpus paste and sample redacted in one run, with a key and a mapping file."""
    folder = tmp_path_factory.mktemp("redact")
    out, mapping = folder / "out", folder / "mapping.json"
    result = redact(*INPUTS, "-o", out, "--key", KEY, "--mapping", mapping)
    return Redacted(result, out, mapping)


@pytest.fixture(scope="module")
def redacted_again(redacted: Redacted, tmp_path_factory: pytest.TempPathFactory) -> Redacted:
    """The files of the first run redacted once more, with another key (those it wrote: a
    missing one fails its own test, not all of them)."""
    written = [redacted.out / path.name for path in INPUTS]
    out = tmp_path_factory.mktemp("redact-again") / "out"
    existing = [path for path in written if path.is_file()]
    return Redacted(redact(*existing, "-o", out, "--key", "another key"), out)


# --- The finder itself -------------------------------------------------------------------------


def test_finder_on_hand_written_lines() -> None:
    """The patterns find real identifiers and leave Apple's ids, times, versions and files."""
    text = "\n".join(
        [
            "[C1 api.example.com:443 ready] url: https://upload.fieldnote.app/v2/chunks/3?t=x",
            "[C2 Hostname#5c1e07a3:443 tcp, url hash: 3b9e41c7] IPv4#3d7e52b8:443 IPv6#<private>",
            "10:32:35.730 [C8.1.1 10.0.1.200.57912<->172.217.6.74:443] Nexy_v1.6.1.27 127.0.0.1",
            "fe80::1c4e:22ff:fe9b:3a10%en0.8080 2607:f8b0:4020:802::200e.443 ::1.8081 ::.0",
            "::ffff:192.168.1.2 aa:bb:cc:dd:ee:ff 140572542116184:error:100000d7:SSL std::move",
            "'00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01'.8081 (loopback, not found)",
            "Task <F937D716-B99C-4263-8B98-53DC65A1B2A5>.<1> 00000000-0000-0000-0000-000000000000",
            '"boot_uuid":"5C1B7E2A94D34F0B8A6E13C7D2F9A041" http:\\/\\/localhost:8081\\/status',
            "com.apple.network com.example.MyApp Console.app libnetwork.dylib Foundation.framework",
            "/Applications/Tickerly.app/Contents/MacOS/Tickerly main.py SessionCore_iOS.mm",
            "/Users/mac002/.hermes /Users/Shared/x /home/dev/x /var/mobile/Containers x@y",
            "mail jane.doe+logs@example.org; app<application.com.ledgerly.mac.412(501)>",
            "Sep 22 18:37:54 Sathishs-MacBook-Pro-4 nsurlsessiond[66213]: iPhone Rocket.Chat",
            "http://example.com/<redacted> https://localhost:8081/ nonexistent.invalid desk.local",
        ]
    )
    assert found_identifiers(text) == {
        "host": {"api.example.com", "upload.fieldnote.app", "desk.local", "example.com"},
        "ipv4": {"10.0.1.200", "172.217.6.74", "192.168.1.2"},
        "ipv6": {"fe80::1c4e:22ff:fe9b:3a10", "2607:f8b0:4020:802::200e", "::ffff:192.168.1.2"},
        "uuid": {"F937D716-B99C-4263-8B98-53DC65A1B2A5", "5C1B7E2A94D34F0B8A6E13C7D2F9A041"},
        "url_path": {"/v2/chunks/3?t=x", "/status"},
        "user": {"mac002", "dev"},
        "email": {"jane.doe+logs@example.org"},
        "hashed_endpoint": {"Hostname#5c1e07a3", "IPv4#3d7e52b8"},
        "url_hash": {"3b9e41c7"},
        "bundle": {"com.example.MyApp", "com.ledgerly.mac"},
        "device": {"Sathishs-MacBook-Pro-4"},
    }


def test_survives_counts_whole_values() -> None:
    """A pseudonym that merely contains an original's digits or letters is not a leak."""
    assert survives("ipv4", "10.0.1.17", "[C1 10.0.1.17.443 ready]")
    assert not survives("ipv4", "10.0.1.17", "[C1 10.0.1.170:443 ready]")
    assert survives("user", "dev", "/Users/dev/Library")
    assert not survives("user", "dev", "/Users/developer-1/Library")
    assert survives("url_path", "/status", "http:\\/\\/localhost:8081\\/status")
    assert survives("host", "api.example.com", "x.api.example.com:443")


@needs_corpus
def test_finder_on_the_corpus() -> None:
    """A few identifiers a reader of the pastes sees are among those the patterns find."""
    expected = {
        "004-": ("host", "tcgbusfs.blob.core.windows.net"),
        "006-": ("user", "mac002"),
        "021-": ("user", "yaroslavs"),
        "060-": ("device", "Sathishs-MacBook-Pro-4"),
        "103-": ("ipv6", "2607:f8b0:4020:802::200e"),
        "122-": ("url_path", "/tls/path?token=abc"),
        "121-": ("bundle", "com.cramdown.personal"),
    }
    for prefix, (kind, value) in expected.items():
        (path,) = CORPUS.glob(f"{prefix}*.log")
        assert value in found_identifiers(body(path, read(path)))[kind], (path.name, kind)


# --- Redaction of every paste and sample -------------------------------------------------------


@pytest.mark.parametrize("path", INPUTS, ids=lambda path: path.name)
def test_no_identifier_survives(redacted: Redacted, path: Path) -> None:
    """The redacted file has the original's line count and none of its identifiers."""
    original, written = read(path), redacted.text(path)
    assert_same_lines(path, original, written)
    assert not (found := leaks(path, original, written)), "\n".join(found)


@pytest.mark.parametrize("path", INPUTS, ids=lambda path: path.name)
def test_connection_ids_times_and_apple_names_stay(redacted: Redacted, path: Path) -> None:
    """Each line keeps, in its place, its connection ids, times, com.apple.* ids and Apple's
    `<private>`/`<redacted>` markers: the log still tells its story, line by line."""
    original, written = read(path), redacted.text(path)
    assert_same_lines(path, original, written)
    found = found_identifiers(body(path, original))
    identifiers = set().union(*found.values())
    missing = []
    for number, (line_in, line_out) in enumerate(
        zip(lines_of(original), lines_of(written), strict=True), start=1
    ):
        if number <= header_count(path):
            continue
        missing += [
            f"{path.name}:{number}: {token!r} is gone"
            for token in kept_tokens(line_in, identifiers)
            if token not in line_out
        ]
        missing += [
            f"{path.name}:{number}: a {marker} is gone"
            for marker in APPLE_MARKERS
            if line_out.count(marker) < line_in.count(marker)
        ]
    assert not missing, "\n".join(missing[:40])


# The envelope's process names of apps that are not Apple's, as a reader of the file sees them.
APP_NAMES = [
    *(
        pytest.param(prefix, name, marks=needs_corpus, id=f"{prefix}{name}")
        for prefix, name in [
            ("001-", "MyReactNative"),
            ("004-", "hootowl"),
            ("011-", "TropicAir"),
            ("015-", "RedLemon"),
            ("016-", "Nexy"),
            ("018-", "banshee"),
            ("022-", "ElementalWarrior"),
            ("116-", "Shipt"),
            ("121-", "Stethoscore Personal"),
            ("122-", "NetFixture"),
        ]
    ),
    pytest.param("console-copy.tsv.log", "Ledgerly", id="Ledgerly"),
    pytest.param("device-relay.log", "Courier", id="Courier"),
    pytest.param("bare-pasted.log", "DevPanel", id="DevPanel"),
    pytest.param("logshow.json", "Tickerly", id="Tickerly"),
    pytest.param("logstream-compact-refused.log", "PocketLedger", id="PocketLedger"),
]


@pytest.mark.parametrize(("name", "app"), APP_NAMES)
def test_app_names_do_not_survive(redacted: Redacted, name: str, app: str) -> None:
    """The name of the app that wrote the log is nowhere in the redacted file, not even in its
    messages (`client pid: 4995 (RedLemon)`) or paths (`/Applications/Tickerly.app`)."""
    (path,) = [input for input in INPUTS if input.name.startswith(name)]
    assert _bounded(app, body(path, read(path))), f"{path.name} never names {app!r}"
    written = body(path, redacted.text(path))
    left = [line for line in written.split("\n") if _bounded(app, line)]
    assert not left, f"{path.name}: {app!r} survives in {len(left)} lines, first: {left[0]!r}"


def test_the_same_key_gives_the_same_redaction(redacted: Redacted, tmp_path: Path) -> None:
    """Redacted twice with the same --key, every file comes out byte for byte the same."""
    again = Redacted(redact(*INPUTS, "-o", tmp_path / "out", "--key", KEY), tmp_path / "out")
    differ = [path.name for path in INPUTS if again.text(path) != redacted.text(path)]
    assert not differ, f"with the same --key, these came out different: {differ}"


def test_without_a_key_each_run_picks_new_pseudonyms(tmp_path: Path) -> None:
    """Without --key two runs give different pseudonyms (a random key each), same line counts."""
    inputs = [SAMPLES / "logshow-default-race.log", SAMPLES / "console-client-local-race.tsv.log"]
    first = Redacted(redact(*inputs, "-o", tmp_path / "first"), tmp_path / "first")
    second = Redacted(redact(*inputs, "-o", tmp_path / "second"), tmp_path / "second")
    for path in inputs:
        assert any(found_identifiers(read(path)).values()), f"{path.name} has no identifiers"
        assert_same_lines(path, read(path), first.text(path))
        assert_same_lines(path, read(path), second.text(path))
        assert first.text(path) != second.text(path), f"{path.name}: the same pseudonyms twice"
        assert not leaks(path, read(path), first.text(path))


def test_mapping_file_translates_pseudonyms_back(redacted: Redacted) -> None:
    """--mapping writes logflow's JSON mapping: each original was in the input and is gone
    where its pseudonym was written, one pseudonym per original and one original per pseudonym."""
    assert redacted.result.exit_code == 0, redacted.result.output[-3000:]
    assert redacted.mapping is not None and redacted.mapping.is_file(), "no mapping file"
    mapping = json.loads(redacted.mapping.read_text(encoding="utf-8"))
    assert mapping["written_by"] == "logflow"
    entries = mapping["pseudonyms"]
    assert entries, "the mapping lists no pseudonyms"
    originals = {path.name: read(path) for path in INPUTS}
    written = {path.name: redacted.text(path) for path in INPUTS}
    problems = []
    by_original: dict[tuple[str, str], set[str]] = {}
    by_pseudonym: dict[str, set[str]] = {}
    for entry in entries:
        kind, original, pseudonym = entry["kind"], entry["original"], entry["pseudonym"]
        by_original.setdefault((kind, original), set()).add(pseudonym)
        by_pseudonym.setdefault(pseudonym, set()).add(canonical(original))
        holders = [name for name, text in originals.items() if _in(original, text)]
        if not holders:
            problems.append(f"{kind} {original!r} is in no input")
            continue
        redacted_in = [name for name in holders if _in(pseudonym, written[name])]
        if not redacted_in:
            problems.append(f"{kind} {original!r}: its pseudonym {pseudonym!r} is in no output")
        problems += [
            f"{name}: {kind} {original!r} is still there beside its pseudonym {pseudonym!r}"
            for name in redacted_in
            if _in(original, written[name])
        ]
    problems += [
        f"{key} has pseudonyms {sorted(p)}" for key, p in by_original.items() if len(p) > 1
    ]
    problems += [f"{p!r} stands for {sorted(o)}" for p, o in by_pseudonym.items() if len(o) > 1]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


def canonical(value: str) -> str:
    """One spelling of a value: an address as ipaddress prints it (scope and 16-byte forms
    too), anything else in lower case, so two spellings of one value may share a pseudonym."""
    candidate = value.split("%")[0]
    if IPV6_BYTES.fullmatch(f"'{value}'"):
        return str(ipaddress.IPv6Address(bytes(int(byte, 16) for byte in value.split())))
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return value.lower()


def _in(value: str, text: str) -> bool:
    """``value`` in ``text`` (or in its JSON-unescaped form) as a whole value."""
    return _bounded(value, text) or _bounded(value, text.replace("\\/", "/"))


def test_without_mapping_only_the_redacted_files_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --mapping the mapping is written nowhere: OUT holds the redacted files (and
    logflow's folder marker, which names no original), and nothing else appears."""
    inputs = [SAMPLES / "logshow-default-race.log", SAMPLES / "xcode-2021.log"]
    monkeypatch.chdir(tmp_path)
    result = redact(*inputs, "-o", "out")
    assert result.exit_code == 0, result.output[-3000:]
    assert sorted(os.listdir(tmp_path)) == ["out"]
    files = {str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")}
    assert files - {MARKER} == {path.name for path in inputs}
    if (tmp_path / "out" / MARKER).exists():
        marker = read(tmp_path / "out" / MARKER)
        for path in inputs:
            for kind, values in found_identifiers(read(path)).items():
                assert not [v for v in values if survives(kind, v, marker)], (MARKER, kind)


def test_a_folder_is_written_under_its_name(tmp_path: Path) -> None:
    """A folder given as PATH comes out as OUT/<folder name>/<relative path>, redacted."""
    sample = SAMPLES / "console-client-local-race.tsv.log"
    nested = tmp_path / "logs" / "client"
    nested.mkdir(parents=True)
    shutil.copy(sample, nested / sample.name)
    result = redact(tmp_path / "logs", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output[-3000:]
    written = tmp_path / "out" / "logs" / "client" / sample.name
    assert written.is_file(), sorted(map(str, (tmp_path / "out").rglob("*")))
    assert_same_lines(sample, read(sample), read(written))
    assert not (found := leaks(sample, read(sample), read(written))), "\n".join(found)


@pytest.mark.parametrize("path", INPUTS, ids=lambda path: path.name)
def test_redacting_again_leaks_nothing(
    redacted: Redacted, redacted_again: Redacted, path: Path
) -> None:
    """Redacting a redacted file again keeps its lines and brings back no original identifier."""
    redacted.text(path)
    original, twice = read(path), redacted_again.text(path)
    assert_same_lines(path, original, twice)
    assert not (found := leaks(path, original, twice)), "\n".join(found)


def survey() -> str:
    """What the patterns find in every paste and sample, by kind: values, and files holding them."""
    holders: dict[str, dict[str, set[str]]] = {kind: {} for kind in KINDS}
    for path in INPUTS:
        for kind, values in found_identifiers(body(path, read(path))).items():
            for value in values:
                holders[kind].setdefault(value, set()).add(path.name)
    report = []
    for kind in KINDS:
        files = set().union(set(), *holders[kind].values())
        report.append(f"{kind}: {len(holders[kind])} values in {len(files)} files")
        report += [
            f"    {value!r}: {', '.join(sorted(names))}"
            for value, names in sorted(holders[kind].items())
        ]
    return "\n".join(report)


if __name__ == "__main__":
    print(survey())
