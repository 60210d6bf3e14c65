"""One batch through the sinks: decode, drop duplicates, store in ClickHouse, update Redis.

Every step is idempotent, so the daemon can retry a whole batch after any failure and a replay
after a crash (insert done, commit not) changes no number:
- ids already in ``event_ids`` are skipped (first stored wins, also for a different content);
- ``events`` and ``pair_events`` are ReplacingMergeTrees keyed on the event's content and read
  with FINAL, which covers a crash before the ``event_ids`` insert;
- the sessions of every meeting in the batch are recomputed, duplicates included;
- ``dead_letters`` is keyed on (sha256, reason, partition, offset);
- Redis applies a message only above its partition's applied-offset watermark.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from queries import sessions
from queries.engine import Engine

from .contract import EVENT_COLUMNS, Event, InvalidMessage, decode, sha256_hex
from .kafka import Message
from .live import LiveBatch, LiveCounters

STORED_COLUMNS = tuple(c for c in EVENT_COLUMNS if c != "ts") + ("kafka_partition", "kafka_offset", "ingested_ms")
PAIR_COLUMNS = ("meeting_id", "user_id", "event_type", "ts_ms", "event_id")
DEAD_LETTER_COLUMNS = ("sha256", "reason", "received_ms", "kafka_topic", "kafka_partition", "kafka_offset",
                       "size_bytes")

EXISTING_IDS = "SELECT event_id FROM event_ids WHERE event_id IN %(ids)s"
"""Which of a batch's ids are stored already."""


@dataclass
class Decoded:
    message: Message
    result: Event | InvalidMessage


@dataclass
class BatchResult:
    consumed: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: Counter = field(default_factory=Counter)
    last_event_ms: int | None = None
    invalid: list[Decoded] = field(default_factory=list)

    def add(self, other: "BatchResult") -> None:
        self.consumed += other.consumed
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.dead_lettered.update(other.dead_lettered)
        if other.last_event_ms is not None:
            self.last_event_ms = max(self.last_event_ms or 0, other.last_event_ms)


def decode_batch(messages: Sequence[Message], max_bytes: int) -> list[Decoded]:
    return [Decoded(m, decode(m.value, m.timestamp_ms, max_bytes)) for m in messages]


def _stored_row(event: Event, message: Message, now_ms: int) -> tuple:
    row = event.row()
    values = tuple(v for name, v in zip(EVENT_COLUMNS, row) if name != "ts")
    return values + (message.partition, message.offset, now_ms)


class Sinks:
    """The ClickHouse and Redis writes of one batch."""

    def __init__(self, engine: Engine, live: LiveCounters | None):
        self.engine = engine
        self.live = live

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        ids = tuple(set(ids))
        found: set[str] = set()
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            found.update(row[0] for row in self.engine.execute(EXISTING_IDS, {"ids": chunk}))
        return found

    def write_clickhouse(self, decoded: Sequence[Decoded], now_ms: int) -> BatchResult:
        result = BatchResult(consumed=len(decoded))
        valid = [d for d in decoded if isinstance(d.result, Event)]
        stored_before = self.existing_ids(d.result.event_id for d in valid) if valid else set()
        seen: set[str] = set()
        rows, id_rows, pair_rows = [], [], []
        for d in valid:
            event = d.result
            if event.event_id in stored_before or event.event_id in seen:
                result.duplicates += 1
                continue
            seen.add(event.event_id)
            rows.append(_stored_row(event, d.message, now_ms))
            pair_rows.append((event.meeting_id, event.user_id, event.event_type, event.ts_ms, event.event_id))
            id_rows.append((event.event_id, event.ts_ms))
            result.last_event_ms = max(result.last_event_ms or 0, event.ts_ms)
        result.stored = len(rows)
        result.invalid = [d for d in decoded if isinstance(d.result, InvalidMessage)]
        dead_rows = []
        for d in result.invalid:
            result.dead_lettered[d.result.reason] += 1
            m = d.message
            dead_rows.append((sha256_hex(m.value), d.result.reason, now_ms, m.topic, m.partition, m.offset,
                              len(m.value or b"")))
        self.engine.insert("events", STORED_COLUMNS, rows)
        self.engine.insert("pair_events", PAIR_COLUMNS, pair_rows)
        self.engine.insert("dead_letters", DEAD_LETTER_COLUMNS, dead_rows)
        # event_ids last: an id found there means every table above holds the event, and once it
        # is written this step cannot fail any more (so a retry never recounts its events)
        self.engine.insert("event_ids", ("event_id", "ts_ms"), id_rows)
        return result

    def refresh_sessions(self, decoded: Sequence[Decoded], now_ms: int) -> None:
        """Recompute the sessions of every meeting in the batch, duplicates included: a replay
        after a crash before this step must still bring them up to date."""
        touched = {d.result.meeting_id for d in decoded
                   if isinstance(d.result, Event) and d.result.event_type != "MEETING_STARTED"}
        if touched:
            sessions.refresh(self.engine, touched, now_ms)

    def write_redis(self, decoded: Sequence[Decoded], result: BatchResult, now_ms: int) -> None:
        if self.live is None:
            return
        if not self.live.is_initialised():
            self.live.rebuild(self.engine, now_ms)
        lag = None if result.last_event_ms is None else max(0, now_ms - result.last_event_ms)
        batch = LiveBatch(stored=result.stored, duplicates=result.duplicates, ingest_lag_ms=lag)
        for d in decoded:
            m = d.message
            key = (m.topic, m.partition)
            batch.offsets[key] = max(batch.offsets.get(key, -1), m.offset)
            tp = f"{m.topic}:{m.partition}"
            if isinstance(d.result, Event):
                e = d.result
                batch.events.append((tp, m.offset, e.event_type, e.meeting_id, e.user_id, e.ts_ms))
            else:
                batch.dead_letters.append((tp, m.offset, sha256_hex(m.value), d.result.reason))
        self.live.apply(batch, now_ms)


def store_messages(engine: Engine, live: LiveCounters | None, values: Iterable[bytes],
                   kafka_ts_ms: int | None = None, topic: str = "direct",
                   max_bytes: int = 1_048_576) -> BatchResult:
    """Validate and store raw contract-v1 messages without Kafka (tests, seeding, benchmarks)."""
    now_ms = int(time.time() * 1000)
    ts = now_ms if kafka_ts_ms is None else kafka_ts_ms
    # offsets keep growing across calls, so the Redis watermark of this pseudo-topic never drops them
    base = time.time_ns() // 1000
    messages = [Message(topic, 0, base + i, None, v, ts) for i, v in enumerate(values)]
    sinks = Sinks(engine, live)
    total = BatchResult()
    for start in range(0, len(messages), 5000):
        decoded = decode_batch(messages[start:start + 5000], max_bytes)
        result = sinks.write_clickhouse(decoded, now_ms)
        sinks.refresh_sessions(decoded, now_ms)
        sinks.write_redis(decoded, result, now_ms)
        total.add(result)
    return total
