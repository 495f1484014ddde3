"""What a run read, and the exit status that follows from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from logflow.outputs.cells import counted
from logflow.pipeline import Parsed
from logflow.schema import CFNETWORK_KINDS, NETWORK_KINDS, OTHER, PREAMBLE, TRAILER, UNPARSED


@dataclass(frozen=True)
class Report:
    """Counts of what the inputs held; every line read is in exactly one record."""

    files: int
    lines_read: int
    records: int
    network_events: int
    other_records: int
    preamble_trailer: int
    unparsed: int
    decode_errors: int
    control_chars: int
    """NUL and other control characters in the text, replaced with U+FFFD."""
    records_cut: int
    """Records longer than ``max_record_bytes``: cut there, and unparsed."""
    unparsed_examples: list[dict[str, Any]] = field(default_factory=list)
    unknown_envelopes: dict[str, Any] = field(default_factory=dict)
    """Network events that came with an envelope no row shape knows: ``count`` and
    ``examples`` (``source``, ``line_no``, ``prefix``: what stood before the message)."""
    skipped: list[dict[str, str]] = field(default_factory=list)
    cut_short: list[dict[str, Any]] = field(default_factory=list)
    """The inputs read only up to a point: ``path``, ``line`` (the first line not read),
    ``byte`` (where it starts) and ``reason``."""
    run_id: str | None = None
    """The export that wrote this report and its tables (:func:`logflow.export`)."""

    @classmethod
    def of(cls, parsed: Parsed, *, run_id: str | None = None) -> Report:
        """Count the records of a parse (for the export ``run_id``)."""

        def count(kinds: tuple[str, ...]) -> int:
            return sum(parsed.kind_counts.get(kind, 0) for kind in kinds)

        return cls(
            files=len(parsed.sources),
            lines_read=parsed.lines_read,
            records=sum(parsed.kind_counts.values()),
            network_events=count(NETWORK_KINDS),
            # Other subsystems' records, CFNetwork's among them.
            other_records=count((*CFNETWORK_KINDS, OTHER)),
            preamble_trailer=count((PREAMBLE, TRAILER)),
            unparsed=count((UNPARSED,)),
            decode_errors=parsed.decode_errors,
            control_chars=parsed.control_chars,
            records_cut=parsed.records_cut,
            unparsed_examples=parsed.unparsed_examples.to_dicts(),
            unknown_envelopes={
                "count": parsed.unknown_envelopes,
                "examples": parsed.unknown_envelope_examples.to_dicts(),
            },
            skipped=[asdict(s) for s in parsed.skipped],
            cut_short=[asdict(c) for c in parsed.cut_short],
            run_id=run_id,
        )

    def exit_code(self, *, strict: bool = False) -> int:
        """0 when all went well; 1 when ``strict`` and any record is unparsed."""
        return 1 if strict and self.unparsed else 0

    def account(self) -> str:
        """One line saying what was read."""
        unknown = self.unknown_envelopes.get("count", 0)
        parts = [
            counted(self.network_events, "network event")
            + (f" ({unknown:,} with an unknown envelope)" if unknown else ""),
            counted(self.other_records, "other record"),
        ]
        if self.preamble_trailer:
            parts.append(f"{self.preamble_trailer:,} preamble/trailer")
        parts.append(f"{self.unparsed:,} unparsed")
        text = (
            f"Read {counted(self.lines_read, 'line')} from {counted(self.files, 'file')}: "
            + ", ".join(parts)
            + "."
        )
        if self.decode_errors:
            text += f" {self.decode_errors:,} bytes did not decode and were replaced."
        if self.control_chars:
            text += (
                f" {counted(self.control_chars, 'control character')} (NUL and the like)"
                f" {'was' if self.control_chars == 1 else 'were'} replaced."
            )
        if self.records_cut:
            text += (
                f" {counted(self.records_cut, 'record')} over the size limit"
                f" {'was' if self.records_cut == 1 else 'were'} cut (unparsed)."
            )
        return text

    def counts(self) -> dict[str, int]:
        """The report's counts alone, without its examples: one flat row."""
        return {k: v for k, v in self.to_dict().items() if isinstance(v, int)}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)
