"""Fleets: many devices' exports as one hive-partitioned Parquet dataset, and the questions
asked across devices.

:mod:`~logflow.fleets.devices` tells each export's device, :mod:`~logflow.fleets.dataset`
writes one export's files and the manifest, :mod:`~logflow.fleets.engines` runs the exports
on threads or Dask, :mod:`~logflow.fleets.build` puts these together, and
:mod:`~logflow.fleets.questions` answers across the dataset (``logflow.fleet(DATASET)``).
This package uses the reading, analysis and outputs packages; none of them uses it.
"""
