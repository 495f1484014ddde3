"""logflow: Apple Network-framework logs into tables.

Read ``log show``/``log stream`` exports, Console copies and Xcode pastes into one events
table (:func:`read`), one row per log record, with the connection id, endpoint, state and
event of every ``com.apple.network`` message; then rebuild the connection trees
(:func:`connections`) and diagnose Happy Eyeballs races (:func:`races`), proxy failures
(:func:`proxy_failures`), path changes (:func:`path_changes`) and a server's listeners
(:func:`listeners`). Every one is a
``polars.LazyFrame``. Many devices' exports, written as one dataset by
``logflow export --dataset``, are asked across devices with :func:`fleet`.

>>> import logflow
>>> events = logflow.read("sample_logs/logshow-default-race.log")  # doctest: +SKIP
>>> logflow.races(logflow.connections(events)).collect()  # doctest: +SKIP
"""

from __future__ import annotations

from logflow.analysis.filters import Filters
from logflow.errors import InputError, LogflowError, OutputError
from logflow.fleets.questions import Fleet, fleet
from logflow.notebook import (
    connections,
    listeners,
    path_changes,
    proxy_failures,
    races,
    read,
)
from logflow.pipeline import Parsed, parse
from logflow.schema import CONNECTION_KEY, EVENT_SCHEMA, KINDS

__all__ = [
    "CONNECTION_KEY",
    "EVENT_SCHEMA",
    "Filters",
    "Fleet",
    "KINDS",
    "InputError",
    "LogflowError",
    "OutputError",
    "Parsed",
    "connections",
    "fleet",
    "listeners",
    "parse",
    "path_changes",
    "proxy_failures",
    "races",
    "read",
]
