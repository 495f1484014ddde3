"""Which device each export came from: ``--device`` for all of them, a devices file
(``--devices devices.csv``: path pattern, device, model, OS version), or the first folder of
the export's path below the input root (``devices/iphone-7/sysdiagnose.log``: ``iphone-7``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from logflow.engine import ENGINE
from logflow.errors import DeviceError

DEVICES_COLUMNS = ("pattern", "device", "model", "os_version")


def read_devices(path: Path) -> pl.DataFrame:
    """The devices file: a CSV with a header naming ``pattern`` and ``device``, and
    ``model`` and ``os_version`` if known; a row a pattern, the first that matches wins.

    Raises
    ------
    DeviceError
        The file cannot be read, or lacks a column it needs.

    Examples
    --------
    ``pattern,device,model,os_version`` then ``lab/ipad-*/**,lab-ipad,"iPad13,1",17.5``.
    """
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as err:
        msg = f"{path}: cannot read the devices file: {str(err).splitlines()[0]}"
        raise DeviceError(msg) from None
    frame = frame.rename({name: name.strip().lower() for name in frame.columns})
    missing = [name for name in DEVICES_COLUMNS[:2] if name not in frame.columns]
    if missing:
        msg = (
            f"{path}: a devices file needs the columns pattern and device (and model, "
            f"os_version where known); it has {', '.join(frame.columns) or 'none'}"
        )
        raise DeviceError(msg)
    return frame.select(
        pl.col(name).str.strip_chars() if name in frame.columns else pl.lit(None, pl.String)
        for name in DEVICES_COLUMNS
    ).with_row_index("order")


def glob_regex(pattern: pl.Expr) -> pl.Expr:
    """A regular expression that matches, whole, the paths glob ``pattern`` matches: ``*``
    and ``?`` within a folder, ``**/`` any folders (none too), ``**`` anything."""
    escaped = pattern.str.escape_regex()
    regex = (
        escaped.str.replace_all(r"\*\*/", "\0", literal=True)
        .str.replace_all(r"\*\*", "\1", literal=True)
        .str.replace_all(r"\*", "[^/]*", literal=True)
        .str.replace_all(r"\?", "[^/]", literal=True)
        .str.replace_all("\0", "(?:.*/)?", literal=True)
        .str.replace_all("\1", ".*", literal=True)
    )
    return pl.concat_str(pl.lit("^"), regex, pl.lit("$"))


def identify(
    paths: Sequence[str], *, device: str | None = None, devices: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The device of each export, by its ``/``-separated path below the input root:
    ``device`` for all; else the first pattern of ``devices`` (:func:`read_devices`) that
    matches; else the path's first folder. Columns ``path``, ``device``, ``model``,
    ``os_version``, in the order of ``paths``; ``device`` is null where none says.

    Examples
    --------
    >>> identify(["iphone-7/net.log"])["device"].to_list()
    ['iphone-7']
    """
    files = pl.LazyFrame({"path": list(paths)}, schema={"path": pl.String}).with_row_index("file")
    if device is not None:
        return files.select(
            "path",
            device=pl.lit(device),
            model=pl.lit(None, pl.String),
            os_version=pl.lit(None, pl.String),
        ).collect(engine=ENGINE)
    parts = pl.col("path").str.split("/")
    folder = pl.when(parts.list.len() > 1).then(parts.list.first())
    matched = files.with_columns(device=pl.lit(None, pl.String), model=None, os_version=None)
    if devices is not None:
        # Every file against every pattern, the first pattern that matches kept.
        matched = (
            files.join(devices.lazy(), how="cross")
            .filter(pl.col("path").str.contains(glob_regex(pl.col("pattern"))))
            .sort("file", "order")
            .unique("file", keep="first", maintain_order=True)
            .select("file", "device", "model", "os_version")
        )
        matched = files.join(matched, on="file", how="left", maintain_order="left")
    return (
        matched.sort("file")
        .select(
            "path",
            device=pl.coalesce(pl.col("device").replace("", None), folder),
            model=pl.col("model").cast(pl.String),
            os_version=pl.col("os_version").cast(pl.String),
        )
        .collect(engine=ENGINE)
    )


def unknown_device(path: str) -> DeviceError:
    """The error for an export whose device nothing tells."""
    msg = (
        f"{path}: cannot tell its device: put each device's exports in a folder of its own "
        "below the folder named, or give --device NAME or --devices FILE"
    )
    return DeviceError(msg)
