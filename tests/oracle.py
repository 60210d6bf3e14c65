"""Independent test oracle for meetpulse (written from /work/shared/DESIGN.md sections 3-4 only).

Stdlib only. Nothing here is imported from ingest/, queries/, dashboard/ or meetpulse/.

Public API
----------
validate(raw: bytes, kafka_ts_ms: int) -> (dict, None) | (None, reason)
event_id(message: dict) -> str
canonical_json(message: dict) -> bytes
mos(latency_ms, jitter_ms, loss_pct) -> float
stored_events(raw_messages) -> list[dict]          # valid, deduplicated, in delivery order
build_sessions(events) -> list[(meetingId, userId, open_ms, close_ms)]
expected_stats(raw_messages, from_ms, to_ms) -> dict   # the `stats` JSON of DESIGN section 4
expected_dead_letters(raw_messages) -> dict[reason, count]

`raw_messages` is a list of (bytes, kafka_ts_ms) in delivery order.

Interpretations chosen where DESIGN.md is silent or ambiguous (a disagreement with the
implementation on one of these is a spec question, not necessarily a bug on either side):

 V1. Check order (first failing check gives the reason):
     size (> 1048576 bytes -> too_large; exactly 1048576 is fine) -> strict UTF-8 decode ->
     JSON parse -> top-level object -> eventType -> timestamp -> meetingId -> userId ->
     schemaVersion -> eventId -> data (fields in the order DESIGN lists them).
     The fixture only uses invalid messages with a single defect, so the order matters only for
     hand-made multi-defect messages.
 V2. NaN / Infinity / -Infinity literals -> not_json. A UTF-8 BOM -> not_json (json rejects it).
     A number literal that overflows to an infinite float (1e400) is treated as "not a number"
     -> wrong_type:<path> (never appears in the fixture).
 V3. eventType: absent -> missing_field:eventType; present but not a string ->
     wrong_type:eventType; a string outside the enum (case-sensitive) -> unknown_event_type.
 V4. timestamp: absent -> missing_field:timestamp; present but not a JSON integer (float such as
     1.7e12 or 1700000000000.0, string, bool, null, ...) -> bad_timestamp; integer outside
     [946684800000 (2000-01-01T00:00Z), kafka_ts_ms + 86400000], both ends inclusive -> bad_timestamp.
 V5. meetingId (all types) and userId (PARTICIPANT_JOINED / PARTICIPANT_LEFT / QUALITY_METRICS
     only): absent or "" -> missing_field:<name>; not a string -> wrong_type:<name>.
     userId on MEETING_STARTED / MEETING_ENDED is ignored whatever it is.
 V6. schemaVersion: when present must be a JSON integer (not bool) else wrong_type:schemaVersion;
     its value is not checked. eventId: when present must be a string else wrong_type:eventId;
     any string (even "") is used as the id as is.
 V7. JSON null is never "absent": a present null has the wrong type (wrong_type:<path>) for
     every typed field, optional or required.
 V8. data: absent -> missing_field:data.duration (LEFT, ENDED) / data.metrics (QUALITY)
     (they have required data fields); absent is fine for MEETING_STARTED and PARTICIPANT_JOINED.
     Present but not an object -> wrong_type:data.
 V11. An integer field (totalParticipants, maxConcurrentUsers, joinTime) outside Int64 is
     out_of_range:<path>: the store keeps them as Int64 (an implementation bound DESIGN leaves open).
 V9. Data field types. "number" = JSON int or float, not bool, finite. "integer" = JSON integer.
     MEETING_STARTED: hostId, meetingType, region, platform strings; participants list (items
       not checked).
     PARTICIPANT_JOINED: userName string; joinTime integer (epoch ms, value not checked);
       deviceInfo object whose os/browser/type are strings when present; region string.
     PARTICIPANT_LEFT: duration number >= 0 (required); leaveReason string.
     MEETING_ENDED: duration number >= 0 (required); totalParticipants, maxConcurrentUsers
       integers; audioMinutes, videoMinutes numbers (no range check: "every duration" read as
       the `duration` fields only).
     QUALITY_METRICS: metrics object (required) with audioQuality, videoQuality [1,5],
       networkLatency [0,60000], jitter (optional) >= 0, packetLoss [0,100], bandwidth >= 0,
       cpu [0,100], memory [0,100] - all numbers, all ranges inclusive; region string.
     Each field is checked missing -> type -> range before moving to the next field, in the
     order above (metrics fields in the order audioQuality, videoQuality, networkLatency, jitter,
     packetLoss, bandwidth, cpu, memory).
 V10. Unknown fields anywhere are ignored (but they are part of the canonical JSON, hence of the
     derived id).
 D1. Dedup applies to valid messages only; among valid messages with the same id the first
     delivered wins, whatever its content/timestamp. An invalid message never "uses up" an id.
 D2. Canonical JSON = json.dumps(msg, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
     encoded as UTF-8; floats in Python repr, so 5 and 5.0 give different ids.
 D3. dead_lettered / expected_dead_letters: distinct SHA-256 of the raw bytes over all rejected
     deliveries (all time, no range). Per reason in expected_dead_letters.
 S1. Sessions: one per stored PARTICIPANT_JOINED. close = min of (LEFT of the pair with
     ts >= join ts, JOINED of the pair with ts > join ts, MEETING_ENDED of the meeting with
     ts >= join ts); else max ts of the pair's events (any type) with ts > join ts; else
     close = open (zero length). "The pair's events" = same meetingId and same userId;
     MEETING_* events are not "the pair's" events.
     Literal consequence (kept, flagged to the lead): a LEFT and a rejoin of the same pair at the
     same millisecond -> the rejoin's session closes at once (the LEFT is "at or after" it), so
     it has zero length. The fixture contains this case (m-open / u-o4 at base + 10h25m).
 S2. participant_minutes = sum(max(0, min(close, to) - max(open, from))) / 60000, all sessions
     (also those whose join is outside the range). Always a float (0.0 when nothing).
 S3. peak_concurrent_participants = max over t in [from, to) of #{sessions: open <= t < close};
     zero-length sessions never count; 0 when no session is open anywhere in the range.
     A session is counted per (meetingId, userId) join, so a user in two meetings counts twice.
 S4. meetings / participants / sessions / samples / avg_meeting_duration_s filter on the event's
     own timestamp in [from, to). participants = distinct userId (across meetings).
 S5. Averages are float means (math.fsum / n); p95 = float(sorted latencies[min(n-1,
     floor(0.95 n))]); null (None) when there are no samples / no MEETING_ENDED in range.
"""

from __future__ import annotations

import hashlib
import json
import math

MAX_BYTES = 1048576
TS_MIN_MS = 946684800000  # 2000-01-01T00:00:00Z
DAY_MS = 86400000

EVENT_TYPES = (
    "MEETING_STARTED",
    "PARTICIPANT_JOINED",
    "PARTICIPANT_LEFT",
    "MEETING_ENDED",
    "QUALITY_METRICS",
)
USER_TYPES = ("PARTICIPANT_JOINED", "PARTICIPANT_LEFT", "QUALITY_METRICS")

# field spec: (name, kind, required, lo, hi); kind in str/list/int/num/obj
_STR, _LIST, _INT, _NUM, _OBJ = "str", "list", "int", "num", "obj"

_DATA_SPEC = {
    "MEETING_STARTED": [
        ("hostId", _STR, False, None, None),
        ("meetingType", _STR, False, None, None),
        ("participants", _LIST, False, None, None),
        ("region", _STR, False, None, None),
        ("platform", _STR, False, None, None),
    ],
    "PARTICIPANT_JOINED": [
        ("userName", _STR, False, None, None),
        ("joinTime", _INT, False, None, None),
        ("deviceInfo", _OBJ, False, None, None),
        ("region", _STR, False, None, None),
    ],
    "PARTICIPANT_LEFT": [
        ("duration", _NUM, True, 0, None),
        ("leaveReason", _STR, False, None, None),
    ],
    "MEETING_ENDED": [
        ("duration", _NUM, True, 0, None),
        ("totalParticipants", _INT, False, None, None),
        ("maxConcurrentUsers", _INT, False, None, None),
        ("audioMinutes", _NUM, False, None, None),
        ("videoMinutes", _NUM, False, None, None),
    ],
    "QUALITY_METRICS": [
        ("metrics", _OBJ, True, None, None),
        ("region", _STR, False, None, None),
    ],
}
_DEVICE_SPEC = [
    ("os", _STR, False, None, None),
    ("browser", _STR, False, None, None),
    ("type", _STR, False, None, None),
]
_METRICS_SPEC = [
    ("audioQuality", _NUM, True, 1, 5),
    ("videoQuality", _NUM, True, 1, 5),
    ("networkLatency", _NUM, True, 0, 60000),
    ("jitter", _NUM, False, 0, None),
    ("packetLoss", _NUM, True, 0, 100),
    ("bandwidth", _NUM, True, 0, None),
    ("cpu", _NUM, True, 0, 100),
    ("memory", _NUM, True, 0, 100),
]
_DATA_REQUIRED = ("PARTICIPANT_LEFT", "MEETING_ENDED", "QUALITY_METRICS")


class _NotJson(ValueError):
    pass


def _reject_constant(name):
    raise _NotJson(name)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float) and math.isfinite(v)


def _type_ok(v, kind):
    if kind == _STR:
        return isinstance(v, str)
    if kind == _LIST:
        return isinstance(v, list)
    if kind == _INT:
        return _is_int(v)
    if kind == _NUM:
        return _is_num(v)
    if kind == _OBJ:
        return isinstance(v, dict)
    raise AssertionError(kind)


def _check_fields(obj, spec, prefix):
    for name, kind, required, lo, hi in spec:
        path = prefix + name
        if name not in obj:
            if required:
                return "missing_field:" + path
            continue
        v = obj[name]
        if not _type_ok(v, kind):
            return "wrong_type:" + path
        if kind == _INT and not -2**63 <= v < 2**63:
            return "out_of_range:" + path  # integer fields are stored as Int64 (V11)
        if lo is not None and v < lo:
            return "out_of_range:" + path
        if hi is not None and v > hi:
            return "out_of_range:" + path
        if name == "deviceInfo" and kind == _OBJ:
            r = _check_fields(v, _DEVICE_SPEC, path + ".")
            if r:
                return r
        if name == "metrics" and kind == _OBJ:
            r = _check_fields(v, _METRICS_SPEC, path + ".")
            if r:
                return r
    return None


def _check_id_field(msg, name):
    if name not in msg:
        return "missing_field:" + name
    v = msg[name]
    if not isinstance(v, str):
        return "wrong_type:" + name
    if v == "":
        return "missing_field:" + name
    return None


def validate(raw: bytes, kafka_ts_ms: int):
    """Return (message_dict, None) when valid, else (None, reason_code)."""
    if len(raw) > MAX_BYTES:
        return None, "too_large"
    try:
        text = bytes(raw).decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return None, "not_utf8"
    try:
        msg = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None, "not_json"
    if not isinstance(msg, dict):
        return None, "not_object"

    # eventType
    if "eventType" not in msg:
        return None, "missing_field:eventType"
    et = msg["eventType"]
    if not isinstance(et, str):
        return None, "wrong_type:eventType"
    if et not in EVENT_TYPES:
        return None, "unknown_event_type"

    # timestamp
    if "timestamp" not in msg:
        return None, "missing_field:timestamp"
    ts = msg["timestamp"]
    if not _is_int(ts):
        return None, "bad_timestamp"
    if ts < TS_MIN_MS or ts > kafka_ts_ms + DAY_MS:
        return None, "bad_timestamp"

    r = _check_id_field(msg, "meetingId")
    if r:
        return None, r
    if et in USER_TYPES:
        r = _check_id_field(msg, "userId")
        if r:
            return None, r

    if "schemaVersion" in msg and not _is_int(msg["schemaVersion"]):
        return None, "wrong_type:schemaVersion"
    if "eventId" in msg and not isinstance(msg["eventId"], str):
        return None, "wrong_type:eventId"

    if "data" not in msg:
        if et in _DATA_REQUIRED:
            # the first required field inside the absent object is what is missing
            return None, "missing_field:data.metrics" if et == "QUALITY_METRICS" else "missing_field:data.duration"
        return msg, None
    data = msg["data"]
    if not isinstance(data, dict):
        return None, "wrong_type:data"
    r = _check_fields(data, _DATA_SPEC[et], "data.")
    if r:
        return None, r
    return msg, None


def canonical_json(message: dict) -> bytes:
    return json.dumps(
        message, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def event_id(message: dict) -> str:
    if "eventId" in message:
        return message["eventId"]
    return hashlib.sha256(canonical_json(message)).hexdigest()


def mos(latency_ms, jitter_ms, loss_pct) -> float:
    eff = latency_ms + 2 * jitter_ms + 10
    if eff < 160:
        r = 93.2 - eff / 40
    else:
        r = 93.2 - (eff - 120) / 10
    r -= 2.5 * loss_pct
    r = min(100.0, max(0.0, r))
    m = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)
    return float(min(4.5, max(1.0, m)))


def is_poor(latency_ms, jitter_ms, loss_pct) -> bool:
    return latency_ms > 500 or loss_pct > 10 or jitter_ms > 30


def stored_events(raw_messages):
    """Valid messages, deduplicated by event id (first delivered wins), in delivery order."""
    seen = set()
    out = []
    for raw, kts in raw_messages:
        msg, reason = validate(raw, kts)
        if msg is None:
            continue
        eid = event_id(msg)
        if eid in seen:
            continue
        seen.add(eid)
        out.append(msg)
    return out


def build_sessions(events):
    """Sessions from stored events: list of (meetingId, userId, open_ms, close_ms)."""
    pair_events = {}  # (m, u) -> list of (ts, type)
    ended = {}  # m -> list of ts
    for e in events:
        et = e["eventType"]
        if et in USER_TYPES:
            pair_events.setdefault((e["meetingId"], e["userId"]), []).append(
                (e["timestamp"], et)
            )
        elif et == "MEETING_ENDED":
            ended.setdefault(e["meetingId"], []).append(e["timestamp"])
    sessions = []
    for (m, u), evs in pair_events.items():
        for tj, et in evs:
            if et != "PARTICIPANT_JOINED":
                continue
            cands = [t for t, k in evs if k == "PARTICIPANT_LEFT" and t >= tj]
            cands += [t for t, k in evs if k == "PARTICIPANT_JOINED" and t > tj]
            cands += [t for t in ended.get(m, []) if t >= tj]
            if cands:
                close = min(cands)
            else:
                later = [t for t, k in evs if t > tj]
                close = max(later) if later else tj
            sessions.append((m, u, tj, close))
    return sessions


def _mean(values):
    return math.fsum(values) / len(values) if values else None


def expected_stats(raw_messages, from_ms, to_ms) -> dict:
    events = stored_events(raw_messages)

    def in_range(e):
        return from_ms <= e["timestamp"] < to_ms

    rng = [e for e in events if in_range(e)]
    meetings = {e["meetingId"] for e in rng if e["eventType"] == "MEETING_STARTED"}
    joins = [e for e in rng if e["eventType"] == "PARTICIPANT_JOINED"]
    participants = {e["userId"] for e in joins}
    durations = [e["data"]["duration"] for e in rng if e["eventType"] == "MEETING_ENDED"]

    sessions = build_sessions(events)
    ms_total = 0
    for _, _, o, c in sessions:
        ms_total += max(0, min(c, to_ms) - max(o, from_ms))
    participant_minutes = ms_total / 60000.0

    # peak: the count only rises at an open, so evaluating at `from` and every open in range
    # is enough.
    live = [(o, c) for _, _, o, c in sessions if c > o]
    points = {from_ms} | {o for o, _ in live if from_ms <= o < to_ms}
    peak = 0
    if from_ms < to_ms:
        for t in points:
            n = sum(1 for o, c in live if o <= t < c)
            peak = max(peak, n)

    q = [e["data"]["metrics"] for e in rng if e["eventType"] == "QUALITY_METRICS"]
    n = len(q)
    lat = [m["networkLatency"] for m in q]
    if n:
        p95 = float(sorted(lat)[min(n - 1, math.floor(0.95 * n))])
        mos_vals = [mos(m["networkLatency"], m.get("jitter", 0), m["packetLoss"]) for m in q]
        poor = sum(1 for m in q if is_poor(m["networkLatency"], m.get("jitter", 0), m["packetLoss"]))
        poor_pct = 100.0 * poor / n
    else:
        p95 = None
        mos_vals = []
        poor_pct = None

    return {
        "meetings": len(meetings),
        "participants": len(participants),
        "sessions": len(joins),
        "avg_meeting_duration_s": _mean(durations),
        "participant_minutes": participant_minutes,
        "peak_concurrent_participants": peak,
        "quality": {
            "samples": n,
            "avg_audio_quality": _mean([m["audioQuality"] for m in q]),
            "avg_video_quality": _mean([m["videoQuality"] for m in q]),
            "avg_latency_ms": _mean(lat),
            "avg_packet_loss_pct": _mean([m["packetLoss"] for m in q]),
            "p95_latency_ms": p95,
            "avg_mos": _mean(mos_vals),
            "poor_audio_pct": poor_pct,
        },
        "dead_lettered": len(_dead_letters(raw_messages)),
    }


def _dead_letters(raw_messages):
    """sha256 hex -> reason of the first rejection of those bytes."""
    out = {}
    for raw, kts in raw_messages:
        msg, reason = validate(raw, kts)
        if msg is None:
            out.setdefault(hashlib.sha256(bytes(raw)).hexdigest(), reason)
    return out


def expected_dead_letters(raw_messages) -> dict:
    """reason -> number of distinct rejected byte strings with that reason."""
    per = {}
    for raw, kts in raw_messages:
        msg, reason = validate(raw, kts)
        if msg is None:
            per.setdefault(reason, set()).add(hashlib.sha256(bytes(raw)).hexdigest())
    return {r: len(s) for r, s in sorted(per.items())}


def stats_close(actual, expected, rel=1e-9):
    """Compare two stats dicts: exact keys, ints exact, floats to a relative 1e-9, None as None.
    Returns a list of human-readable differences (empty when they agree)."""
    diffs = []

    def cmp(a, e, path):
        if isinstance(e, dict):
            if not isinstance(a, dict):
                diffs.append(f"{path}: expected object, got {a!r}")
                return
            if set(a) != set(e):
                diffs.append(f"{path}: keys {sorted(a)} != {sorted(e)}")
            for k in e:
                if k in a:
                    cmp(a[k], e[k], f"{path}.{k}" if path else k)
        elif e is None:
            if a is not None:
                diffs.append(f"{path}: expected null, got {a!r}")
        elif isinstance(e, int) and not isinstance(e, bool):
            if not (_is_int(a) and a == e):
                diffs.append(f"{path}: expected int {e}, got {a!r}")
        else:
            if not isinstance(a, (int, float)) or isinstance(a, bool) or a is None:
                diffs.append(f"{path}: expected float {e}, got {a!r}")
            elif not math.isclose(a, e, rel_tol=rel, abs_tol=1e-12):
                diffs.append(f"{path}: expected {e!r}, got {a!r}")

    cmp(actual, expected, "")
    return diffs
