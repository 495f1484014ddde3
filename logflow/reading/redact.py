"""Redaction: a log rewritten so that it can be posted publicly, telling the same story with
none of its identifiers (issue 15).

What becomes a pseudonym (:data:`KINDS` and the names learned from envelopes):

- host names (a name ending in a top-level domain) become ``host-1a2b3c.example`` (or
  ``….local`` for a name on the local network); e-mail addresses ``user-1a2b3c@host-….example``;
- IPv4 and IPv6 addresses become addresses of the same family and class: a private address
  one in the same private block, link-local link-local, shared (100.64/10) shared, any other
  one of 198.18.0.0/15 or 2001:db8::/32, ranges set aside so that a pseudonym is never a
  real host. Loopback, unspecified, multicast and broadcast addresses are no one's and stay;
- hashed endpoints (``Hostname#5c1e07a3``, ``IPv4#…``), ``url hash:`` values and UUIDs
  (with their dashes or without: 32 hex digits) become others of the same form;
- a URL keeps its scheme and port; its host becomes a pseudonym, its path ``/path-…``, its
  query ``?query-…`` (Apple's own ``<private>`` and ``<redacted>`` stay);
- user names in paths (``/Users/NAME``, ``/home/NAME``) and in a shell prompt pasted with
  the log (``MacBook-Pro:~ NAME$``) become ``user1a2b3c``, wherever the name stands as a word;
- the process names of apps not Apple's (:data:`APPLE_PROCESSES`), and their reverse-DNS
  bundle and subsystem names, become ``App1a2b3c`` and ``com.example.app-1a2b3c``; the
  device names of syslog and device-relay rows ``device1a2b3c``; Wi-Fi network names
  ``wifi1a2b3c``.

Connection ids, states, errors, counts, times, ports, interfaces, Apple's process and
subsystem names are kept, and every pseudonym has the shape of what it replaces: a
redacted log parses into the same trees, outcomes, races, proxy failures and path changes.

A pseudonym is a keyed hash (HMAC-SHA256) of its kind and value: the same value has the same
pseudonym within a run, and across runs given the same key; without a key, a random key of
the run's. How: each block's lines are searched with each kind's pattern (a Polars pass
each); the distinct values found get their pseudonyms in Python; then every value found is
replaced wherever it stands in the block, longest first, and the learned names wherever they
stand as words. Each value is first replaced by a placeholder that no pattern can match, so
that a pseudonym is never itself searched again; the placeholders then become the pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl

from logflow.engine import ENGINE
from logflow.reading.events import device_name, process_name
from logflow.reading.inputs import STDIN, Block, Inputs
from logflow.reading.records import group_records

# The top-level domains a host name may end in: the generic ones logs show and every
# two-letter country code (a file name like README.md is taken for a host: its redaction
# costs nothing, a host left in would).
GENERIC_TLDS = frozenset(
    "com net org edu gov mil int info biz io co me app dev cloud ai tv us uk de fr jp cn ru "
    "local arpa online site xyz tech store shop blog news live pro name mobi asia eu".split()
)
# Reverse-DNS names (bundle ids, subsystems) start with a top-level domain.
REVERSE_DNS_FIRST = frozenset("com org net io edu gov co de uk fr jp me app dev ch nl se".split())
# A file name, not a host, where it is one word before these.
FILE_SUFFIXES = frozenset("app md py sh js rb pl so gz db ts cs mm zip mov h c m".split())
# Apple's own processes: their names are kept. Anything else an envelope names is an app's.
APPLE_PROCESSES = frozenset(
    """
    kernel launchd mDNSResponder mDNSResponderHelper nsurlsessiond networkd nesessionmanager
    symptomsd symptomsd-diag configd trustd apsd identityservicesd runningboardd SpringBoard
    backboardd assistantd cloudd bird akd appstored itunesstored storedownloadd Safari
    SafariBookmarksSyncAgent com.apple.WebKit.Networking com.apple.WebKit.WebContent
    WebKit.Networking Mail Weather Podcasts Music Maps Messages FaceTime Photos News Stocks
    Calendar Contacts Notes Reminders Finder Xcode Simulator Console curl nc ping ssh
    sharingd rapportd locationd wifid airportd bluetoothd softwareupdated mobileassetd
    suggestd parsecd dasd CommCenter geod nehelper neagent NEIKEv2Provider nesessionmanager
    mobileactivationd AppleIDSettings Preferences Settings TV Books Home Health Wallet
    passd findmydeviced searchpartyd remindd accountsd syncdefaultsd familycircled
    captiveagent wcd WirelessRadioManagerd wifip2pd usernoted watchdogd xpcproxy
    ReportCrash spindump sysdiagnose mediaserverd mediaremoted mediaanalysisd photoanalysisd
    adid com.apple.Safari.SafeBrowsing SafariServices AuthenticationServicesCore
    softwareupdateservicesd ospredictiond tipsd biomed coreduetd Spotlight mds mds_stores
    mdworker mdworker_shared QuickLookUIService screencaptureui loginwindow WindowServer
    Dock SystemUIServer ControlCenter NotificationCenter UserEventAgent cfprefsd distnoted
    fseventsd opendirectoryd powerd thermalmonitord timed nsattributedstringagent
    """.split()
)
PLACEHOLDER_START, PLACEHOLDER_END = "\x00", "\x01"
_PRIVATE_USE = 0xE000  # placeholders' indexes are private-use characters: no \\w, no pattern


@dataclass(frozen=True)
class Kind:
    """One kind of identifier: the pattern that finds its values in a line (Polars' regex
    syntax), and how a value found becomes its pseudonym (None: not one of this kind, or
    kept as it is)."""

    name: str
    pattern: str
    pseudonym: Callable[[Redactor, str], str | None]


def _hex(redactor: Redactor, kind: str, value: str, digits: int) -> str:
    return redactor.digest(kind, value).hex()[:digits]


def _host(redactor: Redactor, value: str) -> str | None:
    labels = value.lower().split(".")
    if labels[-1] not in GENERIC_TLDS and len(labels[-1]) != 2:
        return None
    if labels[0] in REVERSE_DNS_FIRST and len(labels) > 2:
        return None  # a bundle or subsystem name: :func:`_bundle`'s
    if len(labels) == 2 and labels[-1] in FILE_SUFFIXES:
        return None
    domain = "local" if labels[-1] == "local" else "example"
    return f"host-{_hex(redactor, 'host', value.lower(), 6)}.{domain}"


def _bundle(redactor: Redactor, value: str) -> str | None:
    if value.lower().startswith("com.apple.") or value.lower() == "com.apple":
        return None
    return f"com.example.app-{_hex(redactor, 'bundle', value, 6)}"


def _email(redactor: Redactor, value: str) -> str | None:
    local, _, domain = value.rpartition("@")
    host = _host(redactor, domain) or f"host-{_hex(redactor, 'host', domain.lower(), 6)}.example"
    return f"user-{_hex(redactor, 'user', local, 6)}@{host}"


def _ipv4(redactor: Redactor, value: str) -> str | None:
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        return None
    if not _identifies(address):
        return None
    block = next((net for net in IPV4_CLASSES if address in net), IPV4_ELSEWHERE)
    return str(redactor.address_in(block, "ipv4", value))


def _ipv6(redactor: Redactor, value: str) -> str | None:
    try:
        address = ipaddress.IPv6Address(value)
    except ValueError:
        return None
    if address.ipv4_mapped is not None:
        mapped = _ipv4(redactor, str(address.ipv4_mapped))
        return f"::ffff:{mapped}" if mapped else None
    if not _identifies(address):
        return None
    block = next((net for net in IPV6_CLASSES if address in net), IPV6_ELSEWHERE)
    return str(redactor.address_in(block, "ipv6", value.lower()))


def _address_bytes(redactor: Redactor, value: str) -> str | None:
    """``'c0 a8 01 14'``: an address printed as its bytes (a 2021 compact capture)."""
    raw = bytes.fromhex(value.strip("'"))
    address = ipaddress.ip_address(raw)
    pseudonym = (_ipv4 if address.version == 4 else _ipv6)(redactor, str(address))
    if pseudonym is None:
        return None
    text = " ".join(f"{byte:02x}" for byte in ipaddress.ip_address(pseudonym).packed)
    return f"'{text.upper() if value.isupper() else text}'"


def _identifies(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address can point at someone: not loopback, unspecified, multicast or the
    broadcast address."""
    return not (
        address.is_loopback
        or address.is_unspecified
        or address.is_multicast
        or address == ipaddress.IPv4Address("255.255.255.255")
    )


IPV4_CLASSES = tuple(
    ipaddress.IPv4Network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")
)
IPV4_ELSEWHERE = ipaddress.IPv4Network("198.18.0.0/15")
IPV6_CLASSES = (ipaddress.IPv6Network("fe80::/64"), ipaddress.IPv6Network("fd00::/8"))
IPV6_ELSEWHERE = ipaddress.IPv6Network("2001:db8::/32")
_LINK_LOCAL_V6 = ipaddress.IPv6Network("fe80::/10")
_UNIQUE_LOCAL_V6 = ipaddress.IPv6Network("fc00::/7")


def _uuid(redactor: Redactor, value: str) -> str | None:
    text = str(uuid.UUID(bytes=redactor.digest("uuid", value.upper())[:16]))
    return text if value == value.lower() else text.upper()


def _same_hex(kind: str) -> Callable[[Redactor, str], str | None]:
    """``Hostname#5c1e07a3`` or ``url hash: 1f2e3d4c``: the text before the hex kept, the hex
    another of the same length."""

    def pseudonym(redactor: Redactor, value: str) -> str | None:
        head, digits = re.match(r"(.*?)([0-9A-Fa-f]+)$", value).groups()
        new = _hex(redactor, kind, value, len(digits))
        return head + (new.upper() if digits != digits.lower() else new)

    return pseudonym


def _url(redactor: Redactor, value: str) -> str | None:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if host in ("localhost", "") or not host.strip("[]"):
        new_host = host
    else:
        new_host = (
            _ipv4(redactor, host)
            or _ipv6(redactor, host)
            or _host(redactor, host)
            or f"host-{_hex(redactor, 'host', host.lower(), 6)}.example"
        )
        if ":" in new_host:
            new_host = f"[{new_host}]"
    netloc = new_host + (f":{port}" if port is not None else "")
    if parts.username:
        netloc = f"user-{_hex(redactor, 'user', parts.username, 6)}@{netloc}"
    path = parts.path
    if path not in ("", "/"):
        path = f"/path-{_hex(redactor, 'path', path, 8)}"
    query = f"?query-{_hex(redactor, 'query', parts.query, 8)}" if parts.query else ""
    fragment = f"#part-{_hex(redactor, 'part', parts.fragment, 6)}" if parts.fragment else ""
    return f"{parts.scheme}://{netloc}{path}{query}{fragment}"


def _user_path(redactor: Redactor, value: str) -> str | None:
    head, _, name = value.rpartition("/")
    if name in ("Shared", "Guest", "") or name.startswith("<"):
        return None
    redactor.learn("user", name)
    return f"{head}/{redactor.pseudonym('user', name)}"


def _wifi(redactor: Redactor, value: str) -> str | None:
    head, name = re.match(r"""(?i)(.*?ssid[:=]?\s*["']?)(.+?)["']?$""", value).groups()
    if name.startswith("<") or not name:
        return None
    redactor.learn("wifi", name)
    return head + redactor.pseudonym("wifi", name) + value[len(head) + len(name) :]


def _prompt(redactor: Redactor, value: str) -> str | None:
    """``MacBook-Pro:~ alice$``: a shell prompt pasted with the log names the device and
    the user."""
    device, folder, user = re.match(r"([^:]+):(\S*) (\S+)\$$", value).groups()
    redactor.learn("device", device)
    redactor.learn("user", user)
    return f"{redactor.pseudonym('device', device)}:{folder} {redactor.pseudonym('user', user)}$"


_TLD_LABEL = r"[A-Za-z][A-Za-z0-9-]{1,62}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
_HEX2 = r"[0-9A-Fa-f]{2}"
# The kinds found by pattern. Each finds its values in the text as it was; where two overlap
# (a URL and its host), the one that starts first, and then the longest, is replaced.
KINDS = (
    Kind(
        "url",
        r"(?i)\b(?:https?|wss?|ftp)://[^\s\"'<>\[\]{}|\\^`,;]+[^\s\"'<>\[\]{}|\\^`,;.)]",
        _url,
    ),
    Kind("email", r"[A-Za-z0-9._%+-]+@(?:" + _LABEL + r"\.)+" + _TLD_LABEL + r"\b", _email),
    Kind(
        "uuid",
        r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b",
        _uuid,
    ),
    Kind("uuid", r"\b[0-9A-Fa-f]{32}\b", _same_hex("uuid")),  # without its dashes
    Kind("endpoint_hash", r"\b(?:Hostname|IPv4|IPv6|Bonjour)#[0-9a-f]+\b", _same_hex("hash")),
    Kind("url_hash", r"\burl hash: [0-9a-f]+\b", _same_hex("url hash")),
    Kind(
        "address_bytes", rf"'(?:{_HEX2} ){{15}}{_HEX2}'|'(?:{_HEX2} ){{3}}{_HEX2}'", _address_bytes
    ),
    Kind(
        "ipv6",
        # The dotted IPv4 end of a mapped address is tried first: `::ffff:10` is one too.
        r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})",
        _ipv6,
    ),
    Kind("ipv4", r"\b(?:\d{1,3}\.){3}\d{1,3}\b", _ipv4),
    Kind("prompt", r"^[A-Za-z0-9._-]+:\S* [A-Za-z0-9._-]+\$", _prompt),
    Kind("user_path", r"/(?:Users|home)/[^/\s\"'<>:;,()\[\]]+", _user_path),
    Kind("wifi", r"""(?i)\bssid[:=]?\s*(?:"[^"\n]+"|'[^'\n]+'|[^\s,;)\]]+)""", _wifi),
    Kind(
        "bundle",
        r"\b(?:" + "|".join(sorted(REVERSE_DNS_FIRST)) + r")(?:\.[A-Za-z0-9_-]+){2,}",
        _bundle,
    ),
    Kind("host", r"\b(?:" + _LABEL + r"\.)+" + _TLD_LABEL + r"\b", _host),
)
# The names learned from envelopes and paths, replaced where they stand as words, and the
# form of their pseudonyms.
# (No dash: `App-…` would hold a process named App as a word.)
WORD_KINDS = {"process": "App{}", "device": "device{}", "user": "user{}", "wifi": "wifi{}"}


@dataclass
class Redactor:
    """Pseudonyms for one run: the key, and every value given one so far (the mapping).

    Thread-safe: the chunks of a parse are redacted on worker threads.
    """

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    keyed: bool = False
    """Whether the key is the user's (so the pseudonyms are the same in another run)."""
    _pseudonyms: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _taken: set[str] = field(default_factory=set, repr=False)
    _words: dict[str, str] = field(default_factory=dict, repr=False)
    """Learned names (a process, a device, a user) and their pseudonyms."""
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def with_key(cls, key: str | bytes | None) -> Redactor:
        """A redactor keyed by the user's key (the same pseudonyms in every run), or by a
        random one (None)."""
        if key is None:
            return cls()
        raw = key.encode() if isinstance(key, str) else key
        return cls(key=hashlib.sha256(b"logflow redact\0" + raw).digest(), keyed=True)

    def digest(self, kind: str, value: str, attempt: int = 0) -> bytes:
        message = f"{kind}\0{value}\0{attempt}".encode()
        return hmac.new(self.key, message, hashlib.sha256).digest()

    def address_in(self, block, kind: str, value: str):
        """An address of ``block`` for ``value``, not the network's or broadcast address, and
        none another value has."""
        span = block.num_addresses - 2
        with self._lock:
            for attempt in range(64):
                offset = int.from_bytes(self.digest(kind, value, attempt)[:16], "big") % span
                address = block.network_address + 1 + offset
                if str(address) not in self._taken:
                    self._taken.add(str(address))
                    return address
        raise RuntimeError(f"no free pseudonym address in {block}")  # 64 collisions: never

    def pseudonym(self, kind: str, value: str) -> str:
        """The pseudonym of a learned name (:data:`WORD_KINDS`)."""
        return WORD_KINDS[kind].format(_hex(self, kind, value, 6))

    def learn(self, kind: str, name: str) -> None:
        """Replace ``name`` where it stands as a word, from now on."""
        if len(name) < 2 or name in self._words:
            return
        with self._lock:
            pseudonym = self.pseudonym(kind, name)
            self._words.setdefault(name, pseudonym)
            self._pseudonyms.setdefault((kind, name), pseudonym)

    def learn_names(self, processes: Iterable[str | None], devices: Iterable[str | None]) -> None:
        """The process and device names an envelope gave: an app's are replaced from now on."""
        for name in processes:
            if name and name not in APPLE_PROCESSES and not name.startswith("com.apple."):
                self.learn("process", name)
        for name in devices:
            if name and name != "localhost":
                self.learn("device", name)

    def read_names(self, paths: Iterable[str | Path]) -> None:
        """Read the inputs once to learn every name in them, so that a name is replaced
        above its first envelope too (an app's process name in a message before its first
        row, a user name in a later path). Standard input cannot be read twice: not read."""
        paths = [str(path) for path in paths]
        if STDIN not in paths:
            for block in Inputs(paths).blocks():
                self.block(block)

    def lines(self, lines: pl.Series) -> pl.Series:
        """``lines`` with every identifier replaced by its pseudonym."""
        return self._replaced(lines.to_frame("text"), ["text"])["text"]

    def frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Every text in ``frame`` redacted (in lists and structs too), as :meth:`lines`
        redacts a line: a table of the original log as the redacted log's table holds it."""
        texts = pl.concat(
            [_texts(frame[name]) for name in frame.columns] or [pl.Series([], dtype=pl.String)]
        )
        redacted = self._redaction(texts)
        return frame.with_columns(
            _each_text(pl.col(name), dtype, redacted) for name, dtype in frame.schema.items()
        )

    def block(self, block: Block) -> Block:
        """A block of lines redacted, the names its envelopes give learned first."""
        records = group_records(block.frame(), max_record_bytes=block.max_record_bytes)
        names = (
            records.select(process=process_name(), device=device_name())
            .unique()
            .collect(engine=ENGINE)
        )
        self.learn_names(names["process"], names["device"])
        return replace(block, source=self.text(block.source), lines=self.lines(block.lines))

    def text(self, text: str) -> str:
        """One text redacted (a path, a name)."""
        return self.lines(pl.Series([text]))[0]

    def mapping(self) -> list[dict[str, str]]:
        """Every value given a pseudonym: ``kind``, ``original``, ``pseudonym``."""
        with self._lock:
            items = sorted(self._pseudonyms.items())
        return [{"kind": k, "original": o, "pseudonym": p} for (k, o), p in items]

    def mapping_json(self) -> str:
        return json.dumps(
            {
                "written_by": "logflow",
                "note": "Private: this file turns the pseudonyms of a redacted log back into "
                "the originals. Never post it.",
                "keyed": self.keyed,
                "pseudonyms": self.mapping(),
            },
            indent=1,
            ensure_ascii=False,
        )

    def _replaced(self, frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        redacted = self._redaction(pl.concat([frame[name] for name in columns]))
        return frame.with_columns(redacted(pl.col(name)) for name in columns)

    def _redaction(self, texts: pl.Series) -> Callable[[pl.Expr], pl.Expr]:
        """An expression that redacts texts like ``texts``: every value found in them, and
        every name learned so far, replaced by its pseudonym."""
        values = self._found(texts)
        words = dict(self._words)
        if not values and not words:
            return lambda text: text
        order = sorted(values, key=len, reverse=True)
        holders = [_placeholder(i) for i in range(len(order) + len(words))]
        held = {holders[i]: values[v] for i, v in enumerate(order)}
        word_holders = holders[len(order) :]
        held |= dict(zip(word_holders, words.values(), strict=True))

        def redacted(text: pl.Expr) -> pl.Expr:
            if order:
                text = text.str.replace_many(order, holders[: len(order)], leftmost=True)
            for name, holder in zip(words, word_holders, strict=True):
                text = text.str.replace_all(_as_word(name), holder)
            return text.str.replace_many(list(held), list(held.values()), leftmost=True)

        return redacted

    def _found(self, texts: pl.Series) -> dict[str, str]:
        """The values of every kind found in ``texts``, and their pseudonyms."""
        found: dict[str, str] = {}
        for kind in KINDS:
            candidates = texts.str.extract_all(kind.pattern).explode().drop_nulls().unique()
            for value in candidates.to_list():
                if value in found:
                    continue
                pseudonym = self._pseudonym_of(kind, value)
                if pseudonym is not None and pseudonym != value:
                    found[value] = pseudonym
        return found

    def _pseudonym_of(self, kind: Kind, value: str) -> str | None:
        key = (kind.name, value)
        with self._lock:
            if key in self._pseudonyms:
                return self._pseudonyms[key]
            pseudonym = kind.pseudonym(self, value)
            if pseudonym is None or pseudonym == value:
                return None
            self._pseudonyms[key] = pseudonym
            return pseudonym


def _texts(series: pl.Series) -> pl.Series:
    """Every text in a column, of lists and structs too, as one column of text."""
    dtype = series.dtype
    if dtype == pl.String:
        return series
    if isinstance(dtype, (pl.List, pl.Array)):
        return _texts(series.explode())
    if isinstance(dtype, pl.Struct):
        fields = [_texts(series.struct.field(f.name)) for f in dtype.fields]
        return pl.concat(fields) if fields else pl.Series([], dtype=pl.String)
    return pl.Series([], dtype=pl.String)


def _each_text(
    expr: pl.Expr, dtype: pl.DataType, redacted: Callable[[pl.Expr], pl.Expr]
) -> pl.Expr:
    """``expr`` with ``redacted`` applied to each text in it, in lists and structs too."""
    if dtype == pl.String:
        return redacted(expr)
    if isinstance(dtype, pl.List):
        return expr.list.eval(_each_text(pl.element(), dtype.inner, redacted))
    if isinstance(dtype, pl.Struct):
        return expr.struct.with_fields(
            _each_text(pl.field(f.name), f.dtype, redacted).alias(f.name) for f in dtype.fields
        )
    return expr


def _placeholder(index: int) -> str:
    high, low = divmod(index, 6400)
    return PLACEHOLDER_START + chr(_PRIVATE_USE + high) + chr(_PRIVATE_USE + low) + PLACEHOLDER_END


def _as_word(name: str) -> str:
    """A pattern of ``name`` standing as a word: no letter or digit just before or after it."""
    pattern = re.escape(name)
    if re.match(r"\w", name):
        pattern = r"\b" + pattern
    if re.search(r"\w$", name):
        pattern += r"\b"
    return pattern


def read_mapping(path: Path) -> list[dict[str, str]]:
    """The pseudonyms a ``--mapping`` file holds."""
    return json.loads(path.read_text(encoding="utf-8"))["pseudonyms"]


def reveal(texts: pl.Series, mapping: list[dict[str, str]]) -> pl.Series:
    """``texts`` with the pseudonyms of a mapping turned back into their originals: the
    answers of a redacted log read back by its owner."""
    originals = {m["pseudonym"]: m["original"] for m in mapping}
    pairs = sorted(originals.items(), key=lambda pair: -len(pair[0]))
    if not pairs:
        return texts
    return texts.str.replace_many([p for p, _ in pairs], [o for _, o in pairs], leftmost=True)
