"""What the Redis live state should hold, recomputed from ClickHouse (after Redis lost its data)."""
from __future__ import annotations

from .engine import Engine

LIVE_MEETINGS = """
SELECT meeting_id, max(ts_ms) AS last_ms
FROM events FINAL
WHERE meeting_id IN (SELECT meeting_id FROM events WHERE event_type = 'MEETING_STARTED')
  AND meeting_id NOT IN (SELECT meeting_id FROM events WHERE event_type = 'MEETING_ENDED')
GROUP BY meeting_id
HAVING last_ms >= %(since_ms)s
"""
"""Meetings started, not ended, with an event since the idle horizon."""

LIVE_PARTICIPANTS = """
SELECT meeting_id, user_id, max(ts_ms) AS last_ms,
       argMax(event_type, (ts_ms, event_type = 'PARTICIPANT_LEFT')) AS last_type
FROM events FINAL
WHERE user_id != ''
  AND meeting_id NOT IN (SELECT meeting_id FROM events WHERE event_type = 'MEETING_ENDED')
  AND meeting_id IN (SELECT meeting_id FROM events WHERE ts_ms >= %(since_ms)s)
GROUP BY meeting_id, user_id
HAVING last_ms >= %(since_ms)s AND last_type != 'PARTICIPANT_LEFT'
   AND countIf(event_type = 'PARTICIPANT_JOINED') > 0
"""
"""Participants of running meetings whose last event is recent and not a leave."""

DEAD_LETTER_HASHES = "SELECT sha256, any(reason) FROM dead_letters GROUP BY sha256"
"""Each rejected message once, with its reason."""

LAST_EVENT = "SELECT max(ts_ms) FROM events"
"""Time of the newest event stored."""


def live_entities(engine: Engine, since_ms: int):
    meetings = [(m, int(ts)) for m, ts in engine.execute(LIVE_MEETINGS, {"since_ms": since_ms})]
    participants = [(m, u, int(ts)) for m, u, ts, _t in engine.execute(LIVE_PARTICIPANTS, {"since_ms": since_ms})]
    return meetings, participants


def dead_letter_hashes(engine: Engine) -> list[tuple[str, str]]:
    return [(sha, reason) for sha, reason in engine.execute(DEAD_LETTER_HASHES)]


def last_event_ms(engine: Engine) -> int | None:
    rows = engine.execute(LAST_EVENT)
    return int(rows[0][0]) if rows and rows[0][0] else None
