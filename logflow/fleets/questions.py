"""Questions across a fleet dataset, as LazyFrames over its Parquet files.

:func:`fleet` opens a dataset (``logflow.fleet("fleet/")``): each table is a
``scan_parquet(..., hive_partitioning=True)``, with the ``device`` and ``date`` its folders
give. The questions dedupe first: two overlapping exports of one device hold the same
records, and the same connections, races, proxy failures and path changes built from them,
which count once (a connection is one per device, process, pid, id and start; the copy kept is
the one that saw most of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from logflow import schema
from logflow.engine import ENGINE
from logflow.errors import DatasetError
from logflow.fleets import dataset as layout

# How many path changes within a minute on one device make a storm.
STORM_CHANGES = 5
STORM_WINDOW = "1m"
# The partition columns are strings: `date` is `unknown` where the log printed no date.
HIVE_SCHEMA = {"device": pl.String, "date": pl.String}
# What makes one of each row, whichever export of a device holds it: the same record, or
# the same connection (race, listener) starting at the same time, the same proxy failure or
# path change at the same time. (Not the id alone: a simulator booted for every test run
# gives its app the same pid, and the app numbers its connections from C1 again.) A row with
# no time is one of its export only.
DEVICE_PROCESS = ("device", "process", "pid")
SAME_RECORD = ("device", "ts", "process", "pid", "tid", "message")
SAME_ROW = {
    "connections": (*DEVICE_PROCESS, "conn_id", "first_ts"),
    "races": (*DEVICE_PROCESS, "parent_id", "first_ts"),
    "proxy_failures": (*DEVICE_PROCESS, "conn_id", "ts", "proxy_kind", "error"),
    "path_changes": (*DEVICE_PROCESS, "conn_id", "ts", "change", "from", "to"),
    "listeners": (*DEVICE_PROCESS, "listener_id", "first_ts"),
}
# The copy kept of a row two exports hold: the one that saw most of it (a connection's most
# events, a race decided), then the first export by id.
MOST_SEEN = {
    "connections": (pl.col("n_events"), pl.col("last_ts")),
    "races": (pl.col("winner_id").is_not_null(), pl.col("children").list.len()),
    "listeners": (pl.col("n_events"),),
}
NO_FAMILY = "none"
# A process of one export: where a connection id names one connection.
IN_EXPORT = ("export_id", "source", "process", "pid")


@dataclass(frozen=True)
class Fleet:
    """A fleet dataset's tables and the questions asked across its devices."""

    folder: Path

    @property
    def manifest(self) -> pl.LazyFrame:
        """Every export: ``export_id``, ``path``, ``device``, ``model``, ``os_version``,
        ``status``, ``error``, ... (:data:`~logflow.schema.MANIFEST_SCHEMA`)."""
        return pl.scan_parquet(self.folder / layout.MANIFEST)

    def table(self, name: str) -> pl.LazyFrame:
        """Every row of table ``name`` (``events``, ``connections``, ...), each with its
        ``export_id``, ``device`` and ``date``; duplicates of overlapping exports included."""
        if name not in layout.TABLES:
            msg = f"no table {name!r}: the tables are {', '.join(layout.TABLES)}"
            raise ValueError(msg)
        files = sorted((self.folder / name).glob("device=*/date=*/*.parquet"))
        if not files:
            columns = {**schema.SCHEMAS[name], schema.EXPORT_ID.name: pl.String, **HIVE_SCHEMA}
            return pl.LazyFrame(schema=columns)
        return pl.scan_parquet(
            self.folder / name / "**" / "*.parquet",
            hive_partitioning=True,
            hive_schema=HIVE_SCHEMA,
        )

    def distinct(self, name: str) -> pl.LazyFrame:
        """Table ``name`` with each row once, however many exports of a device hold it
        (:data:`SAME_RECORD`, :data:`SAME_ROW`), and the ``model`` and ``os_version`` of its
        export."""
        rows = self.table(name)
        if name == "events":
            key, most = SAME_RECORD, ()
        else:
            key, most = SAME_ROW[name], MOST_SEEN.get(name, ())
        timed = layout.DATED_BY[name]
        rows = (
            rows.with_columns(_untimed_of=pl.when(pl.col(timed).is_null()).then("export_id"))
            .sort(
                [*most, pl.col("export_id")],
                descending=[True] * len(most) + [False],
                nulls_last=True,
                maintain_order=True,
            )
            .unique([*key, "_untimed_of"], keep="first", maintain_order=True)
            .drop("_untimed_of")
        )
        about = self.manifest.select("export_id", "model", "os_version")
        return rows.join(about, on="export_id", how="left")

    def failure_signatures(self) -> pl.LazyFrame:
        """Failed connections and attempts by signature, the most devices first: ``error``
        (its name, else the text), ``host``, ``interface``, ``os_version``, and the
        ``devices``, ``connections`` (trees) and ``attempts`` it hit."""
        roots = self.table("connections").select(*IN_EXPORT, root_id="conn_id", root_ts="first_ts")
        failed = (
            self.distinct("connections")
            .filter((pl.col("outcome") == "failed") & ~pl.col("implicit"))
            .join(roots, on=[*IN_EXPORT, "root_id"], how="left")
        )
        # A tree is one per device by its root's id and start (as a connection is).
        tree = pl.struct(
            *DEVICE_PROCESS,
            "root_id",
            "root_ts",
            pl.when(pl.col("root_ts").is_null()).then("export_id"),
        )
        return (
            failed.group_by(
                error=pl.coalesce("error_name", "error", "last_error"),
                host=pl.coalesce("requested_host", "host"),
                interface="interface",
                os_version="os_version",
            )
            .agg(
                devices=pl.col("device").n_unique(),
                connections=tree.n_unique(),
                attempts=pl.len(),
            )
            .sort(
                "devices",
                "connections",
                "attempts",
                "error",
                "host",
                descending=[True, True, True, False, False],
                nulls_last=True,
            )
        )

    def _races(self) -> pl.LazyFrame:
        """The races, each with its winner's address family (``none``: no winner)."""
        winners = self.table("connections").select(
            *IN_EXPORT, winner_id="conn_id", winner_family="family"
        )
        return (
            self.distinct("races")
            .join(
                winners,
                on=[*IN_EXPORT, "winner_id"],
                how="left",
                nulls_equal=True,
            )
            .with_columns(pl.col("winner_family").cast(pl.String).fill_null(NO_FAMILY))
        )

    def happy_eyeballs(self) -> pl.LazyFrame:
        """Races by the winner's address family and outcome: ``races`` and ``devices``."""
        return (
            self._races()
            .group_by("winner_family", outcome=pl.col("outcome").cast(pl.String))
            .agg(races=pl.len(), devices=pl.col("device").n_unique())
            .sort("races", "winner_family", "outcome", descending=[True, False, False])
        )

    def also_rans(self) -> pl.LazyFrame:
        """Also-rans by the winning family: ``races`` won by it, the ``also_rans`` they left
        (and how many were ``ipv4``, ``ipv6``), ``per_race``, ``devices``."""
        races = self._races().filter(pl.col("winner_family") != NO_FAMILY)
        families = self.table("connections").select(*IN_EXPORT, also_ran="conn_id", family="family")
        each = races.select(*IN_EXPORT, "device", "winner_family", "also_rans").explode("also_rans")
        typed = each.rename({"also_rans": "also_ran"}).join(
            families, on=[*IN_EXPORT, "also_ran"], how="left"
        )
        by_family = typed.group_by("winner_family").agg(
            also_rans=pl.col("also_ran").is_not_null().sum().cast(pl.Int64),
            ipv4=(pl.col("family") == "ipv4").sum().cast(pl.Int64),
            ipv6=(pl.col("family") == "ipv6").sum().cast(pl.Int64),
        )
        return (
            races.group_by("winner_family")
            .agg(races=pl.len(), devices=pl.col("device").n_unique())
            .join(by_family, on="winner_family", how="left")
            .with_columns(pl.col("also_rans", "ipv4", "ipv6").fill_null(0))
            .with_columns(per_race=(pl.col("also_rans") / pl.col("races")).round(2))
            .select("winner_family", "races", "also_rans", "ipv4", "ipv6", "per_race", "devices")
            .sort("races", "winner_family", descending=[True, False])
        )

    def proxy_failures_by_proxy(self) -> pl.LazyFrame:
        """Proxy failures by proxy: ``proxy_kind``, ``proxy``, ``error``, and how many
        ``failures``, how many ``fell_back``, on how many ``devices``."""
        return (
            self.distinct("proxy_failures")
            .group_by(
                "proxy_kind",
                proxy="proxy_endpoint",
                error=pl.coalesce("error_name", "error"),
            )
            .agg(
                failures=pl.len(),
                fell_back=pl.col("fell_back").sum().cast(pl.Int64),
                devices=pl.col("device").n_unique(),
            )
            .sort("failures", "devices", "proxy", descending=[True, True, False], nulls_last=True)
        )

    def path_change_storms(self) -> pl.LazyFrame:
        """Minutes in which a device's paths changed :data:`STORM_CHANGES` times or more:
        ``device``, ``minute`` (UTC), ``changes``, ``connections`` hit, ``changed`` (what
        changed: status, interface, ...)."""
        return (
            self.distinct("path_changes")
            .filter(pl.col("ts").is_not_null())
            .group_by("device", minute=pl.col("ts").dt.truncate(STORM_WINDOW))
            .agg(
                changes=pl.len(),
                connections=pl.struct(*DEVICE_PROCESS, "conn_id").n_unique(),
                changed=pl.col("change").cast(pl.String).unique().sort(),
            )
            .filter(pl.col("changes") >= STORM_CHANGES)
            .sort("changes", "device", "minute", descending=[True, False, False])
        )

    def worst_devices(self) -> pl.LazyFrame:
        """Devices by trouble, the worst first: ``connections`` (trees), ``failed`` trees,
        ``failed_attempts``, ``proxy_failures``, ``path_changes``, ``storms``."""
        conns = self.distinct("connections")
        is_root = (pl.col("depth") == 0) & pl.col("tls_stream_of").is_null()
        failed = pl.col("outcome") == "failed"
        per_device = conns.group_by("device").agg(
            connections=is_root.sum().cast(pl.Int64),
            failed=(is_root & failed).sum().cast(pl.Int64),
            failed_attempts=(~is_root & failed & ~pl.col("implicit")).sum().cast(pl.Int64),
        )
        devices = self.manifest.filter(pl.col("status") == layout.OK).select("device").unique()
        counts = [
            self.distinct("proxy_failures").group_by("device").agg(proxy_failures=pl.len()),
            self.distinct("path_changes").group_by("device").agg(path_changes=pl.len()),
            self.path_change_storms().group_by("device").agg(storms=pl.len()),
        ]
        worst = devices.join(per_device, on="device", how="left")
        for count in counts:
            worst = worst.join(count, on="device", how="left")
        numbers = ["connections", "failed", "failed_attempts"]
        numbers += ["proxy_failures", "path_changes", "storms"]
        return worst.with_columns(pl.col(numbers).fill_null(0).cast(pl.Int64)).sort(
            "failed",
            "failed_attempts",
            "proxy_failures",
            "storms",
            "device",
            descending=[True, True, True, True, False],
        )

    def exports(self) -> pl.LazyFrame:
        """The dataset at a glance: one row of ``exports``, ``failed`` exports,
        ``devices``, ``lines``, ``first_date``, ``last_date``, ``undated`` exports."""
        events = self.table("events")
        dated = pl.col("date") != layout.UNKNOWN_DATE
        days = events.group_by("export_id").agg(dated=dated.any())
        known = events.filter(dated)
        manifest = self.manifest
        ok = manifest.filter(pl.col("status") == layout.OK)
        return pl.concat(
            [
                manifest.select(
                    exports=pl.len().cast(pl.Int64),
                    failed=(pl.col("status") == layout.ERROR).sum().cast(pl.Int64),
                ),
                ok.select(
                    devices=pl.col("device").n_unique().cast(pl.Int64),
                    lines=pl.col("lines").sum().cast(pl.Int64),
                ),
                known.select(first_date=pl.col("date").min(), last_date=pl.col("date").max()),
                days.select(undated=(~pl.col("dated")).sum().cast(pl.Int64)),
            ],
            how="horizontal",
        )

    def answers(self) -> dict[str, Any]:
        """Every question's answer, collected: what ``logflow summary DATASET --json`` prints."""
        frames = {
            "dataset": self.exports(),
            "failure_signatures": self.failure_signatures(),
            "happy_eyeballs": self.happy_eyeballs(),
            "also_rans": self.also_rans(),
            "proxy_failures": self.proxy_failures_by_proxy(),
            "path_change_storms": self.path_change_storms(),
            "worst_devices": self.worst_devices(),
            "failed_exports": self.manifest.filter(pl.col("status") == layout.ERROR).select(
                "path", "device", "error"
            ),
        }
        collected = pl.collect_all(list(frames.values()), engine=ENGINE)
        answers: dict[str, Any] = {
            name: frame.to_dicts() for name, frame in zip(frames, collected, strict=True)
        }
        answers["dataset"] = answers["dataset"][0]
        answers["dataset"]["folder"] = str(self.folder)
        return answers


def fleet(folder: str | Path) -> Fleet:
    """Open the fleet dataset in ``folder`` (written by ``logflow export --dataset``).

    Parameters
    ----------
    folder
        The dataset's folder: it holds ``_manifest.parquet``.

    Returns
    -------
    Fleet
        Its tables (``.table("connections")``, ``.distinct(...)``, ``.manifest``) and the
        questions (``.failure_signatures()``, ``.happy_eyeballs()``, ``.also_rans()``,
        ``.proxy_failures_by_proxy()``, ``.path_change_storms()``, ``.worst_devices()``),
        each a ``LazyFrame``.

    Raises
    ------
    DatasetError
        ``folder`` holds no dataset.

    Examples
    --------
    >>> import logflow
    >>> logflow.fleet("fleet/").failure_signatures().collect()  # doctest: +SKIP
    """
    folder = Path(folder)
    if not is_dataset(folder):
        msg = (
            f"{folder}: not a fleet dataset (no {layout.MANIFEST}); build one with export --dataset"
        )
        raise DatasetError(msg)
    return Fleet(folder)


def is_dataset(folder: Path) -> bool:
    """Whether ``folder`` holds a fleet dataset: its manifest says so."""
    return (folder / layout.MANIFEST).is_file()
