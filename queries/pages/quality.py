"""Quality page: quality and latency over time, by region, poor-audio rules, MOS histogram, worst meetings."""
from __future__ import annotations

from ..engine import Engine
from ..filters import Filters
from . import fnum, query
from .buckets import Bucketing

QUALITY_SERIES = """
SELECT {bucket} AS b, count() AS samples,
       avg(audio_quality), avg(video_quality), avg(mos), avg(latency_ms),
       quantileExact(0.95)(latency_ms), countIf(poor) AS n_poor
FROM ({samples})
GROUP BY b ORDER BY b
"""
"""Per bucket: samples, mean audio/video score, mean MOS, mean and p95 latency, poor samples."""

BY_REGION = """
SELECT region, count() AS samples, avg(audio_quality), avg(video_quality), avg(mos),
       avg(latency_ms), avg(packet_loss_pct), countIf(poor) AS n_poor
FROM ({samples})
GROUP BY region ORDER BY region
"""
"""Per region of the sample: samples, mean scores, MOS, latency, loss, poor samples."""

POOR_RULES = """
SELECT count() AS samples, countIf(poor) AS n_poor,
       countIf(latency_ms > 500) AS by_latency,
       countIf(packet_loss_pct > 10) AS by_loss,
       countIf(ifNull(jitter_ms, 0) > 30) AS by_jitter,
       countIf(poor AND (latency_ms > 500) + (packet_loss_pct > 10) + (ifNull(jitter_ms, 0) > 30) > 1) AS by_several
FROM ({samples})
"""
"""Poor-audio samples and how many each rule (latency > 500 ms, loss > 10 %, jitter > 30 ms) flagged."""

MOS_HISTOGRAM = """
SELECT floor(mos * 4) / 4 AS bin, count() FROM ({samples}) GROUP BY bin ORDER BY bin
"""
"""Samples per MOS bin of width 0.25."""

WORST_COLUMNS = ("avg_mos", "poor_pct", "avg_latency_ms", "avg_packet_loss_pct", "avg_audio_quality",
                 "samples", "participants", "meeting_id")
"""Columns of the worst-meetings table, in order; all but meeting_id can sort it."""

WORST_MEETINGS = """
SELECT meeting_id, avg_mos, poor_pct, avg_latency_ms, avg_packet_loss_pct, avg_audio_quality, samples,
       greatest(joined, sampled) AS participants
FROM (
    SELECT meeting_id, uniqExactIf(user_id, event_type = 'PARTICIPANT_JOINED') AS joined
    FROM events FINAL
    WHERE ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {filter}
    GROUP BY meeting_id
) AS active ANY LEFT JOIN (
    SELECT meeting_id, avg(mos) AS avg_mos, 100 * countIf(poor) / count() AS poor_pct,
           avg(latency_ms) AS avg_latency_ms, avg(packet_loss_pct) AS avg_packet_loss_pct,
           avg(audio_quality) AS avg_audio_quality, count() AS samples, uniqExact(user_id) AS sampled
    FROM ({samples})
    GROUP BY meeting_id
) AS quality USING meeting_id
ORDER BY samples = 0,
         multiIf(%(sort)s = 'poor_pct', poor_pct,
                 %(sort)s = 'avg_latency_ms', avg_latency_ms,
                 %(sort)s = 'avg_packet_loss_pct', avg_packet_loss_pct,
                 %(sort)s = 'avg_audio_quality', avg_audio_quality,
                 %(sort)s = 'samples', toFloat64(samples),
                 %(sort)s = 'participants', toFloat64(greatest(joined, sampled)),
                 avg_mos) * %(direction)s, meeting_id
LIMIT %(offset)s, %(limit)s
"""
"""One page of the meetings with an event in range, sorted by a chosen column (values bound);
meetings without quality samples come last, their quality columns empty."""

WORST_COUNT = "SELECT uniqExact(meeting_id) FROM events FINAL WHERE ts_ms >= %(from_ms)s AND ts_ms < %(to_ms)s {filter}"
"""How many meetings have an event in range."""


def quality_series(engine: Engine, bucketing: Bucketing, filters: Filters | None = None) -> list[dict]:
    rows = query(engine, QUALITY_SERIES, bucketing.from_ms, bucketing.to_ms, filters, bucketing)
    found = {}
    for b, n, audio, video, mos, lat, p95, poor in rows:
        n = int(n)
        found[bucketing.key_to_ms(b)] = {
            "samples": n, "avg_audio_quality": fnum(audio), "avg_video_quality": fnum(video),
            "avg_mos": fnum(mos), "avg_latency_ms": fnum(lat), "p95_latency_ms": fnum(p95),
            "poor_audio_pct": 100.0 * int(poor) / n if n else None}
    empty = {"samples": 0, "avg_audio_quality": None, "avg_video_quality": None, "avg_mos": None,
             "avg_latency_ms": None, "p95_latency_ms": None, "poor_audio_pct": None}
    return bucketing.fill(found, empty)


def by_region(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> list[dict]:
    out = []
    for region, n, audio, video, mos, lat, loss, poor in query(engine, BY_REGION, from_ms, to_ms, filters):
        n = int(n)
        out.append({"region": region or "(none)", "samples": n, "avg_audio_quality": fnum(audio),
                    "avg_video_quality": fnum(video), "avg_mos": fnum(mos), "avg_latency_ms": fnum(lat),
                    "avg_packet_loss_pct": fnum(loss), "poor_audio_pct": 100.0 * int(poor) / n})
    return out


def poor_rules(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> dict:
    n, poor, lat, loss, jitter, several = (int(v) for v in query(engine, POOR_RULES, from_ms, to_ms, filters)[0])
    return {"samples": n, "poor": poor, "poor_audio_pct": 100.0 * poor / n if n else None,
            "by_latency": lat, "by_loss": loss, "by_jitter": jitter, "by_several": several}


def mos_histogram(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None) -> list[dict]:
    return [{"mos_from": float(b), "mos_to": float(b) + 0.25, "samples": int(n)}
            for b, n in query(engine, MOS_HISTOGRAM, from_ms, to_ms, filters)]


def worst_meetings(engine: Engine, from_ms: int, to_ms: int, filters: Filters | None = None,
                   sort: str = "avg_mos", descending: bool = False, limit: int = 10,
                   offset: int = 0) -> dict:
    """{"total": meetings with an event in range, "rows": one page}; ``sort`` must be in WORST_COLUMNS."""
    if sort not in WORST_COLUMNS[:-1]:
        raise ValueError(f"cannot sort by {sort!r}")
    rows = query(engine, WORST_MEETINGS, from_ms, to_ms, filters, sort=sort,
                 direction=-1 if descending else 1, limit=int(limit), offset=int(offset))
    total = int(query(engine, WORST_COUNT, from_ms, to_ms, filters)[0][0])
    out = []
    for mid, mos, poor, lat, loss, audio, n, users in rows:
        sampled = int(n) > 0  # the join fills a meeting without samples with zeros: show them empty
        out.append({"meeting_id": mid, "avg_mos": fnum(mos) if sampled else None,
                    "poor_pct": fnum(poor) if sampled else None,
                    "avg_latency_ms": fnum(lat) if sampled else None,
                    "avg_packet_loss_pct": fnum(loss) if sampled else None,
                    "avg_audio_quality": fnum(audio) if sampled else None,
                    "samples": int(n), "participants": int(users)})
    return {"total": total, "rows": out}
