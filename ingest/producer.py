"""Producer API for meeting services: one method per contract-v1 event type (DESIGN section 3).

Every message is checked with ``ingest.contract.decode`` before it is sent, so a caller's bug
raises ``InvalidEventError`` (a ``ValueError`` carrying the contract's reason code) and never
reaches the topic.
"""
from __future__ import annotations

import math
import time
import uuid
from typing import Any, Callable, Mapping

import orjson

from ingest.contract import InvalidMessage, decode

DEFAULT_TOPIC = "meeting-events"
SCHEMA_VERSION = 1


class InvalidEventError(ValueError):
    """The event would break the contract; ``reason`` is the contract's reason code."""

    def __init__(self, reason: str, event_type: str):
        super().__init__(f"invalid {event_type} event: {reason}")
        self.reason = reason
        self.event_type = event_type


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def build_message(event_type: str, meeting_id: str, user_id: str | None, data: Mapping[str, Any] | None,
                  timestamp_ms: int, event_id: str | None) -> dict:
    """The contract-v1 JSON object; ``None`` data fields, user id and event id are left out."""
    message: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION}
    if event_id is not None:
        message["eventId"] = event_id
    message["eventType"] = event_type
    message["timestamp"] = timestamp_ms
    message["meetingId"] = meeting_id
    if user_id is not None:
        message["userId"] = user_id
    message["data"] = {k: v for k, v in (data or {}).items() if v is not None}
    return message


def encode(message: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON bytes of a message."""
    return orjson.dumps(message)


def _non_finite_path(value: Any, path: str) -> str | None:
    """Path of the first NaN/Infinity in ``value`` (JSON has no such numbers; orjson would write null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _non_finite_path(item, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _non_finite_path(item, path)
            if found:
                return found
    return None


def validate(message: Mapping[str, Any], reference_ms: int) -> bytes:
    """Encode ``message`` and return its bytes, or raise InvalidEventError with the reason code."""
    event_type = str(message.get("eventType"))
    bad = _non_finite_path(message.get("data"), "data")
    if bad:
        raise InvalidEventError(f"wrong_type:{bad}", event_type)
    try:
        raw = encode(message)
    except TypeError as exc:  # a value JSON cannot hold (a set, an object, ...)
        raise InvalidEventError(f"not_json:{exc}", event_type) from None
    result = decode(raw, reference_ms)
    if isinstance(result, InvalidMessage):
        raise InvalidEventError(result.reason, event_type)
    return raw


class MeetingEventProducer:
    """Publishes contract-v1 events through an injected ``ingest.kafka.KafkaProducer``.

    Each method returns the eventId it sent. ``timestamp_ms`` defaults to now (epoch ms) and
    ``event_id`` to a fresh uuid4 hex.
    """

    def __init__(self, kafka_producer, topic: str = DEFAULT_TOPIC, clock: Callable[[], int] = now_ms):
        self._producer = kafka_producer
        self.topic = topic
        self._clock = clock

    def _publish(self, event_type: str, meeting_id: str, user_id: str | None, data: dict,
                 timestamp_ms: int | None, event_id: str | None) -> str:
        reference = self._clock()
        event_id = uuid.uuid4().hex if event_id is None else event_id
        ts = reference if timestamp_ms is None else timestamp_ms
        message = build_message(event_type, meeting_id, user_id, data, ts, event_id)
        raw = validate(message, reference)
        self._producer.send(self.topic, raw, key=meeting_id.encode("utf-8"))
        return event_id

    def meeting_started(self, meeting_id: str, *, host_id: str | None = None, meeting_type: str | None = None,
                        participants: list | None = None, region: str | None = None,
                        platform: str | None = None, timestamp_ms: int | None = None,
                        event_id: str | None = None) -> str:
        data = {"hostId": host_id, "meetingType": meeting_type,
                "participants": participants,
                "region": region, "platform": platform}
        return self._publish("MEETING_STARTED", meeting_id, None, data, timestamp_ms, event_id)

    def participant_joined(self, meeting_id: str, user_id: str, *, user_name: str | None = None,
                           join_time: int | None = None, device_info: Mapping[str, str] | None = None,
                           region: str | None = None, timestamp_ms: int | None = None,
                           event_id: str | None = None) -> str:
        data = {"userName": user_name, "joinTime": join_time,
                "deviceInfo": device_info, "region": region}
        return self._publish("PARTICIPANT_JOINED", meeting_id, user_id, data, timestamp_ms, event_id)

    def participant_left(self, meeting_id: str, user_id: str, *, duration_s: float,
                         leave_reason: str | None = None, timestamp_ms: int | None = None,
                         event_id: str | None = None) -> str:
        data = {"duration": duration_s, "leaveReason": leave_reason}
        return self._publish("PARTICIPANT_LEFT", meeting_id, user_id, data, timestamp_ms, event_id)

    def meeting_ended(self, meeting_id: str, *, duration_s: float, total_participants: int | None = None,
                      max_concurrent_users: int | None = None, audio_minutes: float | None = None,
                      video_minutes: float | None = None, timestamp_ms: int | None = None,
                      event_id: str | None = None) -> str:
        data = {"duration": duration_s, "totalParticipants": total_participants,
                "maxConcurrentUsers": max_concurrent_users, "audioMinutes": audio_minutes,
                "videoMinutes": video_minutes}
        return self._publish("MEETING_ENDED", meeting_id, None, data, timestamp_ms, event_id)

    def quality_metrics(self, meeting_id: str, user_id: str, *, audio_quality: float, video_quality: float,
                        network_latency: float, packet_loss: float, bandwidth: float, cpu: float,
                        memory: float, jitter: float | None = None, region: str | None = None,
                        timestamp_ms: int | None = None, event_id: str | None = None) -> str:
        metrics = {"audioQuality": audio_quality, "videoQuality": video_quality,
                   "networkLatency": network_latency, "jitter": jitter, "packetLoss": packet_loss,
                   "bandwidth": bandwidth, "cpu": cpu, "memory": memory}
        data = {"metrics": {k: v for k, v in metrics.items() if v is not None}, "region": region}
        return self._publish("QUALITY_METRICS", meeting_id, user_id, data, timestamp_ms, event_id)

    def flush(self, timeout: float = 30.0) -> None:
        self._producer.flush(timeout)
