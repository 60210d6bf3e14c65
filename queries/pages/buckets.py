"""Time buckets for the charts: fixed steps aligned to a zone's offset, or calendar days of a zone.

ClickHouse 18.16 has no ``toStartOfInterval`` and takes no time zone from a parameter we trust,
so a bucket is plain arithmetic on the Int64 ``ts_ms`` column with bound parameters:

* steps of a minute, five minutes or an hour: ``intDiv(ts_ms + align, step) * step - align``,
  where ``align`` is the zone's UTC offset modulo the step (Asia/Kolkata's hours start at :30 UTC);
* calendar days: the local day number ``intDiv(ts_ms + offset(ts_ms), 86400000)``, with the
  zone's offset looked up per row among the offsets in force in the range (DST changes split
  the range into segments, passed as two arrays), then turned into the UTC start of that local
  day in Python. A day of 23 or 25 hours is therefore one bucket.

Gap filling happens in Python (``Bucketing.starts``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ..timeutil import epoch_ms

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

BUCKET_FIXED = "(intDiv(ts_ms + %(b_align)s, %(b_step)s) * %(b_step)s - %(b_align)s)"
"""Start (UTC ms) of the fixed-step bucket holding ``ts_ms``."""

BUCKET_DAY = ("intDiv(ts_ms + arrayElement(%(b_offsets)s, "
              "toUInt32(arrayCount(t -> t <= ts_ms, %(b_starts)s))), 86400000)")
"""Local calendar day number (days since 1970-01-01 in the zone) of ``ts_ms``."""

STEPS = {"minute": MINUTE, "5min": 5 * MINUTE, "hour": HOUR, "day": DAY}


def choose_step(from_ms: int, to_ms: int) -> str:
    """The bucket for a range: minutes up to 2 h, 5 minutes up to 12 h, hours up to 8 days, else days."""
    span = to_ms - from_ms
    if span <= 2 * HOUR:
        return "minute"
    if span <= 12 * HOUR:
        return "5min"
    if span <= 8 * DAY:
        return "hour"
    return "day"


def _offset_ms(zone: ZoneInfo, ms: int) -> int:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(zone)
    return int(dt.utcoffset().total_seconds() * 1000)


def offset_segments(zone: ZoneInfo, from_ms: int, to_ms: int) -> tuple[list[int], list[int]]:
    """(segment starts, offsets): the zone's UTC offset is offsets[i] from starts[i] on.

    The first start is 0 so every event time finds a segment; transitions are found to the
    millisecond by bisection between hourly probes.
    """
    starts, offsets = [0], [_offset_ms(zone, from_ms)]
    probe = from_ms
    while probe < to_ms:
        nxt = min(probe + HOUR, to_ms)
        if _offset_ms(zone, nxt) != offsets[-1]:
            lo, hi = probe, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_ms(zone, mid) == offsets[-1]:
                    lo = mid
                else:
                    hi = mid
            starts.append(hi)
            offsets.append(_offset_ms(zone, hi))
        probe = nxt
    return starts, offsets


def local_day_start_ms(zone: ZoneInfo, day_number: int) -> int:
    """UTC ms of local midnight (or the first existing instant) of local day ``day_number``."""
    day = datetime(1970, 1, 1) + timedelta(days=int(day_number))
    local = day.replace(tzinfo=zone)
    # a midnight that does not exist (DST at 00:00) resolves forward through fold handling
    utc = local.astimezone(timezone.utc)
    back = utc.astimezone(zone)
    if back.date() != day.date():
        utc = (day + timedelta(hours=1)).replace(tzinfo=zone).astimezone(timezone.utc)
    return epoch_ms(utc)


@dataclass(frozen=True)
class Bucketing:
    """How the charts of one range in one zone are bucketed."""

    from_ms: int
    to_ms: int
    tz: str
    step: str

    @classmethod
    def for_range(cls, from_ms: int, to_ms: int, tz: str = "UTC", step: str | None = None) -> "Bucketing":
        return cls(int(from_ms), int(to_ms), tz, step or choose_step(from_ms, to_ms))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def step_ms(self) -> int:
        return STEPS[self.step]

    @property
    def sql(self) -> str:
        """The SQL expression of the bucket key (a constant; values go in ``params``)."""
        return BUCKET_DAY if self.step == "day" else BUCKET_FIXED

    @property
    def params(self) -> dict:
        if self.step == "day":
            starts, offsets = offset_segments(self.zone, self.from_ms, self.to_ms)
            return {"b_starts": starts, "b_offsets": offsets}
        step = self.step_ms
        return {"b_step": step, "b_align": _offset_ms(self.zone, self.from_ms) % step}

    def key_to_ms(self, key) -> int:
        """UTC ms of the start of the bucket a SQL key names."""
        if self.step == "day":
            return local_day_start_ms(self.zone, int(key))
        return int(key)

    def bucket_of(self, ms: int) -> int:
        """The bucket start of an instant, computed in Python the way the SQL does."""
        if self.step == "day":
            return local_day_start_ms(self.zone, (ms + _offset_ms(self.zone, ms)) // DAY)
        p = self.params
        return (ms + p["b_align"]) // p["b_step"] * p["b_step"] - p["b_align"]

    def starts(self) -> list[int]:
        """Every bucket start touching [from, to), in order, for gap filling."""
        if self.to_ms <= self.from_ms:
            return []
        out = [self.bucket_of(self.from_ms)]
        last = self.bucket_of(self.to_ms - 1)
        while out[-1] < last:
            if self.step == "day":
                nxt = self.bucket_of(out[-1] + DAY + 3 * HOUR)
                if nxt <= out[-1]:  # pragma: no cover - defensive
                    break
            else:
                nxt = out[-1] + self.step_ms
            out.append(nxt)
        return out

    def fill(self, rows: dict[int, dict], empty: dict) -> list[dict]:
        """Rows keyed by bucket start, one per bucket of the range, missing buckets as ``empty``."""
        return [{"t": t, **rows.get(t, empty)} for t in self.starts()]
