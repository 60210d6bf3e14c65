"""Meeting drill-down: facts, join/leave timeline, concurrency, per-participant quality and table."""
from __future__ import annotations

from ..engine import Engine
from ..stats import SESSIONS
from . import compose, fnum

MEETING_FACTS = """
SELECT count() AS events, min(ts_ms), max(ts_ms),
       anyIf(host_id, event_type = 'MEETING_STARTED'),
       anyIf(meeting_type, event_type = 'MEETING_STARTED'),
       anyIf(platform, event_type = 'MEETING_STARTED'),
       anyIf(region, region != ''),
       minIf(ts_ms, event_type = 'MEETING_STARTED'), countIf(event_type = 'MEETING_STARTED'),
       minIf(ts_ms, event_type = 'MEETING_ENDED'), countIf(event_type = 'MEETING_ENDED'),
       anyIf(duration_s, event_type = 'MEETING_ENDED'),
       countIf(event_type = 'PARTICIPANT_JOINED'), uniqExactIf(user_id, event_type = 'PARTICIPANT_JOINED'),
       countIf(event_type = 'QUALITY_METRICS')
FROM events FINAL
WHERE meeting_id = %(meeting_id)s
"""
"""Everything known about one meeting in one row (events = 0 when the meeting is unknown)."""

MEETING_TIMELINE = """
SELECT ts_ms, event_type, user_id, user_name, leave_reason, device_type, device_os, region
FROM events FINAL
WHERE meeting_id = %(meeting_id)s AND event_type != 'QUALITY_METRICS'
ORDER BY ts_ms, event_type, user_id
LIMIT 10000
"""
"""Starts, joins, leaves and the end of one meeting, in time order."""

MEETING_SAMPLES = """
SELECT user_id, ts_ms, audio_quality, video_quality, latency_ms, packet_loss_pct, jitter_ms, mos, poor
FROM ({samples})
ORDER BY user_id, ts_ms
LIMIT 50000
"""
"""Quality samples of one meeting, per participant in time order."""

MEETING_PEOPLE = """
SELECT user_id, anyIf(user_name, user_name != ''), anyIf(device_type, device_type != ''),
       anyIf(device_os, device_os != ''), anyIf(region, region != '')
FROM events FINAL
WHERE meeting_id = %(meeting_id)s AND user_id != ''
GROUP BY user_id ORDER BY user_id
"""
"""Each participant of one meeting with a name, device, OS and region seen on their events."""


def meeting_facts(engine: Engine, meeting_id: str) -> dict | None:
    row = engine.execute(MEETING_FACTS, {"meeting_id": meeting_id})[0]
    (events, first, last, host, mtype, platform, region, started, n_started, ended, n_ended, duration,
     joins, users, samples) = row
    if not int(events):
        return None
    return {"meeting_id": meeting_id, "events": int(events), "first_event_ms": int(first),
            "last_event_ms": int(last), "host_id": host, "meeting_type": mtype, "platform": platform,
            "region": region, "started_ms": int(started) if int(n_started) else None,
            "ended_ms": int(ended) if int(n_ended) else None,
            "duration_s": fnum(duration) if int(n_ended) else None,
            "sessions": int(joins), "participants": int(users), "quality_samples": int(samples)}


def meeting_timeline(engine: Engine, meeting_id: str) -> list[dict]:
    keys = ("ts_ms", "event_type", "user_id", "user_name", "leave_reason", "device_type", "device_os", "region")
    return [dict(zip(keys, row)) for row in engine.execute(MEETING_TIMELINE, {"meeting_id": meeting_id})]


def meeting_sessions(engine: Engine, meeting_id: str, from_ms: int, to_ms: int) -> list[dict]:
    """Sessions of one meeting (DESIGN section 4) over its whole life."""
    sql, _ = compose(SESSIONS, meeting_only=True)
    rows = engine.execute(sql, {"meeting_id": meeting_id, "from_ms": int(from_ms) - 1, "to_ms": int(to_ms) + 1})
    return [{"user_id": u, "t_open": int(o), "t_close": int(c)} for _m, u, o, c in rows]


def concurrency(sessions: list[dict]) -> list[dict]:
    """Step series of open sessions: a point at every open/close (closes before opens at equal times)."""
    deltas = sorted([(s["t_open"], 1) for s in sessions] + [(s["t_close"], -1) for s in sessions])
    out, level = [], 0
    for t, d in deltas:
        level += d
        if out and out[-1]["t"] == t:
            out[-1]["participants"] = level
        else:
            out.append({"t": t, "participants": level})
    return out


def meeting_samples(engine: Engine, meeting_id: str, from_ms: int, to_ms: int) -> list[dict]:
    sql, _ = compose(MEETING_SAMPLES, meeting_only=True)
    keys = ("user_id", "ts_ms", "audio_quality", "video_quality", "latency_ms", "packet_loss_pct",
            "jitter_ms", "mos", "poor")
    rows = engine.execute(sql, {"meeting_id": meeting_id, "from_ms": int(from_ms), "to_ms": int(to_ms) + 1})
    out = []
    for row in rows:
        d = dict(zip(keys, row))
        d["ts_ms"] = int(d["ts_ms"])
        d["poor"] = bool(d["poor"])
        for k in ("audio_quality", "video_quality", "latency_ms", "packet_loss_pct", "jitter_ms", "mos"):
            d[k] = fnum(d[k])
        out.append(d)
    return out


def participant_table(engine: Engine, meeting_id: str, sessions: list[dict], samples: list[dict]) -> list[dict]:
    people = engine.execute(MEETING_PEOPLE, {"meeting_id": meeting_id})
    out = []
    for user, name, dtype, dos, region in people:
        mine = [s for s in sessions if s["user_id"] == user]
        qs = [s for s in samples if s["user_id"] == user]
        n = len(qs)
        out.append({
            "user_id": user, "user_name": name, "device_type": dtype, "device_os": dos, "region": region,
            "sessions": len(mine),
            "minutes": sum(s["t_close"] - s["t_open"] for s in mine) / 60000.0,
            "samples": n,
            "avg_mos": sum(s["mos"] for s in qs) / n if n else None,
            "avg_latency_ms": sum(s["latency_ms"] for s in qs) / n if n else None,
            "poor_pct": 100.0 * sum(1 for s in qs if s["poor"]) / n if n else None,
        })
    return out
