"""What a run read, and the exit status that follows from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from logflow.pipeline import Parsed
from logflow.schema import CFNETWORK_KINDS, NETWORK_KINDS, OTHER, PREAMBLE, TRAILER, UNPARSED

MAX_EXAMPLES = 20


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
    unparsed_examples: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, parsed: Parsed) -> Report:
        """Count the records of a parse."""
        kinds = parsed.records["kind"]
        unparsed = parsed.records.filter(pl.col("kind") == UNPARSED)
        examples = unparsed.head(MAX_EXAMPLES).select("source", "line_no", reason="problem")
        return cls(
            files=len(parsed.sources),
            lines_read=parsed.lines_read,
            records=parsed.records.height,
            network_events=int(kinds.is_in(NETWORK_KINDS).sum()),
            # Other subsystems' records, CFNetwork's among them.
            other_records=int(kinds.is_in((*CFNETWORK_KINDS, OTHER)).sum()),
            preamble_trailer=int(kinds.is_in((PREAMBLE, TRAILER)).sum()),
            unparsed=unparsed.height,
            decode_errors=parsed.decode_errors,
            unparsed_examples=examples.to_dicts(),
            skipped=[asdict(s) for s in parsed.skipped],
        )

    def exit_code(self, *, strict: bool = False) -> int:
        """0 when all went well; 1 when ``strict`` and any record is unparsed."""
        return 1 if strict and self.unparsed else 0

    def account(self) -> str:
        """One line saying what was read."""
        files = "1 file" if self.files == 1 else f"{self.files:,} files"
        parts = [
            f"{self.network_events:,} network events",
            f"{self.other_records:,} other records",
        ]
        if self.preamble_trailer:
            parts.append(f"{self.preamble_trailer:,} preamble/trailer")
        parts.append(f"{self.unparsed:,} unparsed")
        lines = "1 line" if self.lines_read == 1 else f"{self.lines_read:,} lines"
        text = f"Read {lines} from {files}: " + ", ".join(parts) + "."
        if self.decode_errors:
            text += f" {self.decode_errors:,} bytes did not decode and were replaced."
        return text

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)
