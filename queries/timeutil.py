"""Exact epoch milliseconds of a datetime (float seconds lose a millisecond for some times)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_MS = timedelta(milliseconds=1)


def epoch_ms(dt: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is UTC. Sub-millisecond parts are dropped."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt - EPOCH) // ONE_MS
