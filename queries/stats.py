"""The metric definitions of DESIGN section 4, once, for pages, API, CLI and tests alike.

Every query runs unchanged on chDB 26.x and the ClickHouse 18.16 server: subqueries instead of
CTEs, arrayReduce instead of arrayMin/arrayMax, FINAL so that an exact replay counts once.
"""
from __future__ import annotations

import math
from typing import Any

from .engine import Engine
from .filters import Filters

MOS_SQL = """
least(4.5, greatest(1.0,
    1 + 0.035 * r + 0.000007 * r * (r - 60) * (100 - r)))
"""
"""Simplified E-model MOS of one sample, given the clamped R factor ``r``."""

R_FACTOR_SQL = """
greatest(0.0, least(100.0,
    if(eff < 160, 93.2 - eff / 40, 93.2 - (eff - 120) / 10) - 2.5 * packet_loss_pct))
"""
"""R factor from ``eff`` = latency + 2·jitter + 10 and the packet loss in percent."""

POOR_SQL = "(latency_ms > 500 OR packet_loss_pct > 10 OR ifNull(jitter_ms, 0) > 30)"
"""A sample with poor audio: latency over 500 ms, loss over 10 % or jitter over 30 ms."""

QUALITY_SAMPLES = f"""
SELECT *, {MOS_SQL} AS mos FROM (
    SELECT *, {R_FACTOR_SQL} AS r FROM (
        SELECT
            meeting_id, user_id, ts_ms, region,
            assumeNotNull(audio_quality) AS audio_quality,
            assumeNotNull(video_quality) AS video_quality,
            assumeNotNull(latency_ms) AS latency_ms,
            jitter_ms,
            assumeNotNull(packet_loss_pct) AS packet_loss_pct,
            assumeNotNull(bandwidth_kbps) AS bandwidth_kbps,
            assumeNotNull(cpu_pct) AS cpu_pct,
            assumeNotNull(memory_pct) AS memory_pct,
            assumeNotNull(latency_ms) + 2 * ifNull(jitter_ms, 0) + 10 AS eff,
            {POOR_SQL} AS poor
        FROM events FINAL
        WHERE event_type = 'QUALITY_METRICS' AND ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {{filter}}
    )
)
"""
"""Quality samples in [from, to) with their MOS, R factor and poor-audio flag."""

EVENT_TOTALS = """
SELECT
    uniqExactIf(meeting_id, event_type = 'MEETING_STARTED') AS meetings,
    uniqExactIf(user_id, event_type = 'PARTICIPANT_JOINED') AS participants,
    countIf(event_type = 'PARTICIPANT_JOINED') AS sessions,
    countIf(event_type = 'MEETING_ENDED') AS ended,
    sumIf(assumeNotNull(duration_s), event_type = 'MEETING_ENDED') AS ended_duration_sum
FROM events FINAL
WHERE ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {filter}
"""
"""Meetings started, distinct participants, sessions, and ended meetings' durations in range."""

QUALITY_TOTALS = f"""
SELECT
    count() AS samples,
    avg(audio_quality), avg(video_quality), avg(latency_ms), avg(packet_loss_pct),
    quantileExact(0.95)(latency_ms),
    avg(mos),
    countIf(poor) AS poor
FROM ({QUALITY_SAMPLES})
"""
"""Quality aggregates over the samples in range."""

SESSIONS = """
SELECT meeting_id, user_id, t_open, t_close
FROM sessions FINAL
WHERE t_open < %(to_ms)s AND t_close > %(from_ms)s AND t_close > t_open {filter}
"""
"""Sessions (DESIGN section 4, kept at ingest by queries/sessions.py) with a part of positive
length inside [from, to)."""

SESSION_TOTALS = """
SELECT
    sum(least(t_close, toInt64(%(to_ms)s)) - greatest(t_open, toInt64(%(from_ms)s))) AS clipped_ms,
    arrayReduce('max', arrayCumSum(arrayMap(x -> x.2, arraySort(x -> (x.1, x.2), arrayConcat(
        groupArray((greatest(t_open, toInt64(%(from_ms)s)), toInt64(1))),
        groupArray((t_close, toInt64(-1)))
    ))))) AS peak
FROM ({sessions})
"""
"""Participant minutes (as clipped ms) and peak concurrency; closes sort before opens at equal times."""

DEAD_LETTERED = "SELECT uniqExact(sha256) FROM dead_letters"
"""Distinct rejected messages by SHA-256 of their bytes, all time."""

STATS_KEYS = ("meetings", "participants", "sessions", "avg_meeting_duration_s", "participant_minutes",
              "peak_concurrent_participants", "quality", "dead_lettered")
QUALITY_KEYS = ("samples", "avg_audio_quality", "avg_video_quality", "avg_latency_ms",
                "avg_packet_loss_pct", "p95_latency_ms", "avg_mos", "poor_audio_pct")


def with_filter(sql: str, filters: Filters | None) -> tuple[str, dict]:
    """Put the filters' meeting restriction where ``{filter}`` stands; return SQL and its parameters."""
    fragment, params = (filters or Filters()).sql()
    return sql.replace("{filter}", fragment), params


def _float_or_none(value: Any, count: int) -> float | None:
    """A mean, or None where there is nothing to average or it overflowed (chDB reports inf as null)."""
    if not count or value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def range_params(from_ms: int, to_ms: int) -> dict[str, int]:
    if to_ms < from_ms:
        raise ValueError("the range ends before it starts")
    return {"from_ms": int(from_ms), "to_ms": int(to_ms)}


def quality_stats(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> dict:
    sql, params = with_filter(QUALITY_TOTALS, filters)
    row = engine.execute(sql, {**range_params(from_ms, to_ms), **params})[0]
    samples = int(row[0])
    audio, video, latency, loss, p95, mos, poor = row[1:]
    return {
        "samples": samples,
        "avg_audio_quality": _float_or_none(audio, samples),
        "avg_video_quality": _float_or_none(video, samples),
        "avg_latency_ms": _float_or_none(latency, samples),
        "avg_packet_loss_pct": _float_or_none(loss, samples),
        "p95_latency_ms": _float_or_none(p95, samples),
        "avg_mos": _float_or_none(mos, samples),
        "poor_audio_pct": 100.0 * int(poor) / samples if samples else None,
    }


def session_stats(engine: Engine, from_ms: int, to_ms: int,
                  filters: Filters | None = None) -> tuple[float, int]:
    """(participant minutes, peak concurrent participants) in [from, to)."""
    if to_ms <= from_ms:
        return 0.0, 0  # an empty range holds no instant
    sql, params = with_filter(SESSION_TOTALS.replace("{sessions}", SESSIONS), filters)
    clipped_ms, peak = engine.execute(sql, {**range_params(from_ms, to_ms), **params})[0]
    return (int(clipped_ms or 0) / 60000.0, max(0, int(peak or 0)))


def compute_stats(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> dict:
    """The ``stats`` JSON of DESIGN section 4 for [from_ms, to_ms), optionally for some meetings only."""
    sql, params = with_filter(EVENT_TOTALS, filters)
    meetings, participants, sessions, ended, ended_sum = engine.execute(
        sql, {**range_params(from_ms, to_ms), **params})[0]
    minutes, peak = session_stats(engine, from_ms, to_ms, filters)
    ended = int(ended)
    # chDB reports a sum that overflowed to inf as null
    mean_duration = float(ended_sum) / ended if ended and ended_sum is not None else None
    return {
        "meetings": int(meetings),
        "participants": int(participants),
        "sessions": int(sessions),
        "avg_meeting_duration_s": _float_or_none(mean_duration, ended),
        "participant_minutes": minutes,
        "peak_concurrent_participants": peak,
        "quality": quality_stats(engine, from_ms, to_ms, filters),
        "dead_lettered": int(engine.execute(DEAD_LETTERED)[0][0]),
    }
