"""Fleets: many devices' exports as one hive-partitioned Parquet dataset, and the questions
asked across devices.

:mod:`~logflow.fleet.devices` tells each export's device, :mod:`~logflow.fleet.dataset`
writes one export's files and the manifest, :mod:`~logflow.fleet.engines` runs the exports
on threads or Dask, :mod:`~logflow.fleet.build` puts these together, and
:mod:`~logflow.fleet.questions` answers across the dataset (``logflow.fleet(DATASET)``).
This package uses the reading, analysis and outputs packages; none of them uses it.
"""
