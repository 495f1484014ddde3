"""logflow: Apple Network-framework logs into tables.

Read ``log show``/``log stream`` exports, Console copies and Xcode pastes into one events
table (:func:`read`), one row per log record, with the connection id, endpoint, state and
event of every ``com.apple.network`` message.

>>> import logflow
>>> events = logflow.read(["sample_logs/logshow-default-race.log"])  # doctest: +SKIP
"""

from __future__ import annotations

from logflow.errors import InputError, LogflowError, OutputError
from logflow.pipeline import Parsed, parse, read
from logflow.schema import CONNECTION_KEY, EVENT_SCHEMA, KINDS

__all__ = [
    "CONNECTION_KEY",
    "EVENT_SCHEMA",
    "KINDS",
    "InputError",
    "LogflowError",
    "OutputError",
    "Parsed",
    "parse",
    "read",
]
