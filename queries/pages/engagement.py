"""Engagement page: meetings per user, minutes per user, session lengths, rejoins, devices, hosts."""
from __future__ import annotations

from ..engine import Engine
from ..filters import Filters
from . import fnum, query

MEETINGS_PER_USER = """
SELECT n, count() AS users FROM (
    SELECT user_id, uniqExact(meeting_id) AS n
    FROM events FINAL
    WHERE event_type = 'PARTICIPANT_JOINED' AND ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {filter}
    GROUP BY user_id
) GROUP BY n ORDER BY n
"""
"""Distribution of how many distinct meetings each user joined in range."""

MINUTES_PER_USER = """
SELECT user_id, sum(least(t_close, toInt64(%(to_ms)s)) - greatest(t_open, toInt64(%(from_ms)s))) / 60000 AS minutes
FROM ({sessions})
GROUP BY user_id ORDER BY minutes DESC, user_id
"""
"""Participant minutes per user (sessions clipped to the range), largest first."""

SESSION_LENGTHS = """
SELECT multiIf(len < 60000, 0, len < 300000, 1, len < 900000, 2, len < 1800000, 3,
               len < 3600000, 4, len < 7200000, 5, 6) AS bin, count()
FROM (SELECT t_close - t_open AS len FROM ({sessions}) WHERE t_open >= %(from_ms)s)
GROUP BY bin ORDER BY bin
"""
"""Sessions opened in range by full length: <1, 1-5, 5-15, 15-30, 30-60, 60-120, >=120 minutes."""

SESSION_BINS = ("< 1 min", "1-5 min", "5-15 min", "15-30 min", "30-60 min", "1-2 h", "≥ 2 h")

REJOINS = """
SELECT count() AS pairs, countIf(joins > 1) AS rejoined, sum(joins) AS sessions FROM (
    SELECT meeting_id, user_id, count() AS joins
    FROM events FINAL
    WHERE event_type = 'PARTICIPANT_JOINED' AND ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {filter}
    GROUP BY meeting_id, user_id
)
"""
"""(meeting, user) pairs that joined in range, those that joined more than once, and all joins."""

DEVICES = """
SELECT device_type, device_os, device_browser, count() AS joins, uniqExact(user_id) AS users
FROM events FINAL
WHERE event_type = 'PARTICIPANT_JOINED' AND ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {filter}
GROUP BY device_type, device_os, device_browser
ORDER BY joins DESC, device_type, device_os, device_browser
"""
"""Joins and distinct users per device type, operating system and browser."""

BUSIEST_HOSTS = """
SELECT host_id, uniqExact(meeting_id) AS meetings
FROM events FINAL
WHERE event_type = 'MEETING_STARTED' AND host_id != '' AND ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {filter}
GROUP BY host_id ORDER BY meetings DESC, host_id LIMIT %(limit)s
"""
"""Hosts with the most meetings started in range."""


def meetings_per_user(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> list[dict]:
    return [{"meetings": int(n), "users": int(u)}
            for n, u in query(engine, MEETINGS_PER_USER, from_ms, to_ms, filters)]


def minutes_per_user(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None,
                     top: int = 20) -> dict:
    rows = [(u, float(m)) for u, m in query(engine, MINUTES_PER_USER, from_ms, to_ms, filters)]
    total = sum(m for _, m in rows)
    return {"users": len(rows), "total_minutes": total,
            "mean_minutes": total / len(rows) if rows else None,
            "top": [{"user_id": u, "minutes": m} for u, m in rows[:top]]}


def session_lengths(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> list[dict]:
    found = {int(b): int(n) for b, n in query(engine, SESSION_LENGTHS, from_ms, to_ms, filters)}
    return [{"length": label, "sessions": found.get(i, 0)} for i, label in enumerate(SESSION_BINS)]


def rejoins(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> dict:
    pairs, rejoined, sessions = (int(v or 0) for v in query(engine, REJOINS, from_ms, to_ms, filters)[0])
    return {"pairs": pairs, "rejoined_pairs": rejoined, "sessions": sessions,
            "rejoin_rate_pct": 100.0 * rejoined / pairs if pairs else None}


def devices(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> dict:
    rows = query(engine, DEVICES, from_ms, to_ms, filters)
    by: dict[str, dict[str, int]] = {"device_type": {}, "device_os": {}, "device_browser": {}}
    for dtype, dos, browser, joins, _users in rows:
        for key, value in (("device_type", dtype), ("device_os", dos), ("device_browser", browser)):
            name = value or "(unknown)"
            by[key][name] = by[key].get(name, 0) + int(joins)
    return {key: [{"name": k, "joins": v} for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))]
            for key, d in by.items()}


def busiest_hosts(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None,
                  limit: int = 10) -> list[dict]:
    return [{"host_id": h, "meetings": int(n)}
            for h, n in query(engine, BUSIEST_HOSTS, from_ms, to_ms, filters, limit=int(limit))]


__all__ = ["fnum"]
