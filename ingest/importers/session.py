"""Events of one participant seen through a client-side stats dump (webrtc-internals, rtcstats)."""
from __future__ import annotations

from .events import duration_s, message
from .quality import QualityAggregator


def client_session_events(options, *, platform: str, meeting_id: str, user_id: str,
                          user_name: str | None, device: dict | None, region: str | None,
                          agg: QualityAggregator, leave_reason: str = "end of stats") -> list[dict]:
    """MEETING_STARTED (id from the meeting alone, so several dumps of one meeting keep the
    first), PARTICIPANT_JOINED at the first sample, one QUALITY_METRICS per interval, and
    PARTICIPANT_LEFT at the last sample."""
    if agg.first_ms is None:
        return []
    first, last = int(round(agg.first_ms)), int(round(agg.last_ms))
    started = {"platform": platform, "region": region, "participants": []}
    events = [message("MEETING_STARTED", first, meeting_id, None, started, ("meeting",))]
    joined = {"userName": user_name, "joinTime": first, "deviceInfo": device,
              "region": region, "platform": platform}
    events.append(message("PARTICIPANT_JOINED", first, meeting_id, user_id, joined, (first,)))
    for sample in agg.finish():
        data = {"metrics": sample["metrics"], "region": region, "platform": platform,
                "stats": sample["stats"]}
        ts = min(max(int(round(sample["ts"])), first), last)
        events.append(message("QUALITY_METRICS", ts, meeting_id, user_id, data,
                              (first, sample["start"], agg.interval_ms)))
    left = {"duration": duration_s(first, last), "leaveReason": leave_reason, "platform": platform}
    events.append(message("PARTICIPANT_LEFT", last, meeting_id, user_id, left, (first, last)))
    return events
