#!/usr/bin/env python3
"""How fast is `logflow export` on a big `log show` export, next to what is possible?

    python benchmarks/bench.py [--lines 1000000] [--repeat 3] [--lark-sample 2000]
                               [--file FILE] [--seed S] [--logflow PATH] [--scale K]
                               [--baseline PATH]

It generates one export (benchmarks/generate.py, into a temporary folder unless --file names
an existing file), then runs the contestants, each in a fresh subprocess, --repeat rounds in
an order that rotates from round to round (so that no contestant always runs on a cold or a
warm cache), and reports medians, CPU seconds and peak resident memory:

- reference: Polars alone, column-wise. Reads the lines as one string column, extracts the
  `log show` envelope and the `[C8.1.1 endpoint state mode (path)]` descriptor with
  hand-written regexes (`str.extract_groups`), casts the timestamp and numbers, and writes
  Parquet (zstd). No grammar, no records, no connection trees: the practical limit of this
  kind of parsing on this machine.
- logflow: `logflow export FILE -o DIR`, the installed console script, end to end.
- summary: `logflow summary FILE`, end to end.
- 1 worker, 2 workers: `logflow export --workers N` with POLARS_MAX_THREADS=N, the same
  file: how well the pipeline spreads over the cores.
- lark: the project's own grammars applied line by line with Lark, on the first
  --lark-sample lines only, extrapolated to the whole file (0 leaves it out).
- baseline: with --baseline, another logflow console script (an earlier commit's).

After the rounds, one more subprocess exports the file in-process with one worker and
POLARS_MAX_THREADS=1 and charges the CPU seconds to the pipeline's stages
(benchmarks/stages.py). With --scale K (K >= 2), a file of K times the lines (same seed) is
then generated and exported once, for its peak RSS, and deleted.

The verdicts are those of the performance issues (16, and 4's Lark target), each PASS or FAIL.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import stages

HERE = Path(__file__).resolve().parent
WORKERS = {"1 worker": 1, "2 workers": 2}
CONTESTANTS = ("reference", "logflow", "summary", *WORKERS)
CONTESTANT_NOTES = (
    "reference: Polars alone (two regexes, Parquet). logflow: `logflow export`. summary:\n"
    "`logflow summary`. N worker(s): `logflow export --workers N`, POLARS_MAX_THREADS=N."
)

# The targets, checked at the end. Those that compare logflow with the reference are ratios
# measured in the same rounds, so they hold whatever the machine.
TARGET_LINES = 1_000_000  # the targets are for this input
TARGET_VS_REFERENCE = 2.5  # export time / reference time, at most
GOAL_VS_REFERENCE = 2.0
TARGET_LINES_PER_S = 150_000  # export, at least
TARGET_RSS_MIB = 1024  # export peak RSS at 1M lines, at most
TARGET_SCALE_RSS = 1.2  # export peak RSS at 10x the lines / at 1x, at most
TARGET_SCALE = 10
TARGET_SUMMARY_VS_REFERENCE = 2.0  # summary time / reference time, at most
TARGET_SPEEDUP = 1.8  # one worker's time / two workers' time, at least
TARGET_VS_LARK = 15.0  # lark time for all lines / export time, at least

# ---- the reference: hand-written regexes, evaluated by Polars over whole columns -----------

# `2025-03-14 10:32:05.412100+0100 0x1c4a2    Default     0x0                  2317   0    `
# `Weather: (Network) [com.apple.network:connection] message`; sender and subsystem optional
# (kernel rows have neither). Continuation lines do not match and get nulls.
ENVELOPE = (
    r"^(?P<timestamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+[+-]\d{4}) +"
    r"(?P<thread>0x[0-9a-fA-F]+) +(?P<type>[A-Z][a-z]+) +(?P<activity>0x[0-9a-fA-F]+) +"
    r"(?P<pid>\d+) +(?P<ttl>\d+) +(?P<process>[^:]+): "
    r"(?:\((?P<sender>[^()]+)\) )?"
    r"(?:\[(?P<subsystem>[A-Za-z][\w.-]*):(?P<category>[^\]\s]*)\] )?"
    r"(?P<message>.*)$"
)
# `[C8.1.1 IPv6#a0c4f19e.443 in_progress socket-flow (satisfied ...)]` anywhere in the message.
DESCRIPTOR = (
    r"\[(?P<conn_id>C\d+(?:\.\d+)*) (?P<endpoint>\S+) (?P<state>[a-z_]+) "
    r"(?P<mode>[a-z]+(?:-[a-z]+)*) \("
)
# Any other mention of a connection: `[C8]`, `[C8.1.1:2]`, `[C8 <uuid> ...] start`.
CONN_REF = r"\[(C\d+(?:\.\d+)*)[\]: ]"


def run_reference(path: str, out_dir: str) -> dict:
    import polars as pl

    lines = pl.scan_csv(
        path,
        has_header=False,
        separator="\x1f",  # never occurs in a log: each line is one field
        quote_char=None,
        new_columns=["line"],
        schema={"line": pl.String},
        infer_schema=False,
    )
    table = (
        lines.with_row_index("line_no", offset=1)
        .with_columns(pl.col("line").str.extract_groups(ENVELOPE).alias("env"))
        .unnest("env")
        .with_columns(pl.col("message").str.extract_groups(DESCRIPTOR).alias("desc"))
        .unnest("desc")
        .with_columns(
            pl.col("timestamp").str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", time_zone="UTC"),
            pl.col("pid").cast(pl.Int64),
            pl.col("ttl").cast(pl.Int32),
            pl.coalesce("conn_id", pl.col("message").str.extract(CONN_REF, 1)).alias("conn_id"),
        )
        .drop("line")
    )
    out = Path(out_dir) / "reference.parquet"
    table.sink_parquet(out, compression="zstd")
    return {"rows": pl.scan_parquet(out).select(pl.len()).collect().item()}


# ---- lark: the project's grammars, one line at a time -------------------------------------


def run_lark(path: str, sample: int) -> dict:
    from logflow.reading import grammar

    envelope, message = grammar.load("envelope"), grammar.load("message")
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in itertools.islice(f, sample)]
    unmatched = 0
    start = time.perf_counter()
    for line in lines:
        row = envelope.parse_with_lark(line)
        if row is None:
            unmatched += 1
        elif row.get("message") is not None and message.parse_with_lark(row["message"]) is None:
            unmatched += 1
    seconds = time.perf_counter() - start
    return {
        "lines": len(lines),
        "bytes": sum(len(line.encode()) + 1 for line in lines),
        "parse_seconds": seconds,
        "unmatched": unmatched,
    }


def worker(argv: list[str]) -> None:
    """`bench.py _worker reference FILE OUT`, `bench.py _worker lark FILE SAMPLE` or
    `bench.py _worker stages FILE -`."""
    which, path, arg = argv
    if which == "reference":
        result = run_reference(path, arg)
    elif which == "stages":
        result = stages.stage_seconds(Path(path))
    else:
        result = run_lark(path, int(arg))
    print(json.dumps(result))


# ---- measuring a subprocess ---------------------------------------------------------------


def measure(
    cmd: list[str], workdir: Path, env: dict[str, str] | None = None
) -> tuple[float, float, str, float]:
    """Run cmd; return (wall seconds, peak RSS MiB, stdout, CPU seconds). Exits on failure."""
    stdout_path, stderr_path = workdir / "stdout.txt", workdir / "stderr.txt"
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        # wait4 gives this child's own rusage (with its waited-for descendants), so each run's
        # peak RSS is its own, not the maximum over every child so far as RUSAGE_CHILDREN is.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = stdout_path.read_text()
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{stderr_path.read_text()[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, usage.ru_maxrss / 1024, stdout, cpu  # ru_maxrss is in KiB on Linux


def logflow_command(name: str, args, path: Path, out_dir: Path) -> tuple[list[str], dict]:
    """The command line and environment of a logflow contestant."""
    script = args.baseline if name == "baseline" else args.logflow
    if name == "summary":
        return [script, "summary", "-q", str(path)], {}
    export = [script, "export", "-q", str(path), "-o", str(out_dir)]
    if name in WORKERS:
        # Polars' threads as many as logflow's: the parallel efficiency of the pipeline alone.
        n = WORKERS[name]
        return [*export, "--workers", str(n)], {"POLARS_MAX_THREADS": str(n)}
    return export, {}


def run_round(name: str, args, path: Path, scratch: Path) -> dict:
    out_dir = scratch / f"out-{name}"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    me = [sys.executable, str(Path(__file__).resolve()), "_worker"]
    if name == "reference":
        wall, rss, stdout, cpu = measure([*me, "reference", str(path), str(out_dir)], scratch)
        return {"seconds": wall, "rss": rss, "cpu": cpu, "info": json.loads(stdout)}
    if name == "lark":
        wall, rss, stdout, _ = measure([*me, "lark", str(path), str(args.lark_sample)], scratch)
        info = json.loads(stdout)
        return {"seconds": info["parse_seconds"], "rss": rss, "cpu": None, "info": info}
    cmd, env = logflow_command(name, args, path, out_dir)
    wall, rss, stdout, cpu = measure(cmd, scratch, env)
    return {"seconds": wall, "rss": rss, "cpu": cpu, "info": (stdout.splitlines() or [""])[0]}


def run_stages(path: Path, scratch: Path) -> dict:
    """The CPU seconds by stage of one serial export, in-process (benchmarks/stages.py)."""
    me = [sys.executable, str(Path(__file__).resolve()), "_worker", "stages", str(path), "-"]
    _, _, stdout, _ = measure(me, scratch, {"POLARS_MAX_THREADS": "1"})
    return json.loads(stdout)


# ---- reporting ----------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for pkg in ("polars", "lark", "logflow"):
        try:
            versions.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{pkg} not installed")
    return (
        f"Machine: nproc {cpus()}, {model}, {platform.system()} {platform.release()}\n"
        f"Python {platform.python_version()}, {', '.join(versions)}"
    )


def cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def generate(n_lines: int, path: Path, seed: int) -> None:
    """Write n_lines with generate.py in a subprocess: it streams, so any size is fine."""
    cmd = [sys.executable, str(HERE / "generate.py"), str(n_lines), str(path), "--seed", str(seed)]
    subprocess.run(cmd, check=True)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def per_round(runs: dict[str, list[dict]], a: str, b: str, key: str = "seconds") -> float:
    """The median over the rounds of a's figure over b's: the two ran in the same round, on
    the same file, so the ratio holds less of the machine's noise than a ratio of medians."""
    return statistics.median(x[key] / y[key] for x, y in zip(runs[a], runs[b], strict=True))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines to generate (1000000)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the median is reported (3)")
    ap.add_argument(
        "--lark-sample",
        type=int,
        default=2_000,
        help="lines parsed per-line with Lark, then extrapolated; 0 leaves Lark out (2000)",
    )
    ap.add_argument("--file", type=Path, help="benchmark this export instead of generating one")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    ap.add_argument(
        "--logflow",
        default=str(Path(sys.executable).parent / "logflow"),
        help="the logflow console script (default: beside this Python)",
    )
    ap.add_argument(
        "--scale",
        type=int,
        default=0,
        metavar="K",
        help="also export a generated file of K times the lines once, for peak RSS (0: off)",
    )
    ap.add_argument(
        "--baseline",
        metavar="PATH",
        help="another logflow console script (an earlier commit's) to time in the same rounds",
    )
    args = ap.parse_args()
    if not Path(args.logflow).exists():
        found = shutil.which("logflow")
        if found is None:
            sys.exit(f"no logflow console script at {args.logflow}; pass --logflow")
        args.logflow = found
    if args.repeat < 1 or args.lark_sample < 0:
        sys.exit("--repeat must be at least 1, --lark-sample at least 0")
    if args.scale < 0 or args.scale == 1:
        sys.exit("--scale must be 0 (off) or at least 2")
    if args.scale and args.file is not None:
        sys.exit("--scale compares two generated files; leave out --file")
    return args


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        worker(sys.argv[2:])
        return
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # keep stdout in step with stderr's progress
    print(machine())
    # On /tmp, not wherever TMPDIR points: the scaled file can take gigabytes.
    with tempfile.TemporaryDirectory(prefix="logflow-bench-", dir="/tmp") as tmp:
        scratch = Path(tmp)
        path = input_file(args, scratch)
        with open(path, "rb") as f:
            n_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        size_mb = path.stat().st_size / 1e6
        print(f"Input: {n_lines:,} lines, {size_mb:.1f} MB\n")
        if args.scale:
            check_room(args.scale, path, scratch)

        contestants = [*CONTESTANTS, *(["lark"] if args.lark_sample else [])]
        contestants += ["baseline"] if args.baseline else []
        runs: dict[str, list[dict]] = {name: [] for name in contestants}
        for i in range(args.repeat):
            k = i % len(contestants)
            for name in contestants[k:] + contestants[:k]:  # rotate who goes first
                result = run_round(name, args, path, scratch)
                runs[name].append(result)
                cpu = f"  CPU {result['cpu']:6.1f}s" if result["cpu"] is not None else ""
                progress(
                    f"round {i + 1}/{args.repeat}  {name:<12} {result['seconds']:8.2f}s{cpu}  "
                    f"peak RSS {result['rss']:7.1f} MiB"
                )
        progress("stages: one serial export in-process")
        stage_run = run_stages(path, scratch)
        scaled = run_scaled(args, n_lines, scratch) if args.scale else None

    report(args, runs, stage_run, scaled, n_lines, size_mb)


def input_file(args, scratch: Path) -> Path:
    if args.file is not None:
        if not args.file.is_file():
            sys.exit(f"no such file: {args.file}")
        return args.file
    path = scratch / f"logshow-{args.lines}.log"
    start = time.perf_counter()
    generate(args.lines, path, args.seed)
    seconds = time.perf_counter() - start
    print(f"Generated {path.name} in {seconds:.1f}s (generate.py, seed {args.seed})")
    return path


def check_room(scale: int, path: Path, scratch: Path) -> None:
    """Stop before the rounds if the scaled file would not fit: a full disk would waste them.
    The 3x leaves room for the export's outputs and spill files beside the input."""
    need = scale * path.stat().st_size
    free = shutil.disk_usage(scratch).free
    if free < 3 * need:
        sys.exit(
            f"--scale {scale} writes a {need / 1e9:.1f} GB file to {scratch.parent}; "
            f"{free / 1e9:.1f} GB free, at least {3 * need / 1e9:.1f} GB wanted"
        )


def run_scaled(args, n_lines: int, scratch: Path) -> dict:
    big = scratch / f"logshow-{args.scale * n_lines}.log"
    progress(f"generating {args.scale * n_lines:,} lines ({args.scale}x)")
    generate(args.scale * n_lines, big, args.seed)
    out_dir = scratch / "out-scale"
    try:
        progress(f"exporting {big.name} once")
        cmd = [args.logflow, "export", "-q", str(big), "-o", str(out_dir)]
        wall, rss, _, _ = measure(cmd, scratch)
    finally:
        big.unlink()
        shutil.rmtree(out_dir, ignore_errors=True)
    progress(f"scale {args.scale}x  logflow  {wall:8.2f}s  peak RSS {rss:7.1f} MiB")
    return {"lines": args.scale * n_lines, "seconds": wall, "rss": rss}


def report(args, runs, stage_run, scaled, n_lines: int, size_mb: float) -> None:
    med = {name: statistics.median(r["seconds"] for r in rounds) for name, rounds in runs.items()}
    rss = {name: max(r["rss"] for r in rounds) for name, rounds in runs.items()}
    cpu = {
        name: statistics.median(r["cpu"] for r in rounds)
        for name, rounds in runs.items()
        if rounds[0]["cpu"] is not None
    }
    lark = runs["lark"][-1]["info"] if "lark" in runs else None
    lark_all = med["lark"] / lark["lines"] * n_lines if lark else None

    print(f"\nMedian of {args.repeat} round(s), {n_lines:,} lines, {size_mb:.1f} MB:\n")
    print(f"{'contestant':<13} {'median s':>9} {'lines/s':>10} {'CPU s':>7} {'peak RSS MiB':>13}")
    for name in runs:
        secs = lark_all if name == "lark" else med[name]
        mark = "*" if name == "lark" else ""
        used = f"{cpu[name]:>7.1f}" if name in cpu else f"{'':>7}"
        print(f"{name + mark:<13} {secs:>9.2f} {n_lines / secs:>10,.0f} {used} {rss[name]:>13.0f}")
    print(f"\n{CONTESTANT_NOTES}")
    if lark:
        print(
            f"* lark was sampled: {lark['lines']:,} lines parsed per line in "
            f"{med['lark']:.2f}s (grammar loading\n  not counted), extrapolated; "
            f"{lark['unmatched']} sampled line(s) matched no shape."
        )
    print(f"  logflow said: {runs['logflow'][-1]['info']}")
    busy = cpu["logflow"] / med["logflow"]
    print(
        f"  busy cores, logflow export: {busy:.2f} of {cpus()} "
        f"(median CPU {cpu['logflow']:.1f}s over median wall {med['logflow']:.2f}s)"
    )
    if args.baseline:
        print(
            f"  baseline ({args.baseline}): wall {per_round(runs, 'logflow', 'baseline'):.2f}x, "
            f"CPU {per_round(runs, 'logflow', 'baseline', 'cpu'):.2f}x its own "
            "(logflow over baseline, median of the rounds' ratios)"
        )

    print("\nCPU seconds by stage, one serial export in-process (POLARS_MAX_THREADS=1):\n")
    stages.print_table(stage_run)

    targets = target_rows(args, runs, med, rss, n_lines, scaled, lark_all)
    print(f"\n{'target':<40} {'measured':>10}  {'wanted':<24} verdict")
    for what, measured, wanted, ok in targets:
        print(f"{what:<40} {measured:>10}  {wanted:<24} {verdict(ok)}")
    if n_lines != TARGET_LINES:
        print(
            f"(the targets are for --lines {TARGET_LINES}: at {n_lines:,} lines, process start\n"
            " weighs differently, and the memory targets say n/a unless already over)"
        )


def target_rows(args, runs, med, rss, n_lines, scaled, lark_all) -> list[tuple]:
    vs_ref = per_round(runs, "logflow", "reference")
    summary_vs_ref = per_round(runs, "summary", "reference")
    speedup = per_round(runs, "1 worker", "2 workers")
    lps = n_lines / med["logflow"]
    rss_ok: bool | None = rss["logflow"] <= TARGET_RSS_MIB
    if n_lines < TARGET_LINES and rss_ok:
        rss_ok = None  # under the limit on a smaller input says nothing about 1M lines
    rows = [
        (
            "export time / reference time",
            f"{vs_ref:.2f}x",
            f"<= {TARGET_VS_REFERENCE}x (goal {GOAL_VS_REFERENCE}x)",
            vs_ref <= TARGET_VS_REFERENCE,
        ),
        ("export lines/s", f"{lps:,.0f}", f">= {TARGET_LINES_PER_S:,}", lps >= TARGET_LINES_PER_S),
        ("export peak RSS", f"{rss['logflow']:.0f} MiB", f"<= {TARGET_RSS_MIB} MiB", rss_ok),
        (
            "summary time / reference time",
            f"{summary_vs_ref:.2f}x",
            f"<= {TARGET_SUMMARY_VS_REFERENCE}x",
            summary_vs_ref <= TARGET_SUMMARY_VS_REFERENCE,
        ),
        (
            "1 worker time / 2 workers time",
            f"{speedup:.2f}x",
            f">= {TARGET_SPEEDUP}x",
            speedup >= TARGET_SPEEDUP if cpus() >= 2 else None,
        ),
    ]
    if scaled is not None:
        ratio = scaled["rss"] / rss["logflow"]
        rows.append(
            (
                f"peak RSS at {args.scale}x / at 1x",
                f"{ratio:.2f}x",
                f"<= {TARGET_SCALE_RSS}x at {TARGET_SCALE}x",
                ratio <= TARGET_SCALE_RSS if args.scale == TARGET_SCALE else None,
            )
        )
    if lark_all is not None:
        vs_lark = lark_all / med["logflow"]
        rows.append(
            (
                "lark time (all lines) / export time",
                f"{vs_lark:.0f}x",
                f">= {TARGET_VS_LARK:.0f}x",
                vs_lark >= TARGET_VS_LARK,
            )
        )
    return rows


if __name__ == "__main__":
    main()
