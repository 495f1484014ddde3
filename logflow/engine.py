"""The Polars engine every ``collect()`` in logflow runs on: in memory, on one thread's work."""

ENGINE = "in-memory"
