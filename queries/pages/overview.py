"""Overview page: activity over time and the quality bands (the KPI cards are ``compute_stats``)."""
from __future__ import annotations

from ..engine import Engine
from ..filters import Filters
from . import query
from .buckets import Bucketing

ACTIVITY_SERIES = """
SELECT {bucket} AS b,
       uniqExactIf(meeting_id, event_type = 'MEETING_STARTED') AS meetings,
       uniqExactIf(user_id, event_type = 'PARTICIPANT_JOINED') AS participants,
       countIf(event_type = 'PARTICIPANT_JOINED') AS sessions
FROM events FINAL
WHERE ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {filter}
GROUP BY b ORDER BY b
"""
"""Per bucket: meetings started, distinct participants joining, sessions opened."""

QUALITY_BANDS = """
SELECT countIf(mos >= 4.0) AS good,
       countIf(mos >= 3.0 AND mos < 4.0) AS fair,
       countIf(mos < 3.0) AS poor
FROM ({samples})
"""
"""Quality samples by MOS band: good >= 4.0, fair 3.0-4.0, poor < 3.0."""


def activity_series(engine: Engine, bucketing: Bucketing, filters: Filters | None = None) -> list[dict]:
    rows = query(engine, ACTIVITY_SERIES, bucketing.from_ms, bucketing.to_ms, filters, bucketing)
    found = {bucketing.key_to_ms(b): {"meetings": int(m), "participants": int(p), "sessions": int(s)}
             for b, m, p, s in rows}
    return bucketing.fill(found, {"meetings": 0, "participants": 0, "sessions": 0})


def quality_bands(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> dict:
    good, fair, poor = query(engine, QUALITY_BANDS, from_ms, to_ms, filters)[0]
    return {"good": int(good), "fair": int(fair), "poor": int(poor)}
