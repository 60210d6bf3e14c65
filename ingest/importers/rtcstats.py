"""rtcstats line dumps: Jitsi client dumps, Chrome's ``RTCStatsDump`` and Jicofo server dumps.

Client dumps (one JSON array per line, ``[event, pcId|null, payload, ..., time]``) are one
participant: identity (Jitsi ``identity`` lines, else the page) names meeting and user;
``getstats``/``getStats`` payloads are delta-compressed (only changed fields follow), so each
report's fields are merged into the last known state before use. Jitsi times are epoch ms;
in ``RTCStatsDump`` the first line carries epoch ms and every later line the delta since the
line before it.

Jicofo dumps (``{statsSessionId, type, data}`` per line) are the conference seen by the focus:
joins and leaves come from its log lines ``Member joined:<endpoint>`` / ``Member left:<endpoint>``
(UTC times in the text), one participant per endpoint.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

import orjson

from .device import from_client_hints, from_user_agent
from .events import duration_s, message
from .quality import QualityAggregator
from .session import client_session_events
from .statsmap import classify
from .webrtc_internals import page_key

_STATS_EVENTS = {"getstats", "getStats"}


def _loads(text):
    if isinstance(text, (bytes, str)):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
    return text


def iter_rtcstats(path, options):
    with open(path, "rb") as handle:
        first = handle.readline()
        handle.seek(0)
        probe = first.strip()
        if probe.startswith(b"{") and b"statsSessionId" in probe:
            yield from _iter_jicofo(path, handle, options)
        else:
            yield from _iter_client(path, handle, options)


def _iter_client(path, handle, options):
    summary = options.summary
    agg = QualityAggregator(options.interval_ms, count_from_zero=True)
    state: dict = {}  # pc -> report id -> merged fields
    identity: dict = {}
    page = {"url": None, "ua": None, "hints": None, "pc_urls": {}}
    chrome_dump = False
    clock = None
    for number, raw in enumerate(handle, 1):
        line = raw.strip()
        if not line:
            continue
        if number == 1 and line == b"RTCStatsDump":
            chrome_dump = True
            continue
        item = _loads(line)
        if isinstance(item, dict):  # {"fileFormat": 3}
            continue
        if not isinstance(item, list) or len(item) < 3 or not isinstance(item[0], str):
            summary.skip(path, number, "not an rtcstats line")
            continue
        event, pc = item[0], item[1]
        payload = item[2]
        when = item[-1] if len(item) >= 4 else None
        if not isinstance(when, (int, float)) or isinstance(when, bool):
            summary.skip(path, number, "no time on the line")
            continue
        if chrome_dump:
            clock = when if clock is None else clock + when
            t = clock
        else:
            t = when
        summary.counts["lines"] += 1
        if event == "connectionInfo":
            info = _loads(payload) if isinstance(payload, str) else payload
            if isinstance(info, dict):
                page["url"] = page["url"] or info.get("url")
                page["ua"] = info.get("userAgent") or page["ua"]
        elif event == "identity" and isinstance(payload, dict):
            identity.update({k: v for k, v in payload.items() if v not in (None, "")})
        elif event == "create":
            if pc is None and isinstance(payload, dict):
                page["hints"] = payload.get("userAgentData") or page["hints"]
                page["ua"] = payload.get("userAgent") or page["ua"]
            elif len(item) >= 5 and isinstance(item[3], str):
                page["pc_urls"][pc] = item[3]
        elif event in _STATS_EVENTS and isinstance(payload, dict):
            summary.counts["getstats"] += 1
            summary.source_time(t)
            pc_state = state.setdefault(str(pc), {})
            for report_id, report in payload.items():
                if isinstance(report, dict):
                    pc_state.setdefault(report_id, {}).update(report)
            agg.sample(t)
            for report_id, report in pc_state.items():
                kind, values = classify(report_id, report)
                if kind:
                    agg.observe(str(pc), report_id, kind, t, values)
    summary.counts["peer_connections"] += len(state)
    region = None
    deployment = identity.get("deploymentInfo")
    if isinstance(deployment, dict):
        region = deployment.get("userRegion") or deployment.get("region") or None
    if chrome_dump or not identity:
        urls = [page_key(page["pc_urls"][k]) for k in sorted(page["pc_urls"])] + [page_key(page["url"])]
        meeting_key = next((u for u in urls if u), "unknown-page")
        day = ""
        if agg.first_ms is not None:
            day = datetime.fromtimestamp(agg.first_ms / 1000, timezone.utc).strftime("%Y-%m-%d")
        basis = "\x1f".join([meeting_key, ",".join(sorted(state)), day])
        platform = "webrtc"
        meeting_id = "webrtc:" + meeting_key
        user_id = "webrtc:u-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:20]
        user_name = None
    else:
        platform = "jitsi"
        conference = (identity.get("meetingUniqueId") or identity.get("confID")
                      or identity.get("confName") or page_key(page["url"]) or "unknown")
        meeting_id = "jitsi:" + str(conference)
        name = identity.get("displayName")
        if identity.get("endpointId"):
            user_id = "jitsi:" + str(identity["endpointId"])
        elif name:
            user_id = "jitsi:" + options.pseudonyms.person_id("name:" + str(name).casefold())
        else:
            basis = f"{identity.get('deviceId', '')}\x1f{identity.get('sessionId', '')}"
            user_id = "jitsi:d-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:20]
        user_name = options.pseudonyms.user_name(name) if name else None
    device = from_client_hints(page["hints"], page["ua"]) if page["hints"] else from_user_agent(page["ua"])
    yield from client_session_events(
        options, platform=platform, meeting_id=meeting_id, user_id=user_id, user_name=user_name,
        device=device, region=region, agg=agg)


_LOG_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,3}))?")
_JOINED = re.compile(r"Member joined:\s*(\S+)(?:.*?\bstats-id=(\S+))?(?:.*?\bregion=(\S+))?")
_LEFT = re.compile(r"Member left:\s*(\S+)")


def _log_ms(text: str) -> int | None:
    match = _LOG_TIME.search(text)
    if not match:
        return None
    stamp = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}+00:00")
    return int(stamp.timestamp()) * 1000 + int((match.group(3) or "0").ljust(3, "0"))


def _iter_jicofo(path, handle, options):
    summary = options.summary
    meeting = {"id": None, "started": False}
    joins: dict[str, int] = {}

    def meeting_id() -> str:
        return "jitsi:" + (meeting["id"] or "unknown-conference")

    for number, raw in enumerate(handle, 1):
        line = raw.strip()
        if not line:
            continue
        item = _loads(line)
        if not isinstance(item, dict) or "type" not in item:
            summary.skip(path, number, "not a Jicofo rtcstats entry")
            continue
        summary.counts["entries"] += 1
        data = item.get("data")
        if item["type"] == "identity":
            summary.counts["identity"] += 1
            if isinstance(data, dict):
                meeting["id"] = meeting["id"] or data.get("meetingUniqueId") or data.get("confName")
            continue
        if item["type"] != "stats-entry":
            summary.skip(path, number, f"entry type {item['type']!r} not used")
            continue
        summary.counts["stats_entries"] += 1
        entry = _loads(data)
        if isinstance(entry, dict):
            meeting["id"] = meeting["id"] or entry.get("meeting_id")
            if isinstance(entry.get("timestamp"), (int, float)):
                summary.counts["samples"] += 1
                summary.source_time(entry["timestamp"])
                if set(entry) == {"colibri_session_manager", "timestamp"}:
                    summary.counts["bridge_stress_samples"] += 1
            continue
        if not (isinstance(entry, list) and entry and entry[0] == "logs"):
            summary.skip(path, number, "stats-entry neither an object nor a log batch")
            continue
        summary.counts["log_batches"] += 1
        if len(entry) > 3 and isinstance(entry[-1], (int, float)):
            summary.source_time(entry[-1])
        for record in entry[2] if len(entry) > 2 and isinstance(entry[2], list) else []:
            text = record.get("text", "") if isinstance(record, dict) else ""
            joined, left = _JOINED.search(text), _LEFT.search(text)
            if not (joined or left):
                continue
            ts = _log_ms(text)
            if ts is None:
                summary.skip(path, number, "log line without a time")
                continue
            if joined:
                endpoint, stats_id, region = joined.group(1), joined.group(2), joined.group(3)
                if not meeting["started"]:
                    meeting["started"] = True
                    yield message("MEETING_STARTED", ts, meeting_id(), None,
                                  {"platform": "jitsi", "region": region, "participants": []},
                                  ("meeting",))
                joins[endpoint] = ts
                data_joined = {"userName": options.pseudonyms.user_name(stats_id), "joinTime": ts,
                               "region": region, "platform": "jitsi"}
                yield message("PARTICIPANT_JOINED", ts, meeting_id(), "jitsi:" + endpoint,
                              data_joined, (ts,))
            else:
                endpoint = left.group(1)
                if endpoint not in joins:
                    summary.skip(path, number, f"leave of endpoint {endpoint} without a join in the file")
                    continue
                yield message("PARTICIPANT_LEFT", ts, meeting_id(), "jitsi:" + endpoint,
                              {"duration": duration_s(joins[endpoint], ts), "leaveReason": "left",
                               "platform": "jitsi"}, (joins[endpoint], ts))
