"""Analysis: events into connection trees (tree), kept per tree between batches (partition),
and the diagnoses read from the trees (diagnose): races, proxy failures, path changes,
listeners."""
