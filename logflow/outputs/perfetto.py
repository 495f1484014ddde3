"""A timeline as a Perfetto trace (``.pftrace``): Perfetto's own TrackEvent protobuf, for
https://ui.perfetto.dev or any trace processor.

Each group (a process in a file) is a track; under it a track per root connection, under
that a track per attempt, nested as the tree is. A connection is one slice on its track,
with its DNS/TCP/QUIC/TLS times as slices inside it; its marks are instants on it; an arrow
(a flow) runs from an instant on a connection's track when it started an attempt to the
attempt's slice. Tracks are plain (no process or thread descriptors): the same pid in two
files must stay two processes.

Times are the log's own wall clock (UTC moved by the offset the log printed), in ns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from logflow.analysis.clock import local_time
from logflow.errors import OutputError
from logflow.outputs.files import replacing
from logflow.outputs.timeline import Timeline

# One writer, one sequence: every packet carries this id.
SEQUENCE_ID = 1
SYSTEM_TRACK = "system-wide path changes"
# A connection's details, as annotations on its slice: name -> column (nulls are skipped).
ANNOTATIONS = {
    "endpoint": "endpoint",
    "host": "host",
    "port": "port",
    "mode": "mode",
    "transport": "transport",
    "outcome": "outcome",
    "error_code": "error_code",
    "error_name": "error_name",
    "error": "error",
    "interface": "interface",
    "bytes_in": "bytes_in",
    "bytes_out": "bytes_out",
    "rtt": "rtt_s",
    "outcome_line": "outcome_line",
    "clock": "clock",
}
# What an unended connection's slice says of its end (the slice runs to the capture's end).
OPEN = "the log never saw it end: shown to the end of the capture"
# The phases a summary block times, laid end to end from the connection's start in this
# order. A QUIC connection logs QUIC where TCP would be, and may still log a TLS time.
PHASES = (("DNS", "dns_s"), ("TCP", "tcp_s"), ("QUIC", "quic_s"), ("TLS", "tls_s"))
# Every annotation any event carries: the connection's, a mark's, a phase's.
ANNOTATED = (*ANNOTATIONS, "open", "line_no", "logged_s")

# Events at one instant on one track go in this order, so slices nest: the connection
# begins first; its phases follow in turn (each begins, then ends, before the next begins);
# marks fall inside what is open; the connection ends last.
BEGIN_ORDER = 0
MARK_ORDER = 2 * len(PHASES) + 1
END_ORDER = MARK_ORDER + 1

MISSING = "the Perfetto trace needs the perfetto package: pip install 'logflow[trace]'"
OLD_PROTOBUF = "the Perfetto trace needs protobuf 6.31.1 or newer: pip install 'logflow[trace]'"


def write_perfetto(timeline: Timeline, path: Path) -> None:
    """Write ``timeline`` to ``path`` as a Perfetto trace, atomically: a failure (an
    interrupt included) leaves whatever was at ``path`` as it was."""
    pb, builder = _perfetto()
    tracks, events = _plan(timeline)
    with replacing(path) as partial, open(partial, "wb") as file:
        _write(pb, builder(file), tracks, events)


def _perfetto() -> tuple[Any, Any]:
    """Perfetto's generated protobuf module and its streaming builder, imported only when a
    trace is asked for (an optional dependency, and slow to import)."""
    try:
        from perfetto.protos.perfetto.trace import perfetto_trace_pb2
        from perfetto.trace_builder.proto_builder import StreamingTraceProtoBuilder
    except ImportError:
        raise OutputError(MISSING) from None
    except Exception as exc:
        # perfetto's generated code refuses an older protobuf runtime, which its metadata
        # allows.
        if type(exc).__name__ == "VersionError":
            raise OutputError(OLD_PROTOBUF) from None
        raise
    return perfetto_trace_pb2, StreamingTraceProtoBuilder


# ---- the plan: tracks and events as frames ------------------------------------------------


def _plan(timeline: Timeline) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The tracks (``uuid``, ``parent_uuid``, ``name``, in the order to describe them) and
    the events, sorted as they must be written."""
    spans = _span_tracks(timeline.spans)
    groups = spans.select("group", uuid="group_uuid").unique("group", maintain_order=True)
    system = _system_tracks(timeline.marks, groups, first=spans.height + groups.height + 1)
    tracks = pl.concat(
        [
            groups.select("uuid", parent_uuid=pl.lit(None, pl.Int64), name="group"),
            spans.select("uuid", parent_uuid="track_parent", name="name"),
            system.select("uuid", parent_uuid="group_uuid", name=pl.lit(SYSTEM_TRACK)),
        ]
    )
    events = pl.concat(
        [
            _span_begins(spans),
            _attempt_starts(spans),
            _span_ends(spans),
            *_phase_slices(spans),
            _mark_instants(timeline.marks, spans, system),
        ],
        how="diagonal_relaxed",
    )
    # Stable: events at one instant on one track with one order keep the order they are
    # concatenated in (two marks stay in the timeline's order).
    return tracks, events.sort("ts", "order", "track", maintain_order=True)


def _ns(column: str) -> pl.Expr:
    """An instant on the log's own wall clock, in ns since the epoch."""
    return local_time(pl.col(column), pl.col("utc_offset")).dt.epoch("ns")


def _span_tracks(spans: pl.DataFrame) -> pl.DataFrame:
    """The spans with a track each: ``uuid`` (counted in tree order, after one per group, so
    the same input always gives the same trace), ``track_parent`` (its parent connection's
    track, or its group's for a root) and ``flow`` (the id of the arrow from its parent, if
    any)."""
    groups = spans.select("group").unique(maintain_order=True)
    groups = groups.with_columns(group_uuid=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    spans = spans.with_columns(
        uuid=pl.int_range(pl.len(), dtype=pl.Int64) + groups.height + 1,
        outcome=pl.col("outcome").cast(pl.String),
        start_ns=_ns("start"),
        end_ns=_ns("end"),
    )
    parents = spans.select("group", parent_id="conn_id", parent_uuid="uuid")
    spans = spans.join(groups, on="group", how="left", maintain_order="left").join(
        parents, on=["group", "parent_id"], how="left", maintain_order="left"
    )
    # A parent the filters left out: the attempt hangs from its group, with no arrow.
    # The flow from a parent is named by the attempt's own track: unique, and deterministic.
    return spans.with_columns(
        track_parent=pl.coalesce("parent_uuid", "group_uuid"),
        flow=pl.when(pl.col("parent_uuid").is_not_null()).then("uuid"),
    )


def _system_tracks(marks: pl.DataFrame, groups: pl.DataFrame, first: int) -> pl.DataFrame:
    """A track under each group that has a system-wide path change (a mark on no
    connection), numbered from ``first``."""
    system = (
        marks.filter(pl.col("conn_id").is_null())
        .select("group")
        .unique(maintain_order=True)
        .join(groups.rename({"uuid": "group_uuid"}), on="group", maintain_order="left")
    )
    return system.with_columns(uuid=pl.int_range(pl.len(), dtype=pl.Int64) + first)


def _span_begins(spans: pl.DataFrame) -> pl.DataFrame:
    """Each connection's slice begins, with its details and the end of the arrow from its
    parent."""
    return spans.select(
        ts="start_ns",
        order=pl.lit(BEGIN_ORDER),
        track="uuid",
        type=pl.lit("begin"),
        name="name",
        terminating_flow_id="flow",
        **{name: column for name, column in ANNOTATIONS.items()},
        open=pl.when("unended").then(pl.lit(OPEN)),
    )


def _attempt_starts(spans: pl.DataFrame) -> pl.DataFrame:
    """An instant on a connection's track when it started an attempt, where the arrow to the
    attempt leaves from. (The UI draws an arrow from the end of the slice it leaves, unless
    that slice is on the same track: from the connection's own slice the arrow would come
    back from its end, maybe minutes later.)"""
    return spans.filter(pl.col("flow").is_not_null()).select(
        ts="start_ns",
        # With the begins' order, after the parent's begin (concatenated first, on the same
        # track) and before the attempt's (a track numbered after its parent's), so the
        # arrow starts before it ends.
        order=pl.lit(BEGIN_ORDER),
        track="parent_uuid",
        type=pl.lit("instant"),
        name=pl.format("started {}", pl.col("conn_id")),
        flow_ids=pl.concat_list("flow"),
    )


def _span_ends(spans: pl.DataFrame) -> pl.DataFrame:
    return spans.select(ts="end_ns", order=pl.lit(END_ORDER), track="uuid", type=pl.lit("end"))


def _phase_slices(spans: pl.DataFrame) -> list[pl.DataFrame]:
    """A slice per phase a connection's summary timed, end to end from its start and cut at
    its end (the log's times may add up to more than the connection lasted)."""
    before = pl.lit(0, pl.Int64)  # ns the phases before this one took
    frames = []
    for index, (name, column) in enumerate(PHASES):
        took = (pl.col(column).clip(lower_bound=0) * 1e9).round().cast(pl.Int64)
        begin = pl.min_horizontal(pl.col("start_ns") + before, "end_ns")
        end = pl.min_horizontal(begin + took, "end_ns")
        timed = spans.filter(pl.col(column).is_not_null()).select(
            "uuid", column, begin=begin, end=end
        )
        frames += [
            timed.select(
                ts="begin",
                order=pl.lit(2 * index + 1),
                track="uuid",
                type=pl.lit("begin"),
                name=pl.lit(name),
                logged_s=column,
            ),
            timed.select(ts="end", order=pl.lit(2 * index + 2), track="uuid", type=pl.lit("end")),
        ]
        before = before + took.fill_null(0)
    return frames


def _mark_instants(marks: pl.DataFrame, spans: pl.DataFrame, system: pl.DataFrame) -> pl.DataFrame:
    """An instant per mark on its connection's track; a system-wide one on its group's
    system track."""
    offsets = spans.select("group", "utc_offset").unique("group", maintain_order=True)
    on_conn = spans.select("group", "conn_id", conn_track="uuid")
    marks = (
        marks.join(offsets, on="group", how="left", maintain_order="left")
        .join(on_conn, on=["group", "conn_id"], how="left", maintain_order="left")
        .join(
            system.select("group", system_track="uuid"),
            on="group",
            how="left",
            maintain_order="left",
        )
    )
    track = pl.when(pl.col("conn_id").is_null()).then("system_track").otherwise("conn_track")
    return marks.select(
        ts=_ns("ts"),
        order=pl.lit(MARK_ORDER),
        track=track,
        type=pl.lit("instant"),
        name="label",
        line_no="line_no",
    ).filter(pl.col("track").is_not_null())


# ---- the writing: packets, one at a time ----------------------------------------------


def _write(pb: Any, builder: Any, tracks: pl.DataFrame, events: pl.DataFrame) -> None:
    """Every track described first, then the events in time order, each packet written to
    the file as it is made (a large capture is never a whole trace in memory)."""
    packet_type = pb.TracePacket
    flags = packet_type.SEQ_INCREMENTAL_STATE_CLEARED  # on the first packet only
    for uuid, parent_uuid, name in tracks.iter_rows():
        packet = builder.create_packet()
        packet.trusted_packet_sequence_id = SEQUENCE_ID
        packet.sequence_flags = flags
        flags = packet_type.SEQ_NEEDS_INCREMENTAL_STATE
        _describe(pb, packet.track_descriptor, uuid, parent_uuid, name)
        builder.write_packet(packet)

    types = {
        "begin": pb.TrackEvent.TYPE_SLICE_BEGIN,
        "end": pb.TrackEvent.TYPE_SLICE_END,
        "instant": pb.TrackEvent.TYPE_INSTANT,
    }
    for row in events.iter_rows(named=True):
        packet = builder.create_packet()
        packet.timestamp = row["ts"]
        packet.trusted_packet_sequence_id = SEQUENCE_ID
        packet.sequence_flags = packet_type.SEQ_NEEDS_INCREMENTAL_STATE
        _event(packet.track_event, row, types[row["type"]])
        builder.write_packet(packet)


def _describe(pb: Any, track: Any, uuid: int, parent_uuid: int | None, name: str) -> None:
    """A plain track: its children in the order they start, and never merged with a
    sibling of the same name (two attempts to one address are two tracks)."""
    track.uuid = uuid
    if parent_uuid is not None:
        track.parent_uuid = parent_uuid
    track.name = name
    track.child_ordering = pb.TrackDescriptor.CHRONOLOGICAL
    track.sibling_merge_behavior = pb.TrackDescriptor.SIBLING_MERGE_BEHAVIOR_NONE


def _event(event: Any, row: dict[str, Any], event_type: int) -> None:
    event.type = event_type
    event.track_uuid = row["track"]
    if row.get("name") is not None:
        event.name = row["name"]
    if row.get("flow_ids"):
        event.flow_ids.extend(row["flow_ids"])
    if row.get("terminating_flow_id") is not None:
        event.terminating_flow_ids.append(row["terminating_flow_id"])
    for name in ANNOTATED:
        if row.get(name) is not None:
            _annotate(event.debug_annotations.add(), name, row[name])


def _annotate(annotation: Any, name: str, value: Any) -> None:
    annotation.name = name
    # bool first: it is an int to Python.
    if isinstance(value, bool):
        annotation.bool_value = value
    elif isinstance(value, int):
        annotation.int_value = value
    elif isinstance(value, float):
        annotation.double_value = value
    else:
        annotation.string_value = str(value)
