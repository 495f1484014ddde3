"""Fleets: many devices' exports as one hive-partitioned Parquet dataset, and the questions
asked across devices.

:mod:`~logflow.fleet.devices` tells each export's device, :mod:`~logflow.fleet.dataset`
writes one export's files and the manifest, :mod:`~logflow.fleet.engines` runs the exports
on threads or Dask, :mod:`~logflow.fleet.build` puts these together, and
:mod:`~logflow.fleet.questions` answers across the dataset (``logflow.fleet(DATASET)``).
This package uses the reading, analysis and outputs packages; none of them uses it.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logflow.fleet.questions import Fleet


class _Callable(types.ModuleType):
    """This package, callable: ``logflow.fleet(DATASET)`` opens a dataset, and
    ``logflow.fleet.questions`` is still the module (a function named ``fleet`` in
    ``logflow`` would hide the package from ``import logflow.fleet.dataset as ...``)."""

    def __call__(self, folder: str | Path) -> Fleet:
        from logflow.fleet.questions import fleet

        return fleet(folder)


sys.modules[__name__].__class__ = _Callable
