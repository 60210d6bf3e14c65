"""System page: client resources over event time, and what ingest stored per wall-clock bucket."""
from __future__ import annotations

from ..engine import Engine
from ..filters import Filters
from . import fnum, query
from .buckets import Bucketing

CLIENT_SERIES = """
SELECT {bucket} AS b, count(), avg(cpu_pct), quantileExact(0.95)(cpu_pct), avg(memory_pct),
       avg(bandwidth_kbps), quantileExact(0.05)(bandwidth_kbps)
FROM ({samples})
GROUP BY b ORDER BY b
"""
"""Per bucket of event time: samples, mean and p95 client CPU, mean memory, mean and p5 bandwidth."""

STORED_SERIES = """
SELECT {bucket} AS b, count() FROM (
    SELECT ingested_ms AS ts_ms FROM events
    WHERE ingested_ms >= %(from_ms)s AND ingested_ms < %(to_ms)s
) GROUP BY b ORDER BY b
"""
"""Rows written by ingest per bucket of ingest (wall-clock) time."""

DEAD_LETTER_SERIES = """
SELECT {bucket} AS b, uniqExact(sha256) FROM (
    SELECT sha256, received_ms AS ts_ms FROM dead_letters
    WHERE received_ms >= %(from_ms)s AND received_ms < %(to_ms)s
) GROUP BY b ORDER BY b
"""
"""Distinct rejected messages per bucket of the time they were received."""

DEAD_LETTER_REASONS = """
SELECT reason, uniqExact(sha256) FROM dead_letters GROUP BY reason ORDER BY reason
"""
"""Distinct rejected messages per reason code, all time."""


def client_series(engine: Engine, bucketing: Bucketing, filters: Filters | None = None) -> list[dict]:
    rows = query(engine, CLIENT_SERIES, bucketing.from_ms, bucketing.to_ms, filters, bucketing)
    found = {bucketing.key_to_ms(b): {"samples": int(n), "avg_cpu_pct": fnum(cpu), "p95_cpu_pct": fnum(cpu95),
                                      "avg_memory_pct": fnum(mem), "avg_bandwidth_kbps": fnum(bw),
                                      "p5_bandwidth_kbps": fnum(bw5)}
             for b, n, cpu, cpu95, mem, bw, bw5 in rows}
    empty = {"samples": 0, "avg_cpu_pct": None, "p95_cpu_pct": None, "avg_memory_pct": None,
             "avg_bandwidth_kbps": None, "p5_bandwidth_kbps": None}
    return bucketing.fill(found, empty)


def ingest_series(engine: Engine, bucketing: Bucketing) -> list[dict]:
    stored = {bucketing.key_to_ms(b): int(n)
              for b, n in query(engine, STORED_SERIES, bucketing.from_ms, bucketing.to_ms, None, bucketing)}
    dead = {bucketing.key_to_ms(b): int(n)
            for b, n in query(engine, DEAD_LETTER_SERIES, bucketing.from_ms, bucketing.to_ms, None, bucketing)}
    return [{"t": t, "stored": stored.get(t, 0), "dead_lettered": dead.get(t, 0)} for t in bucketing.starts()]


def dead_letter_reasons(engine: Engine) -> list[dict]:
    return [{"reason": r, "messages": int(n)} for r, n in engine.execute(DEAD_LETTER_REASONS)]
