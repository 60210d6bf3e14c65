"""What an import produced: events by type, meetings, participants, skipped rows."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ImportSummary:
    """Counts filled while ``iter_events`` runs (several files may share one summary)."""

    events_by_type: Counter = field(default_factory=Counter)
    meeting_ids: set = field(default_factory=set)
    participant_ids: set = field(default_factory=set)
    skipped: list = field(default_factory=list)  # (path, line or None, reason)
    counts: Counter = field(default_factory=Counter)  # source-side counts: rows, samples, ...
    first_ms: int | None = None  # span of the events produced
    last_ms: int | None = None
    source_first_ms: int | None = None  # span of the source's own timestamps (samples, rows)
    source_last_ms: int | None = None

    @property
    def meetings(self) -> int:
        return len(self.meeting_ids)

    @property
    def participants(self) -> int:
        return len(self.participant_ids)

    @property
    def events(self) -> int:
        return sum(self.events_by_type.values())

    def record(self, message: dict) -> None:
        self.events_by_type[message["eventType"]] += 1
        self.meeting_ids.add(message["meetingId"])
        if message.get("userId") and message["eventType"] == "PARTICIPANT_JOINED":
            self.participant_ids.add(message["userId"])
        ts = message["timestamp"]
        self.first_ms = ts if self.first_ms is None else min(self.first_ms, ts)
        self.last_ms = ts if self.last_ms is None else max(self.last_ms, ts)

    def source_time(self, ts_ms: int | float) -> None:
        ts = int(round(ts_ms))
        self.source_first_ms = ts if self.source_first_ms is None else min(self.source_first_ms, ts)
        self.source_last_ms = ts if self.source_last_ms is None else max(self.source_last_ms, ts)

    def skip(self, path, line: int | None, reason: str) -> None:
        self.skipped.append((str(path), line, reason))

    def as_dict(self) -> dict:
        return {
            "events_by_type": dict(self.events_by_type),
            "meetings": self.meetings,
            "participants": self.participants,
            "skipped": [list(s) for s in self.skipped],
            "counts": dict(self.counts),
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
            "source_first_ms": self.source_first_ms,
            "source_last_ms": self.source_last_ms,
        }
