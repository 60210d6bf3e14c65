"""Building contract-v1 message dicts with stable event ids."""
from __future__ import annotations

import hashlib

_ID_PREFIX = "meetpulse-import-v1"


def stable_id(*parts) -> str:
    """Hex id from what identifies the session in the source, never from file bytes or names."""
    text = "\x1f".join(str(p) for p in (_ID_PREFIX,) + parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def message(event_type: str, ts_ms: int | float, meeting_id: str, user_id: str | None,
            data: dict, id_parts: tuple) -> dict:
    """One contract-v1 message; ``id_parts`` name the source session (platform ids, times)."""
    msg = {
        "schemaVersion": 1,
        "eventId": stable_id(event_type, meeting_id, user_id or "", *id_parts),
        "eventType": event_type,
        "timestamp": int(round(ts_ms)),
        "meetingId": meeting_id,
    }
    if user_id:
        msg["userId"] = user_id
    msg["data"] = {k: v for k, v in data.items() if v is not None}
    return msg


def duration_s(start_ms: int | float, end_ms: int | float) -> float:
    """Seconds between two epoch-ms times, never negative, rounded to the millisecond."""
    return round(max(0.0, (end_ms - start_ms) / 1000.0), 3)
