"""Zoom webhooks (meeting.started/ended, participant_joined/left): files and live requests.

The meeting id is the instance ``uuid`` (a personal room's numeric ``id`` repeats). A leave's
duration comes from its join, kept in ``options.state`` across files and requests; a leave
without a join is skipped with a reason. Joins are never dropped once used, so a re-delivered
leave yields the same event again (same eventId). A meeting's duration is end_time - start_time
(Zoom's ``duration`` field is the scheduled length).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import orjson

from .events import duration_s, message
from .pseudonym import normalize_email

SIGNATURE_MAX_AGE_S = 300
_MEETING_TYPES = {1: "instant", 2: "scheduled", 3: "recurring", 4: "personal_room",
                  7: "personal_audio_conference", 8: "recurring"}
HANDLED = ("meeting.started", "meeting.ended", "meeting.participant_joined",
           "meeting.participant_left")


def verify_zoom_signature(secret: str | bytes, timestamp_header: str | None,
                          signature_header: str | None, raw_body: bytes, now_s: float) -> bool:
    """Zoom's check: ``x-zm-signature`` == ``v0=`` + HMAC-SHA256(secret, ``v0:{ts}:{body}``),
    with ``x-zm-request-timestamp`` no older (or newer) than 5 minutes."""
    if not secret or not timestamp_header or not signature_header:
        return False
    try:
        stamp = int(str(timestamp_header).strip())
    except ValueError:
        return False
    if abs(now_s - stamp) > SIGNATURE_MAX_AGE_S:
        return False
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    body = raw_body if isinstance(raw_body, bytes) else str(raw_body).encode("utf-8")
    expected = "v0=" + hmac.new(key, b"v0:" + str(stamp).encode() + b":" + body,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(signature_header).strip())


def zoom_url_validation_response(secret: str | bytes, body: dict) -> dict:
    """Answer to ``endpoint.url_validation``: the plainToken and its HMAC-SHA256 hex."""
    token = str(((body or {}).get("payload") or {}).get("plainToken", ""))
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return {"plainToken": token,
            "encryptedToken": hmac.new(key, token.encode("utf-8"), hashlib.sha256).hexdigest()}


def _ms(text) -> int | None:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(text)
    if not isinstance(text, str) or not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        return None
    return int(round(stamp.timestamp() * 1000))


def _user_id(participant: dict, options) -> str | None:
    """Zoom's user ``id`` (stable per account or guest); else keyed hash of the email; else the
    per-meeting ``user_id``/``participant_user_id``."""
    pid = participant.get("id") or participant.get("participant_user_id")
    if pid:
        return "zoom:" + str(pid)
    email = participant.get("email")
    if email:
        return "zoom:" + options.pseudonyms.person_id("email:" + normalize_email(email))
    if participant.get("user_id"):
        return "zoom:uid-" + str(participant["user_id"])
    return None


def _sessions_max_concurrency(sessions: dict, end_ms: int) -> int:
    deltas = []
    for spans in sessions.values():
        for join, leave in spans:
            deltas.append((join, 1))
            deltas.append((leave if leave is not None else end_ms, -1))
    deltas.sort(key=lambda d: (d[0], d[1]))  # closes before opens at equal times
    level = peak = 0
    for _, step in deltas:
        level += step
        peak = max(peak, level)
    return peak


def zoom_webhook_events(payload: dict, options, *, path: str = "<request>",
                        line: int | None = None, flush: bool = True) -> list[dict]:
    """Contract messages for one webhook body; unusable bodies are recorded as skipped.

    The join state is flushed after the call unless ``flush=False`` (file imports flush once)."""
    try:
        return _events(payload, options, path, line)
    finally:
        if flush:
            options.state.flush()


def _events(payload, options, path, line) -> list[dict]:
    summary = options.summary
    events: list[dict] = []
    if not isinstance(payload, dict):
        summary.skip(path, line, "webhook body is not a JSON object")
        return events
    kind = payload.get("event")
    obj = ((payload.get("payload") or {}).get("object")) or {}
    if kind not in HANDLED:
        summary.skip(path, line, f"webhook event {kind!r} not imported")
        return events
    uuid = obj.get("uuid")
    if not uuid:
        summary.skip(path, line, f"{kind} without a meeting uuid")
        return events
    meeting_id = "zoom:" + str(uuid)
    key = "zoom:meeting:" + str(uuid)
    record = options.state.get(key) or {"start": None, "sessions": {}}
    common = {"platform": "zoom"}
    if kind == "meeting.started":
        start = _ms(obj.get("start_time"))
        if start is None:
            summary.skip(path, line, "meeting.started without start_time")
            return events
        record["start"] = start
        data = dict(common, hostId=obj.get("host_id"),
                    meetingType=_MEETING_TYPES.get(obj.get("type"), str(obj.get("type") or "") or None),
                    participants=[])
        events.append(message("MEETING_STARTED", start, meeting_id, None, data, ("meeting",)))
    elif kind == "meeting.ended":
        start, end = _ms(obj.get("start_time")), _ms(obj.get("end_time"))
        if end is None:
            summary.skip(path, line, "meeting.ended without end_time")
            return events
        start = start if start is not None else record.get("start")
        if start is None:
            summary.skip(path, line, "meeting.ended without start_time")
            return events
        data = dict(common, duration=duration_s(start, end))
        if record["sessions"] or record.get("start") is not None:
            data["totalParticipants"] = len(record["sessions"])
            data["maxConcurrentUsers"] = _sessions_max_concurrency(record["sessions"], end)
        events.append(message("MEETING_ENDED", end, meeting_id, None, data, ("meeting-ended",)))
    else:
        participant = obj.get("participant") or {}
        user_id = _user_id(participant, options)
        if user_id is None:
            summary.skip(path, line, f"{kind} without a participant id")
            return events
        spans = record["sessions"].setdefault(user_id, [])
        if kind == "meeting.participant_joined":
            join = _ms(participant.get("join_time"))
            if join is None:
                summary.skip(path, line, "participant_joined without join_time")
                return events
            if not any(span[0] == join for span in spans):
                spans.append([join, None])
                spans.sort(key=lambda s: s[0])
            data = dict(common, userName=options.pseudonyms.user_name(participant.get("user_name")),
                        joinTime=join)
            events.append(message("PARTICIPANT_JOINED", join, meeting_id, user_id, data, (join,)))
        else:
            leave = _ms(participant.get("leave_time"))
            if leave is None:
                summary.skip(path, line, "participant_left without leave_time")
                return events
            earlier = [span for span in spans if span[0] <= leave]
            if not earlier:
                if not spans:
                    del record["sessions"][user_id]
                summary.skip(path, line, f"participant_left of {user_id} in {meeting_id} "
                                         "without a recorded participant_joined")
                return events
            span = earlier[-1]
            span[1] = leave
            data = dict(common, duration=duration_s(span[0], leave),
                        leaveReason=participant.get("leave_reason") or None)
            events.append(message("PARTICIPANT_LEFT", leave, meeting_id, user_id, data,
                                  (span[0], leave)))
    options.state.put(key, record)
    return events


def iter_zoom_webhook_file(path, options):
    """A file with one webhook body (pretty or compact), a JSON array of bodies, or JSON lines
    (streamed line by line)."""
    try:
        with open(path, "rb") as handle:
            first = b""
            for first in handle:
                if first.strip():
                    break
            try:
                orjson.loads(first.strip().removeprefix(b"\xef\xbb\xbf"))
                json_lines = True
            except orjson.JSONDecodeError:
                json_lines = False
            handle.seek(0)
            if json_lines:
                for number, line in enumerate(handle, 1):
                    line = line.strip().removeprefix(b"\xef\xbb\xbf")
                    if not line:
                        continue
                    try:
                        body = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        options.summary.skip(path, number, "line is not JSON")
                        continue
                    bodies = body if isinstance(body, list) else [body]
                    for item in bodies:
                        yield from zoom_webhook_events(item, options, path=str(path), line=number,
                                                       flush=False)
                return
            whole = orjson.loads(handle.read().removeprefix(b"\xef\xbb\xbf"))
            for item in whole if isinstance(whole, list) else [whole]:
                yield from zoom_webhook_events(item, options, path=str(path), line=1, flush=False)
    finally:
        options.state.flush()
