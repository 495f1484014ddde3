"""Which Polars engine runs logflow's queries: every ``collect`` and every sink names it.

Queries collect in memory. A chunk is parsed on one thread, start to end, and the threads of
a parse are logflow's own (:func:`logflow.pipeline.parse`); Polars' streaming engine, which a
bare ``collect()`` may choose, splits each chunk again, for more work (measured: 20% more CPU
time on a chunk's records, 7% on a whole export).

Tables are written streaming: a sink reads its input a batch at a time, so writing a table
larger than the memory takes no more than a batch of it.
"""

ENGINE = "in-memory"
SINK_ENGINE = "streaming"
