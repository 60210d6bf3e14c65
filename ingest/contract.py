"""Event contract v1 (DESIGN section 3): ``decode(bytes) -> Event | InvalidMessage``, pure and total."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import orjson

EVENT_TYPES = (
    "MEETING_STARTED",
    "PARTICIPANT_JOINED",
    "PARTICIPANT_LEFT",
    "MEETING_ENDED",
    "QUALITY_METRICS",
)
USER_EVENT_TYPES = frozenset({"PARTICIPANT_JOINED", "PARTICIPANT_LEFT", "QUALITY_METRICS"})
MIN_TIMESTAMP_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
FUTURE_SLACK_MS = 24 * 3600 * 1000
DEFAULT_MAX_BYTES = 1_048_576

# (field, kind, low, high); kind: "num" (int or float), "int", "str", "list", "obj".
# A JSON null is a value of the wrong type, never an absent field.
_METRICS = (
    ("audioQuality", "num", 1, 5),
    ("videoQuality", "num", 1, 5),
    ("networkLatency", "num", 0, 60000),
    ("packetLoss", "num", 0, 100),
    ("bandwidth", "num", 0, None),
    ("cpu", "num", 0, 100),
    ("memory", "num", 0, 100),
)
_OPTIONAL_DATA = {
    "MEETING_STARTED": (
        ("hostId", "str"), ("meetingType", "str"), ("participants", "list"),
        ("region", "str"), ("platform", "str"),
    ),
    "PARTICIPANT_JOINED": (("userName", "str"), ("joinTime", "int"), ("region", "str")),
    "PARTICIPANT_LEFT": (("leaveReason", "str"),),
    "MEETING_ENDED": (
        ("totalParticipants", "int"), ("maxConcurrentUsers", "int"),
        ("audioMinutes", "num"), ("videoMinutes", "num"),
    ),
    "QUALITY_METRICS": (("region", "str"),),
}
_DEVICE_FIELDS = ("os", "browser", "type")

# Column order of the ``events`` table; ``Event.row()`` follows it.
EVENT_COLUMNS = (
    "event_id", "event_type", "ts_ms", "ts", "meeting_id", "user_id",
    "host_id", "meeting_type", "platform", "region",
    "user_name", "device_os", "device_browser", "device_type",
    "duration_s", "leave_reason", "total_participants", "max_concurrent_users",
    "audio_minutes", "video_minutes",
    "audio_quality", "video_quality", "latency_ms", "jitter_ms", "packet_loss_pct",
    "bandwidth_kbps", "cpu_pct", "memory_pct",
)


@dataclass(frozen=True)
class InvalidMessage:
    """A message that breaks the contract; ``reason`` is one code of DESIGN section 3."""

    reason: str


@dataclass(frozen=True)
class Event:
    """A valid, typed event: the values one row of the ``events`` table holds."""

    event_id: str
    event_type: str
    ts_ms: int
    meeting_id: str
    user_id: str = ""
    host_id: str = ""
    meeting_type: str = ""
    platform: str = ""
    region: str = ""
    user_name: str = ""
    device_os: str = ""
    device_browser: str = ""
    device_type: str = ""
    duration_s: float | None = None
    leave_reason: str = ""
    total_participants: int | None = None
    max_concurrent_users: int | None = None
    audio_minutes: float | None = None
    video_minutes: float | None = None
    audio_quality: float | None = None
    video_quality: float | None = None
    latency_ms: float | None = None
    jitter_ms: float | None = None
    packet_loss_pct: float | None = None
    bandwidth_kbps: float | None = None
    cpu_pct: float | None = None
    memory_pct: float | None = None

    def row(self) -> tuple:
        values = []
        for name in EVENT_COLUMNS:
            if name == "ts":
                values.append(self.ts_ms // 1000)
            else:
                values.append(getattr(self, name))
        return tuple(values)


class _Invalid(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


INT64_MAX = 2**63 - 1


def _check(value: Any, kind: str, path: str) -> Any:
    if kind == "int" and _is_int(value) and not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise _Invalid(f"out_of_range:{path}")  # stored as Int64
    ok = {
        "num": _is_number,
        "int": _is_int,
        "str": lambda v: isinstance(v, str),
        "list": lambda v: isinstance(v, list),
        "obj": lambda v: isinstance(v, dict),
    }[kind](value)
    if not ok:
        raise _Invalid(f"wrong_type:{path}")
    return value


def _required_string(message: dict, key: str) -> str:
    if key not in message:
        raise _Invalid(f"missing_field:{key}")
    value = message[key]
    if not isinstance(value, str):
        raise _Invalid(f"wrong_type:{key}")
    if value == "":
        raise _Invalid(f"missing_field:{key}")
    return value


def _number_in_range(data: dict, key: str, path: str, low, high, required: bool) -> float | None:
    if key not in data:
        if required:
            raise _Invalid(f"missing_field:{path}")
        return None
    value = _check(data[key], "num", path)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _Invalid(f"out_of_range:{path}")
    return float(value)


def derived_event_id(message: dict) -> str:
    """SHA-256 of the canonical JSON (keys sorted, no spaces) of a message without ``eventId``."""
    canonical = json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _timestamp(message: dict, kafka_ts_ms: int | None) -> int:
    if "timestamp" not in message:
        raise _Invalid("missing_field:timestamp")
    ts = message["timestamp"]
    if not _is_int(ts):  # a float, string or bool is a bad timestamp, like one out of range
        raise _Invalid("bad_timestamp")
    upper = None if kafka_ts_ms is None else kafka_ts_ms + FUTURE_SLACK_MS
    if ts < MIN_TIMESTAMP_MS or (upper is not None and ts > upper):
        raise _Invalid("bad_timestamp")
    return ts


def _event_fields(event_type: str, data: dict) -> dict:
    fields: dict[str, Any] = {}
    for key, kind in _OPTIONAL_DATA[event_type]:
        if key in data:
            _check(data[key], kind, f"data.{key}")
    if event_type == "MEETING_STARTED":
        fields.update(
            host_id=data.get("hostId") or "",
            meeting_type=data.get("meetingType") or "",
            platform=data.get("platform") or "",
            region=data.get("region") or "",
        )
    elif event_type == "PARTICIPANT_JOINED":
        device = data.get("deviceInfo", {})
        _check(device, "obj", "data.deviceInfo")
        for key in _DEVICE_FIELDS:
            if key in device:
                _check(device[key], "str", f"data.deviceInfo.{key}")
        fields.update(
            user_name=data.get("userName") or "",
            region=data.get("region") or "",
            device_os=device.get("os") or "",
            device_browser=device.get("browser") or "",
            device_type=device.get("type") or "",
        )
    elif event_type == "PARTICIPANT_LEFT":
        fields["duration_s"] = _number_in_range(data, "duration", "data.duration", 0, None, True)
        fields["leave_reason"] = data.get("leaveReason") or ""
    elif event_type == "MEETING_ENDED":
        fields["duration_s"] = _number_in_range(data, "duration", "data.duration", 0, None, True)
        fields["total_participants"] = data.get("totalParticipants")
        fields["max_concurrent_users"] = data.get("maxConcurrentUsers")
        fields["audio_minutes"] = _optional_float(data.get("audioMinutes"))
        fields["video_minutes"] = _optional_float(data.get("videoMinutes"))
    elif event_type == "QUALITY_METRICS":
        if "metrics" not in data:
            raise _Invalid("missing_field:data.metrics")
        metrics = _check(data["metrics"], "obj", "data.metrics")
        values = {
            key: _number_in_range(metrics, key, f"data.metrics.{key}", low, high, True)
            for key, _kind, low, high in _METRICS
        }
        fields.update(
            audio_quality=values["audioQuality"],
            video_quality=values["videoQuality"],
            latency_ms=values["networkLatency"],
            packet_loss_pct=values["packetLoss"],
            bandwidth_kbps=values["bandwidth"],
            cpu_pct=values["cpu"],
            memory_pct=values["memory"],
            jitter_ms=_number_in_range(metrics, "jitter", "data.metrics.jitter", 0, None, False),
            region=data.get("region") or "",
        )
    return fields


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _validate(message: Any, kafka_ts_ms: int | None) -> Event:
    if not isinstance(message, dict):
        raise _Invalid("not_object")
    if "schemaVersion" in message:
        version = message["schemaVersion"]
        if not _is_int(version):
            raise _Invalid("wrong_type:schemaVersion")
        if version != 1:
            raise _Invalid("out_of_range:schemaVersion")
    if "eventType" not in message:
        raise _Invalid("missing_field:eventType")
    event_type = message["eventType"]
    if not isinstance(event_type, str):
        raise _Invalid("wrong_type:eventType")
    if event_type not in EVENT_TYPES:
        raise _Invalid("unknown_event_type")
    event_id = message.get("eventId")
    if "eventId" in message:
        if not isinstance(event_id, str):
            raise _Invalid("wrong_type:eventId")
        if event_id == "":
            raise _Invalid("missing_field:eventId")
    ts_ms = _timestamp(message, kafka_ts_ms)
    meeting_id = _required_string(message, "meetingId")
    if event_type in USER_EVENT_TYPES:
        user_id = _required_string(message, "userId")
    else:
        user_id = ""  # userId is not part of meeting-level events; whatever is there is ignored
    data = message.get("data", {})
    if not isinstance(data, dict):
        raise _Invalid("wrong_type:data")
    fields = _event_fields(event_type, data)
    return Event(
        event_id=event_id if "eventId" in message else derived_event_id(message),
        event_type=event_type,
        ts_ms=ts_ms,
        meeting_id=meeting_id,
        user_id=user_id,
        **fields,
    )


def decode(raw: bytes | None, kafka_ts_ms: int | None = None,
           max_bytes: int = DEFAULT_MAX_BYTES) -> Event | InvalidMessage:
    """Decode and validate one Kafka message value.

    ``kafka_ts_ms`` is the message's Kafka timestamp: the upper bound for ``timestamp`` is
    24 h past it, so a replay next year judges the message exactly as the first delivery did.
    """
    if raw is None:
        return InvalidMessage("not_json")
    if len(raw) > max_bytes:
        return InvalidMessage("too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return InvalidMessage("not_utf8")
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        return InvalidMessage("not_json")
    try:
        return _validate(message, kafka_ts_ms)
    except _Invalid as invalid:
        return InvalidMessage(invalid.reason)


def sha256_hex(raw: bytes | None) -> str:
    return hashlib.sha256(raw or b"").hexdigest()
