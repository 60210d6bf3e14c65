"""Chrome webrtc-internals JSON dump -> one participant, its peer connections merged.

Each stats series ``"<reportId>-<metric>"`` holds ``values`` (a JSON array inside a string)
sampled evenly from ``startTime`` to ``endTime``; ``statsType`` is used when present, else the
type is inferred from the report id. Bracketed series (``[codec]``, ``[x/s]``) are derived by
the browser and ignored.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from urllib.parse import urlsplit

import orjson

from .device import from_client_hints
from .quality import QualityAggregator
from .session import client_session_events
from .statsmap import classify, infer_type

_WANTED = {
    "type", "kind", "mediaType", "packetsReceived", "packetsLost", "packetsSent",
    "bytesReceived", "bytesSent", "jitter", "roundTripTime", "currentRoundTripTime",
    "nominated", "state", "googJitterReceived", "googRtt", "googActiveConnection",
}


def _iso_ms(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000.0


def _values(series: dict) -> list:
    raw = series.get("values")
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return []
    return raw if isinstance(raw, list) else []


def page_key(url: str | None) -> str:
    """A page URL without query or fragment (meeting codes live in the path)."""
    if not url:
        return ""
    parts = urlsplit(url)
    if not parts.scheme:
        return url.split("?")[0].split("#")[0]
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"


def iter_webrtc_internals(path, options):
    with open(path, "rb") as handle:
        doc = orjson.loads(handle.read())
    pcs = doc.get("PeerConnections") or {}
    summary = options.summary
    agg = QualityAggregator(options.interval_ms, count_from_zero=False)
    urls = []
    for pc_key in sorted(pcs):
        pc = pcs[pc_key] or {}
        urls.append(page_key(pc.get("url")))
        reports: dict[str, dict] = {}
        longest: list = []
        for series_key, series in (pc.get("stats") or {}).items():
            summary.counts["series"] += 1
            report_id, _, metric = series_key.rpartition("-")
            if not report_id or metric.startswith("["):
                continue
            values = _values(series)
            if not values:
                continue
            summary.counts["max_series_samples"] = max(summary.counts["max_series_samples"], len(values))
            try:
                start, end = _iso_ms(series["startTime"]), _iso_ms(series["endTime"])
            except (KeyError, TypeError, ValueError):
                summary.skip(path, None, f"series {series_key}: no startTime/endTime")
                continue
            step = (end - start) / (len(values) - 1) if len(values) > 1 else 0.0
            times = [round(start + i * step) for i in range(len(values))]
            summary.source_time(times[0])
            summary.source_time(times[-1])
            if len(times) > len(longest):
                longest = times
            if metric not in _WANTED:
                continue
            report = reports.setdefault(report_id, {"_type": series.get("statsType"), "_by_t": {}})
            if report["_type"] is None and series.get("statsType"):
                report["_type"] = series["statsType"]
            for t, value in zip(times, values):
                report["_by_t"].setdefault(t, {})[metric] = value
        for t in longest:
            agg.sample(t)
        summary.counts["samples"] += len(longest)
        for report_id, report in sorted(reports.items()):
            rtype = report["_type"] or infer_type(report_id)
            for t in sorted(report["_by_t"]):
                fields = dict(report["_by_t"][t])
                fields["type"] = rtype
                kind, values = classify(report_id, fields)
                if kind:
                    agg.observe(pc_key, report_id, kind, t, values)
    summary.counts["peer_connections"] += len(pcs)
    meeting_key = next((u for u in urls if u), "") or "unknown-page"
    first_day = ""
    if agg.first_ms is not None:
        first_day = datetime.fromtimestamp(agg.first_ms / 1000, timezone.utc).strftime("%Y-%m-%d")
    user_basis = "\x1f".join([meeting_key, ",".join(sorted(pcs)), first_day])
    user_id = "webrtc:u-" + hashlib.sha256(user_basis.encode("utf-8")).hexdigest()[:20]
    device = from_client_hints(doc.get("UserAgentData"), doc.get("UserAgent"))
    yield from client_session_events(
        options, platform="webrtc", meeting_id="webrtc:" + meeting_key, user_id=user_id,
        user_name=None, device=device, region=None, agg=agg)
