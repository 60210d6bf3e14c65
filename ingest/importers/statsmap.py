"""Map one WebRTC stats report (standard or legacy ``goog*``) to the few numbers we use.

Returns ``(kind, fields)`` where kind is ``inbound``, ``outbound``, ``remote-inbound``, ``pair``
or None (report not used), and fields hold: packetsReceived, packetsLost, packetsSent,
bytesReceived, bytesSent (cumulative counters), jitterMs, rttMs, active (bool), media.
"""
from __future__ import annotations

import math
import re

_NEW_ID = re.compile(r"^(IT|OT|RI|RO)\d*([AV])\d")
_TYPE_BY_PREFIX = (
    ("RTCInboundRTP", "inbound-rtp"),
    ("RTCOutboundRTP", "outbound-rtp"),
    ("RTCRemoteInboundRtp", "remote-inbound-rtp"),
    ("RTCRemoteOutboundRTP", "remote-outbound-rtp"),
    ("RTCIceCandidatePair", "candidate-pair"),
    ("Conn-", "googCandidatePair"),
    ("ssrc_", "ssrc"),
)


def infer_type(report_id: str) -> str | None:
    """Stats type from the id, for dumps whose series carry no ``statsType``."""
    for prefix, rtype in _TYPE_BY_PREFIX:
        if report_id.startswith(prefix):
            return rtype
    match = _NEW_ID.match(report_id)
    if match:
        return {"IT": "inbound-rtp", "OT": "outbound-rtp", "RI": "remote-inbound-rtp",
                "RO": "remote-outbound-rtp"}[match.group(1)]
    if re.match(r"^CP\w", report_id):
        return "candidate-pair"
    return None


def _num(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _media(report_id: str, report: dict) -> str | None:
    for key in ("kind", "mediaType"):
        if isinstance(report.get(key), str) and report[key]:
            return report[key]
    lowered = report_id.lower()
    if "audio" in lowered:
        return "audio"
    if "video" in lowered:
        return "video"
    match = _NEW_ID.match(report_id)
    if match:
        return "audio" if match.group(2) == "A" else "video"
    return None


def classify(report_id: str, report: dict) -> tuple[str | None, dict]:
    rtype = report.get("type") or infer_type(report_id)
    out: dict = {}

    def take(src: str, dst: str, scale: float = 1.0):
        value = _num(report.get(src))
        if value is not None:
            out[dst] = value * scale

    if rtype == "ssrc":  # legacy Chrome: ssrc_<n>_recv / ssrc_<n>_send
        rtype = "inbound-rtp" if report_id.endswith("_recv") else (
            "outbound-rtp" if report_id.endswith("_send") else None)
        legacy = True
    else:
        legacy = False
    if rtype == "inbound-rtp":
        take("packetsReceived", "packetsReceived")
        take("packetsLost", "packetsLost")
        take("bytesReceived", "bytesReceived")
        if legacy:
            take("googJitterReceived", "jitterMs")
        else:
            take("jitter", "jitterMs", 1000.0)
        out["media"] = _media(report_id, report)
        return "inbound", out
    if rtype == "outbound-rtp":
        take("packetsSent", "packetsSent")
        take("bytesSent", "bytesSent")
        if legacy:  # the send ssrc carries the RTCP round trip and the remote's loss count
            take("googRtt", "rttMs")
            take("packetsLost", "remotePacketsLost")
        out["media"] = _media(report_id, report)
        return "outbound", out
    if rtype == "remote-inbound-rtp":
        take("roundTripTime", "rttMs", 1000.0)
        take("packetsLost", "remotePacketsLost")
        take("jitter", "jitterMs", 1000.0)
        out["media"] = _media(report_id, report)
        return "remote-inbound", out
    if rtype in ("candidate-pair", "googCandidatePair"):
        take("bytesReceived", "bytesReceived")
        take("bytesSent", "bytesSent")
        if rtype == "googCandidatePair":
            take("googRtt", "rttMs")
            active = report.get("googActiveConnection")
            if active is not None:
                out["active"] = str(active).lower() == "true"
        else:
            take("currentRoundTripTime", "rttMs", 1000.0)
            if report.get("nominated") is True and report.get("state") == "succeeded":
                out["active"] = True
        return "pair", out
    return None, out
