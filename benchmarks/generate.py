#!/usr/bin/env python3
"""Write a deterministic, realistic `log show --info --debug` export (default style).

    python benchmarks/generate.py N OUT [--seed S]

OUT gets exactly N physical lines: the column header, the rows (a few of them followed by
TAB-indented summary lines or an unindented kernel continuation line), and the three-line
trailer, byte for byte in the layout `log show` prints (see sample_logs/logshow-*.log).

What is simulated, so that a parser meets what it meets in a real capture:

- several processes, each with its own pid, threads and connection numbers; short-lived
  ones exit after a few connections and come back with a new pid, numbering again from C1;
- many connections alive at once, their lines interleaved in time order: the `start` line
  with its parameters, path events, DNS resolution, Happy Eyeballs children racing IPv6 and
  IPv4 (`starting next child endpoint in 100ms`), socket and boringssl lines of a protocol
  instance (`[C8.1.1:2][0x...]`), refused attempts (`Socket SO_ERROR [61: Connection
  refused]`), `reporting state ...`, and the `cancel`/`cancelled` lines, the latter with
  its TAB-indented summary block whose first line names the attempt that connected;
- about 20% rows of other subsystems: CFNetwork tasks and connections, mDNSResponder,
  runningboardd, symptomsd, and kernel rows without a subsystem;
- hosts, addresses, hashes and UUIDs drawn per connection, so most messages are unique.

The file is written as it is generated (nothing but the live connections is held in
memory). Only the standard library is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

HEADER = "Timestamp                       Thread     Type        Activity             PID    TTL  "
START = dt.datetime(2025, 3, 14, 10, 32, 5)
UTC_OFFSET = "+0100"

# Paths as a descriptor prints them; leaves (socket-flow) add "viable, " after the status.
PATHS_DUAL = [
    "interface: en0[802.11], ipv4, ipv6, dns, uses wifi",
    "interface: pdp_ip0[lte], ipv4, ipv6, dns, expensive, uses cell",
    "interface: en7, ipv4, ipv6, dns",
]
PATHS_V4 = ["interface: en0, ipv4, dns", "interface: en0[802.11], ipv4, dns, uses wifi"]


def mdns_row(message: str) -> tuple:
    """A row of mDNSResponder, the system resolver: pid 412, its own subsystem."""
    return (
        "mDNSResponder",
        412,
        "0x1b07",
        "0x0",
        "Default",
        "mDNSResponder",
        "com.apple.mDNSResponder:Default",
        message,
        None,
    )


def runningboard_row(category: str, message: str) -> tuple:
    """A row of runningboardd, which manages app processes: pid 163, its own subsystem."""
    return (
        "runningboardd",
        163,
        "0x4d2",
        "0x0",
        "Default",
        "RunningBoard",
        f"com.apple.runningboard:{category}",
        message,
        None,
    )


@dataclass
class Process:
    """One running instance of a program: a pid and its own connection numbering."""

    name: str
    bundle: str
    pid: int
    uses_cfnetwork: bool
    lifetime: int | None
    """Connections it makes before it exits (None: it lives for the whole capture)."""
    net_thread: str
    cf_thread: str
    conns: int = 0


@dataclass(order=True)
class Live:
    """A connection in flight: its script, due again at `due` (µs since the start)."""

    due: int
    seq: int
    script: Iterator = field(compare=False)


# name, bundle id (for runningboardd), weight, uses CFNetwork, connections per instance
PROGRAMS = [
    ("Weather", "com.apple.weather", 8, True, None),
    ("com.apple.WebKit.Networking", "com.apple.WebKit.Networking", 14, True, None),
    ("nsurlsessiond", "com.apple.nsurlsessiond", 8, True, None),
    ("Mail", "com.apple.mail", 4, True, None),
    ("apsd", "com.apple.apsd", 3, False, None),
    ("Backup", "com.example.backup", 4, True, (3, 12)),
    ("nscurl", "com.apple.nscurl", 4, True, (1, 3)),
    ("MyAppTests", "com.example.myapp.tests", 3, False, (2, 6)),
]
CIPHERS = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
HANDSHAKE = [
    "TLS client enter_early_data",
    "TLS client read_server_hello",
    "TLS 1.3 client read_encrypted_extensions",
    "TLS 1.3 client read_server_certificate",
    "TLS 1.3 client read_server_certificate_verify",
    "TLS 1.3 client read_server_finished",
]


class Generator:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.now = 0  # µs since START; never goes back, so rows come out in time order
        self.procs: dict[str, Process] = {}
        self.next_pid = 2300
        self.seq = 0
        self.levels = dict.fromkeys(("Default", "Info", "Debug", "Error", "Fault"), 0)
        self._second = -1
        self._second_text = ""

    # ---- small random values ---------------------------------------------------------------

    def uuid(self) -> str:
        h = f"{self.r.getrandbits(128):032X}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def hex8(self) -> str:
        return f"{self.r.getrandbits(32):08x}"

    def thread(self) -> str:
        return f"0x{self.r.randint(0x1000, 0x3FFFFF):x}"

    def ms(self, lo: float, hi: float) -> int:
        """A wait of lo..hi milliseconds, in µs."""
        return int(self.r.uniform(lo, hi) * 1000)

    def process(self, program: tuple) -> Process:
        """The running instance of a program; a short-lived one is replaced when used up."""
        name, _bundle, _w, cf, lifetime = program
        proc = self.procs.get(name)
        if proc is None or (proc.lifetime is not None and proc.conns >= proc.lifetime):
            self.next_pid += self.r.randint(3, 400)
            proc = Process(
                name,
                program[1],
                self.next_pid,
                cf,
                None if lifetime is None else self.r.randint(*lifetime),
                self.thread(),
                self.thread(),
            )
            self.procs[name] = proc
        return proc

    # ---- one row ------------------------------------------------------------------------------

    def stamp(self) -> str:
        second, micro = divmod(self.now, 1_000_000)
        if second != self._second:  # format the date and clock once a second
            self._second = second
            self._second_text = (START + dt.timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")
        return f"{self._second_text}.{micro:06d}{UTC_OFFSET}"

    def row(self, proc_name, pid, thread, activity, level, sender, subsystem, msg) -> str:
        """One row in `log show`'s columns; `subsystem` is "sub:category" or None (kernel)."""
        self.levels[level] += 1
        head = (
            f"{self.stamp()} {thread:<10} {level:<11} {activity:<20} {pid:<6} {0:<4} {proc_name}: "
        )
        if sender is not None:
            head += f"({sender}) "
        if subsystem is not None:
            head += f"[{subsystem}] "
        return head + msg

    # ---- a connection's life, as a script ---------------------------------------------------
    # The script yields either an int (wait that many µs; other connections go on meanwhile)
    # or a row tuple (proc_name, pid, thread, activity, level, sender, subsystem, msg, extra),
    # where `extra` are continuation lines. The messages are built when the script resumes, so
    # `@x.xxxs` elapsed times are read from the clock at that moment.

    def connection(self, proc: Process) -> Iterator:
        r = self.r
        proc.conns += 1
        C = f"C{proc.conns}"
        t0 = self.now

        def at() -> str:
            return f"@{(self.now - t0) / 1e6:.3f}s"

        def net(level, msg, category="connection", sender="Network"):
            return (
                proc.name,
                proc.pid,
                proc.net_thread,
                "0x0",
                level,
                sender,
                f"com.apple.network:{category}",
                msg,
                None,
            )

        activity = f"0x{r.randint(0x10000, 0x7FFFF):x}"

        def cf(msg, level="Default"):
            return (
                proc.name,
                proc.pid,
                proc.cf_thread,
                activity,
                level,
                "CFNetwork",
                "com.apple.CFNetwork:Default",
                msg,
                None,
            )

        port = r.choices([443, 80, 8443, 993], [85, 7, 5, 3])[0]
        tls = port != 80
        dual = r.random() < 0.7
        interface = r.choice(PATHS_DUAL if dual else PATHS_V4)
        ifname = interface.split()[1].split("[")[0].rstrip(",")  # en0, pdp_ip0, en7
        path = f"satisfied (Path is satisfied), {interface}"
        leaf_path = f"satisfied (Path is satisfied), viable, {interface}"
        by_name = r.random() < 0.9
        host = f"Hostname#{self.hex8()}:{port}" if by_name else f"IPv4#{self.hex8()}:{port}"
        tls_param = "tls, " if tls else ""
        params = f"tcp, url hash: {self.hex8()}, {tls_param}definite, attribution: developer"
        conn_uuid = self.uuid()
        top = f"[{C} {conn_uuid} {host} {params}]"
        task = f"Task <{self.uuid()}>.<{r.randint(1, 40)}>"
        cfn = r.randint(1, 999)  # CFNetwork's own connection number

        if proc.conns == 1:  # first lines of a fresh process
            yield net(
                "Default",
                "networkd_settings_read_from_file initialized networkd settings "
                "by reading plist directly",
                category="",
            )
            yield runningboard_row(
                "process",
                f"[app<{proc.bundle}(501)>:{proc.pid}] Ignoring jetsam update because this "
                "process is not memory-managed",
            )
        if proc.uses_cfnetwork:
            yield cf(
                f"{task} resuming, timeouts(60.0, 604800.0) qos(0x19) voucher(<private>) "
                f"activity({self.uuid()})"
            )
            if tls:
                yield cf(f"Connection {cfn}: enabling TLS")
            yield cf(f"Connection {cfn}: starting, TC(0x0)")
        yield net("Info", f"nw_connection_create_with_id [{C}] create connection to {host}")
        context = (
            f", context: com.apple.CFNetwork.NSURLSession.{{{self.uuid()}}}{{(null)}}{{Y}}"
            f"{{2}}{{0x0}} (private), proc: {self.uuid()}"
            if proc.uses_cfnetwork
            else ""
        )
        yield net("Default", f"[{C} {conn_uuid} {host} {params}{context}] start")

        # The connection (parent-flow) and its path handler, which becomes the resolver.
        P = f"{C}.1"
        yield net("Info", f"nw_endpoint_handler_start [{C} {host} initial parent-flow ((null))]")
        yield net("Default", f"[{C} {host} initial parent-flow ((null))] event: path:start {at()}")
        yield r.randint(100, 400)
        yield net(
            "Default",
            f"[{C} {host} waiting parent-flow ({path})] event: path:satisfied "
            f"{at()}, uuid: {self.uuid()}",
        )
        yield net(
            "Default",
            f"[{C} {host} in_progress parent-flow ({path})] event: flow:start_connect {at()}",
        )
        yield net(
            "Default",
            f"nw_connection_report_state_with_handler_on_nw_queue [{C}] reporting state preparing",
        )
        if proc.uses_cfnetwork:
            yield cf(f"{task} setting up Connection {cfn}")
        yield net(
            "Default",
            f"[{C} {host} in_progress parent-flow ({path})] event: flow:start_child {at()}",
        )
        yield net("Info", f"nw_endpoint_handler_start [{P} {host} initial path ((null))]")
        yield net("Default", f"[{P} {host} initial path ((null))] event: path:start {at()}")
        yield net(
            "Default",
            f"[{P} {host} waiting path ({path})] event: path:satisfied {at()}, uuid: {self.uuid()}",
        )
        resolver = f"[{P} {host} in_progress resolver ({path})]"

        # Addresses: IPv6 first on a dual-stack path (Happy Eyeballs), else IPv4 in turn.
        if not by_name:
            addrs = [host]
        elif dual:
            addrs = [f"IPv6#{self.hex8()}.{port}" for _ in range(r.choice([1, 1, 2]))]
            addrs += [f"IPv4#{self.hex8()}:{port}" for _ in range(r.choice([1, 1, 2]))]
        else:
            addrs = [f"IPv4#{self.hex8()}:{port}" for _ in range(r.choice([1, 1, 2, 3]))]
        if by_name:
            mdns = f"[R{r.randint(10000, 99999)}]"
            masked = f"<mask.hash: '{r.getrandbits(128):032x}'>"
            yield net("Default", f"{resolver} event: resolver:start_dns {at()}")
            yield net(
                "Info",
                f"nw_resolver_create_dns_getaddrinfo_locked [{P}] Starting host "
                f"resolution {host}, flags 0xc000d000 proto 0 using hostname: <NO HOSTNAME>",
            )
            yield mdns_row(
                f"{mdns} getaddrinfo start -- flags: 0xC000D000, ifindex: 0, protocols: 0, "
                f"hostname: {masked}, options: 0x8 {{use-failover}}, client pid: {proc.pid} "
                f"({proc.name})",
            )
            yield self.ms(3, 60)
            yield net(
                "Info",
                f"nw_resolver_create_dns_getaddrinfo_locked_block_invoke [{P}] Got "
                f"{len(addrs)} DNS results",
            )
            for a in addrs:
                yield net(
                    "Info",
                    f"nw_resolver_create_dns_getaddrinfo_locked_block_invoke [{P}] "
                    f"Got DNS result type Add ifindex=0 <private> <private> {a.rsplit(':', 1)[0]}",
                )
            for a in addrs:
                yield net(
                    "Default",
                    f"nw_endpoint_resolver_update {resolver} Adding endpoint handler for {a}",
                )
            yield net("Default", f"{resolver} event: resolver:receive_dns {at()}")
            yield mdns_row(
                f"{mdns} getaddrinfo stop -- hostname: {masked}, client pid: {proc.pid} "
                f"({proc.name})",
            )

        # Each attempt (a child of the resolver): fate drawn up front.
        #   ok: connects; refused: SO_ERROR 61 soon; slow: no answer within the 100 ms race
        #   delay, so the next address is started beside it and one of the two wins.
        fates = [r.choices(["ok", "refused", "slow"], [70, 12, 18])[0] for _ in addrs]
        ptr = f"0x{r.getrandbits(40) | 0x7F0000000000:x}"
        winner = None
        started: list[int] = []

        def leaf(k, state, p=leaf_path):
            return f"[{P}.{k + 1} {addrs[k]} {state} socket-flow ({p})]"

        def start_child(k):
            kid = f"{P}.{k + 1}"
            started.append(k)
            yield net(
                "Info",
                f"nw_endpoint_resolver_start_next_child {resolver} starting child "
                f"endpoint {addrs[k]}",
            )
            yield net("Info", f"nw_endpoint_handler_start [{kid} {addrs[k]} initial path ((null))]")
            yield net(
                "Default", f"[{kid} {addrs[k]} initial path ((null))] event: path:start {at()}"
            )
            yield net(
                "Default",
                f"[{kid} {addrs[k]} waiting path ({path})] event: path:satisfied "
                f"{at()}, uuid: {self.uuid()}",
            )
            if k + 1 < len(addrs):
                yield net(
                    "Info",
                    f"nw_endpoint_resolver_start_next_child {resolver} starting next "
                    "child endpoint in 100ms",
                )
            yield net("Default", f"{leaf(k, 'in_progress')} event: flow:start_connect {at()}")
            yield net("Debug", f"nw_socket_connect [{kid}:1] Calling connectx(…)")
            family = "IPv6" if addrs[k].startswith("IPv6") else "IPv4"
            kernel = (
                f"tcp connect outgoing: [<{family}-redacted>:{r.randint(49152, 65535)}<->"
                f"<{family}-redacted>:{port}] interface: {ifname} "
                "(skipped: 0)"
            )
            extra = None
            if r.random() < 0.3:  # kernel rows run on without indentation
                extra = [
                    f"so_gencnt: {r.randint(10**6, 10**7)} t_state: SYN_SENT process: "
                    f"{proc.name}:{proc.pid} SYN in/out: 0/1 bytes in/out: 0/0 pkts in/out: "
                    f"0/0 rtt: 0.0 ms rttvar: 250.0 ms base_rtt: 0 ms error: 0 so_error: 0 "
                    f"svc/tc: 0 flow: 0x{self.hex8()}"
                ]
            yield ("kernel", 0, "0x2c8", "0x0", "Default", None, None, kernel, extra)

        def refuse(k):
            kid = f"{P}.{k + 1}"
            yield net(
                "Error",
                f"nw_socket_handle_socket_event [{kid}:1] Socket SO_ERROR [61: Connection refused]",
            )
            yield net(
                "Default",
                f"nw_endpoint_flow_failed_with_error {leaf(k, 'in_progress')} "
                "already failing, returning",
            )
            yield net(
                "Default",
                f"{leaf(k, 'failed')} event: flow:failed_connect {at()}, error Connection refused",
            )

        def connect(k):
            kid = f"{P}.{k + 1}"
            yield net(
                "Default",
                f"nw_socket_handle_socket_event [{kid}:1] Socket received CONNECTED event",
            )
            yield net(
                "Default",
                f"nw_flow_connected {leaf(k, 'in_progress')} Transport protocol connected (socket)",
            )
            yield net("Default", f"{leaf(k, 'in_progress')} event: flow:finish_transport {at()}")
            yield net("Default", f"{resolver} event: flow:finish_transport {at()}")
            if tls:
                bssl = {"category": "boringssl", "sender": "libboringssl.dylib"}
                line = r.randint(1900, 2400)
                yield net(
                    "Info",
                    f"boringssl_context_info_handler({line}) [{kid}:2][{ptr}] "
                    "Client handshake started",
                    **bssl,
                )
                for state in HANDSHAKE[: r.randint(2, len(HANDSHAKE))]:
                    yield net(
                        "Info",
                        f"boringssl_context_info_handler({line + 17}) [{kid}:2]"
                        f"[{ptr}] Client handshake state: {state}",
                        **bssl,
                    )
                yield self.ms(10, 60)
                yield net(
                    "Info",
                    f"boringssl_context_evaluate_trust_async({r.randint(1500, 1800)}) "
                    f"[{kid}:2][{ptr}] Performing external trust evaluation",
                    **bssl,
                )
                if proc.uses_cfnetwork:
                    yield cf(f"Connection {cfn}: asked to evaluate TLS Trust")
                    yield self.ms(2, 30)
                    yield cf(f"Connection {cfn}: TLS Trust result 0")
                yield net(
                    "Info",
                    f"boringssl_context_certificate_verify_callback("
                    f"{r.randint(1800, 2500)}) [{kid}:2][{ptr}] Certificate verification "
                    "result: OK",
                    **bssl,
                )
                yield net(
                    "Info",
                    f"boringssl_context_info_handler({line + 6}) [{kid}:2][{ptr}] "
                    "Client handshake done",
                    **bssl,
                )
                yield net(
                    "Default",
                    f"nw_protocol_boringssl_signal_connected({r.randint(700, 900)}) "
                    f"[{kid}:2][{ptr}] TLS connected [version(0x0304) ciphersuite("
                    f"{r.choice(CIPHERS)}) group(0x001d) signature_alg(0x0804) alpn("
                    f"{r.choice(['h2', 'http/1.1'])}) resumed(0) offered_ticket(0) "
                    f"false_started(0) ocsp_received(0) sct_received(0) connect_time("
                    f"{r.randint(20, 400)}ms) flight_time({r.randint(10, 200)}ms) rtt("
                    f"{r.randint(10, 200)}ms) write_stalls(0) read_stalls({r.randint(0, 5)}) "
                    "pake(0x0000)]",
                    **bssl,
                )
            yield net(
                "Default",
                f"nw_flow_connected {leaf(k, 'in_progress')} Output protocol "
                f"connected (CFNetworkConnection-{r.randint(10**9, 4 * 10**9)})",
            )
            yield net("Default", f"{leaf(k, 'ready')} event: flow:finish_connect {at()}")
            yield net(
                "Default",
                f"[{P} {host} ready resolver ({path})] event: flow:child_finish_connect {at()}",
            )

        def cancel_child(k):
            yield net("Info", f"nw_endpoint_handler_cancel {leaf(k, 'in_progress')}")
            yield net(
                "Default",
                f"nw_flow_disconnected [{P}.{k + 1} {addrs[k]} cancelled "
                "socket-flow ((null))] Output protocol disconnected",
            )

        k = 0
        while k < len(addrs):
            yield from start_child(k)
            yield self.ms(5, 60)
            fate = fates[k]
            if fate == "ok":
                yield from connect(k)
                winner = k
                break
            if fate == "refused":
                yield from refuse(k)
                k += 1
                continue
            # slow: the race delay runs out and the next address starts beside it
            yield self.ms(60, 100)
            if k + 1 == len(addrs):
                yield self.ms(100, 400)
                yield from connect(k)
                winner = k
                break
            yield from start_child(k + 1)
            yield self.ms(10, 120)
            winner, loser = (k, k + 1) if r.random() < 0.6 else (k + 1, k)
            yield from connect(winner)
            yield from cancel_child(loser)
            break

        if winner is None:  # every attempt refused
            yield net(
                "Default",
                f"[{P} {host} failed resolver ({path})] event: resolver:children_failed {at()}",
            )
            yield net(
                "Default",
                f"[{C} {host} failed parent-flow ({path})] event: "
                f"flow:failed_connect {at()}, error Connection refused",
            )
            yield net(
                "Error",
                f"nw_connection_report_state_with_handler_on_nw_queue [{C}] "
                "reporting state failed error Connection refused",
            )
            if proc.uses_cfnetwork:
                yield cf(
                    f"Connection {cfn}: failed to connect 1:61, reason -1, alternate connection: 0",
                    level="Error",
                )
                yield cf(
                    f"{task} HTTP load failed, 0/0 bytes (error code: -1004 [1:61])", level="Error"
                )
            yield self.ms(1, 20)
            yield net("Default", f"{top} cancel")
            yield net(
                "Default",
                f"nw_connection_report_state_with_handler_on_nw_queue [{C}] "
                "reporting state cancelled",
            )
            yield net("Default", f"{top} cancelled")
            return

        won = addrs[winner]
        yield net(
            "Default",
            f"nw_flow_connected [{C} {won} in_progress parent-flow ({path})] "
            "Output protocol connected (endpoint_flow)",
        )
        yield net(
            "Default", f"[{C} {won} ready parent-flow ({path})] event: flow:finish_connect {at()}"
        )
        yield net(
            "Default",
            f"nw_connection_report_state_with_handler_on_nw_queue [{C}] reporting state ready",
        )
        if proc.uses_cfnetwork:
            yield cf(f"Connection {cfn}: connected successfully")
            yield cf(f"{task} now using Connection {cfn}")
            yield self.ms(30, 900)
            yield cf(f"{task} done using Connection {cfn}")
        # Idle until the connection is torn down, with a few data-transfer notes meanwhile.
        for _ in range(r.choice([0, 0, 1, 2])):
            yield self.ms(200, 4000)
            yield net(
                "Error",
                f"nw_socket_copy_info [{C}:1] getsockopt TCP_INFO failed [102: "
                "Operation not supported on socket]",
            )
        yield int(r.expovariate(1 / 8e6))

        yield net("Default", f"{top} cancel")
        yield net("Info", f"nw_endpoint_handler_cancel [{C} {won} ready parent-flow ({path})]")
        yield net("Info", f"nw_endpoint_handler_cancel [{P} {host} ready resolver ({path})]")
        yield net("Info", f"nw_endpoint_handler_cancel {leaf(winner, 'ready')}")
        yield net(
            "Default",
            f"nw_flow_disconnected [{P}.{winner + 1} {won} cancelled socket-flow "
            "((null))] Output protocol disconnected",
        )
        yield net(
            "Default",
            f"nw_connection_report_state_with_handler_on_nw_queue [{C}] reporting state cancelled",
        )
        summary = None
        if r.random() < 0.9:
            if won.startswith("IPv6"):
                local = (
                    f"2a02:8109:a1c0:5e00:{r.getrandbits(16):x}:{r.getrandbits(16):x}:"
                    f"{r.getrandbits(16):x}:{r.getrandbits(16):x}.{r.randint(49152, 65535)}"
                )
            else:
                local = f"192.168.{r.randint(0, 9)}.{r.randint(2, 254)}:{r.randint(49152, 65535)}"
            dns = r.uniform(0.003, 0.06)
            tcp = r.uniform(0.01, 0.2)
            summary = [
                f"\t[{P}.{winner + 1} {self.uuid()} {local}<->{won}]",
                f"\tConnected Path: {leaf_path}",
                f"\tPrivacy Stance: {r.choice(['Not Eligible', 'Eligible', 'Direct'])}",
                f"\tDuration: {(self.now - t0) / 1e6:.3f}s, DNS @0.001s took {dns:.3f}s, TCP "
                f"@{dns + 0.002:.3f}s took {tcp:.3f}s"
                + (f", TLS 1.3 took {r.uniform(0.02, 0.2):.3f}s" if tls else ""),
                f"\tbytes in/out: {r.randint(300, 9_000_000)}/{r.randint(300, 90_000)}, packets "
                f"in/out: {r.randint(3, 9000)}/{r.randint(3, 900)}, rtt: "
                f"{r.uniform(0.01, 0.2):.3f}s, retransmitted bytes: "
                f"{r.choice([0, 0, 0, 1448, 2896])}, out-of-order bytes: 0",
                f"\tecn packets sent/acked/marked/lost: {r.randint(0, 9)}/0/0/0",
            ]
        row = net("Default", f"{top} cancelled")
        yield (*row[:-1], summary)

    # ---- rows of other subsystems, not tied to a connection ---------------------------------

    def other(self) -> tuple:
        r = self.r
        x = r.random()
        pid = r.randint(300, 9000)
        if x < 0.25:
            return mdns_row(
                f"[R{r.randint(10000, 99999)}] DNSServiceQueryRecord({r.randint(10000, 60000)}, "
                f"0, <mask.hash: '{r.getrandbits(96):024x}'>, "
                f"{r.choice(['Addr', 'AAAA', 'HTTPS'])}) START PID[{pid}](Weather)",
            )
        if x < 0.40:
            return runningboard_row(
                "assertion",
                f"Acquiring assertion targeting [app<com.apple.weather({r.randint(500, 502)})>:"
                f"{pid}] from originator [osservice<com.apple.WebKit.Networking(501)>:1023] "
                f'with description <RBSAssertionDescriptor| "WebProcess Background Assertion" '
                f"ID:163-1023-{r.randint(1000, 99999)} target:{pid}>",
            )
        if x < 0.55:
            return (
                "kernel",
                0,
                "0x2c8",
                "0x0",
                "Default",
                "Sandbox",
                None,
                f"Sandbox: Weather({pid}) deny(1) file-read-data /private/var/db/"
                f"{self.hex8()}.plist",
                None,
            )
        if x < 0.65:
            return (
                "kernel",
                0,
                "0x9e1",
                "0x0",
                "Default",
                None,
                None,
                f"AppleBCMWLANCore:setPowerSave: powersave {r.choice(['on', 'off'])} "
                f"rssi -{r.randint(40, 85)} noise -{r.randint(88, 98)}",
                None,
            )
        if x < 0.85:
            return (
                "symptomsd",
                211,
                "0x7b1",
                "0x0",
                "Default",
                "SymptomEvaluator",
                "com.apple.symptomsframework:analytics",
                f"Data Usage for Weather on flow {r.randint(1000, 99999)} - WiFi in/out: "
                f"{r.randint(0, 10**8)}/{r.randint(0, 10**6)}, Cell in/out: 0/0, total "
                f"duration: {r.uniform(0, 60):.3f}",
                None,
            )
        return (
            "nsurlsessiond",
            588,
            "0x9c3",
            "0x0",
            "Default",
            "CFNetwork",
            "com.apple.CFNetwork:Summary",
            f"Task <{self.uuid()}>.<{r.randint(1, 300)}> summary for task success "
            f"{{transaction_duration_ms={r.randint(5, 3000)}, response_status=200, "
            f'connection={r.randint(1, 900)}, protocol="h2", request_bytes='
            f"{r.randint(100, 5000)}, response_bytes={r.randint(100, 900000)}, "
            "cache_hit=false}",
            None,
        )

    # ---- the whole file ---------------------------------------------------------------------

    def write(self, n_lines: int, out) -> None:
        """Write exactly n_lines lines: header, rows, trailer."""
        if n_lines < 4:
            raise SystemExit("N must be at least 4 (header and trailer)")
        r = self.r
        out.write(HEADER + "\n")
        budget = n_lines - 4  # lines left for rows and their continuations
        live: list[Live] = []
        concurrency = 10

        def emit(item) -> None:
            nonlocal budget
            proc_name, pid, thread, activity, level, sender, subsystem, msg, extra = item
            line = self.row(proc_name, pid, thread, activity, level, sender, subsystem, msg)
            if extra and len(extra) < budget:  # a block that does not fit is left off
                line += "\n" + "\n".join(extra)
                budget -= len(extra)
            out.write(line + "\n")
            budget -= 1

        while budget > 0:
            # Keep a handful of connections alive; new ones start a little later.
            while len(live) < concurrency:
                program = r.choices(PROGRAMS, [p[2] for p in PROGRAMS])[0]
                proc = self.process(program)
                self.seq += 1
                due = self.now + int(r.expovariate(1 / 40_000))
                heapq.heappush(live, Live(due, self.seq, self.connection(proc)))
                if r.random() < 0.05:
                    concurrency = r.randint(6, 16)
            conn = heapq.heappop(live)
            self.now = max(self.now, conn.due)
            # Run the script until it waits (or ends), a row at a time.
            for item in conn.script:
                if isinstance(item, int):
                    conn.due = self.now + item
                    heapq.heappush(live, conn)
                    break
                emit(item)
                self.now += r.randint(3, 120)
                if budget and r.random() < 0.05:  # unrelated rows of other subsystems
                    emit(self.other())
                    self.now += r.randint(3, 120)
                if budget <= 0:
                    break

        out.write("-" * 116 + "\n")
        lv = self.levels
        out.write(
            f"Log      - Default: {lv['Default']:>10}, Info: {lv['Info']:>16}, "
            f"Debug: {lv['Debug']:>13}, Error: {lv['Error']:>10}, Fault: {lv['Fault']:>10}\n"
        )
        out.write(f"Activity - Create: {0:>11}, Transition: {0:>10}, Actions: {0:>11}\n")


def generate(n_lines: int, path: str, seed: int = 1) -> None:
    """Write the export to `path` (`-` for standard output)."""
    if path == "-":
        Generator(seed).write(n_lines, sys.stdout)
        return
    with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        Generator(seed).write(n_lines, out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, metavar="N", help="lines to write (header and trailer included)")
    ap.add_argument("out", metavar="OUT", help="file to write, or - for standard output")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = ap.parse_args()
    generate(args.n, args.out, args.seed)


if __name__ == "__main__":
    main()
