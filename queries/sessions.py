"""Session upkeep: the ``sessions`` table is recomputed per touched meeting at ingest.

A session of (meeting, user) opens at a PARTICIPANT_JOINED and closes at the earliest of: a
PARTICIPANT_LEFT of the pair at or after the join, a PARTICIPANT_JOINED of the pair strictly after
it, the meeting's MEETING_ENDED at or after it; failing those at the pair's last event after the
join; failing that it has length zero (DESIGN section 4). A late or out-of-order event can move a
close, so a batch recomputes every session of each meeting it touches, from ``pair_events``, which
is ordered by meeting. Rows are versioned; readers use FINAL.
"""
from __future__ import annotations

import time
from typing import Iterable

from .engine import Engine

COMPUTE = """
INSERT INTO sessions (meeting_id, user_id, join_event_id, t_open, t_close, version)
SELECT meeting_id, user_id, join_event_id, t_open, t_close, toUInt64(%(version)s) FROM (
    SELECT
        meeting_id, user_id, join.2 AS join_event_id, join.1 AS t_open,
        arrayConcat(
            arrayFilter(x -> x >= t_open, leaves),
            arrayFilter(x -> x > t_open, arrayMap(j -> j.1, joins)),
            arrayFilter(x -> x >= t_open, ends)
        ) AS closers,
        arrayFilter(x -> x > t_open, alls) AS later,
        if(notEmpty(closers), arrayReduce('min', closers),
           if(notEmpty(later), arrayReduce('max', later), t_open)) AS t_close
    FROM (
        SELECT meeting_id, user_id, joins, leaves, alls, ends, arrayJoin(joins) AS join
        FROM (
            SELECT
                meeting_id, user_id,
                groupArrayIf((ts_ms, event_id), event_type = 'PARTICIPANT_JOINED') AS joins,
                groupArrayIf(ts_ms, event_type = 'PARTICIPANT_LEFT') AS leaves,
                groupArray(ts_ms) AS alls
            FROM pair_events FINAL
            WHERE user_id != '' {meetings}
            GROUP BY meeting_id, user_id
            HAVING notEmpty(joins)
        ) AS pairs ANY LEFT JOIN (
            SELECT meeting_id, groupArray(ts_ms) AS ends
            FROM pair_events FINAL
            WHERE event_type = 'MEETING_ENDED' {meetings}
            GROUP BY meeting_id
        ) AS meeting_ends USING meeting_id
    )
)
"""
"""Compute the sessions of some meetings (or all) from ``pair_events`` and store them as a new version."""

CHUNK = 2000


def refresh(engine: Engine, meeting_ids: Iterable[str], version: int | None = None) -> None:
    """Recompute and store every session of the given meetings."""
    meetings = sorted(set(meeting_ids))
    version = int(time.time() * 1000) if version is None else version
    for start in range(0, len(meetings), CHUNK):
        chunk = tuple(meetings[start:start + CHUNK])
        engine.execute(COMPUTE.replace("{meetings}", "AND meeting_id IN %(meetings)s"),
                       {"meetings": chunk, "version": version})


def rebuild_all(engine: Engine) -> None:
    """Recompute the sessions of every meeting (after the table was created on existing data)."""
    engine.execute(COMPUTE.replace("{meetings}", ""), {"version": int(time.time() * 1000)})
