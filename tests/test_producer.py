"""Producer API: message shapes, local validation, and one round trip through a real tansu broker."""
import os
import re
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

from components import ComponentUnavailable, start_tansu, unavailable  # noqa: E402
from ingest.contract import Event, InvalidMessage, decode  # noqa: E402
from ingest.producer import (  # noqa: E402
    InvalidEventError, MeetingEventProducer, build_message, encode,
)

T = 1767571200000  # 2026-01-05T00:00:00Z


def test_build_message_leaves_out_absent_fields():
    message = build_message("PARTICIPANT_LEFT", "m1", "u1", {"duration": 12.5, "leaveReason": None},
                            T, None)
    assert message == {"schemaVersion": 1, "eventType": "PARTICIPANT_LEFT", "timestamp": T,
                       "meetingId": "m1", "userId": "u1", "data": {"duration": 12.5}}
    started = build_message("MEETING_STARTED", "m1", None, None, T, "e1")
    assert started == {"schemaVersion": 1, "eventId": "e1", "eventType": "MEETING_STARTED",
                       "timestamp": T, "meetingId": "m1", "data": {}}


def test_encode_is_compact_utf8_json():
    message = build_message("PARTICIPANT_JOINED", "m-ü", "u1", {"userName": "Zoë"}, T, "e1")
    expected = ('{"schemaVersion":1,"eventId":"e1","eventType":"PARTICIPANT_JOINED",'
                '"timestamp":1767571200000,"meetingId":"m-ü","userId":"u1","data":{"userName":"Zoë"}}')
    assert encode(message) == expected.encode("utf-8")


def _metrics(**overrides):
    values = dict(audio_quality=4.2, video_quality=3.9, network_latency=80, packet_loss=0.5,
                  bandwidth=1500, cpu=30, memory=50)
    values.update(overrides)
    return values


# No Kafka producer is given (None): a message that passed validation would crash in ``send``
# with AttributeError, so InvalidEventError proves the bad event stopped before the transport.
INVALID_CALLS = [
    ("quality_metrics", ("m", "u"), _metrics(audio_quality=6), "out_of_range:data.metrics.audioQuality"),
    ("quality_metrics", ("m", "u"), _metrics(packet_loss=-1), "out_of_range:data.metrics.packetLoss"),
    ("quality_metrics", ("m", "u"), _metrics(network_latency=60001), "out_of_range:data.metrics.networkLatency"),
    ("quality_metrics", ("m", "u"), _metrics(network_latency=float("nan")),
     "wrong_type:data.metrics.networkLatency"),
    ("quality_metrics", ("m", "u"), _metrics(cpu=True), "wrong_type:data.metrics.cpu"),
    ("quality_metrics", ("m", "u"), _metrics(bandwidth=None), "missing_field:data.metrics.bandwidth"),
    ("quality_metrics", ("m", "u"), _metrics(jitter=-2.0), "out_of_range:data.metrics.jitter"),
    ("participant_left", ("m", "u"), {"duration_s": -5}, "out_of_range:data.duration"),
    ("participant_left", ("m", "u"), {"duration_s": "5"}, "wrong_type:data.duration"),
    ("participant_joined", ("m", ""), {}, "missing_field:userId"),
    ("participant_joined", ("m", "u"), {"device_info": {"os": 5}}, "wrong_type:data.deviceInfo.os"),
    ("meeting_started", ("",), {}, "missing_field:meetingId"),
    ("meeting_started", ("m",), {"participants": "a,b"}, "wrong_type:data.participants"),
    ("meeting_ended", ("m",), {"duration_s": 60, "total_participants": 3.5},
     "wrong_type:data.totalParticipants"),
    ("meeting_ended", ("m",), {"duration_s": float("inf")}, "wrong_type:data.duration"),
    ("meeting_started", ("m",), {"timestamp_ms": 1.7e12}, "bad_timestamp"),
    ("participant_joined", ("m", "u"), {"join_time": "2026-01-05T00:00:00Z"}, "wrong_type:data.joinTime"),
    ("meeting_started", ("m",), {"timestamp_ms": 900_000_000_000}, "bad_timestamp"),
    ("meeting_started", ("m",), {"event_id": ""}, "missing_field:eventId"),
]


@pytest.mark.parametrize("method,args,kwargs,reason", INVALID_CALLS)
def test_invalid_event_raises_value_error_with_reason(method, args, kwargs, reason):
    producer = MeetingEventProducer(None, clock=lambda: T)
    with pytest.raises(InvalidEventError) as info:
        getattr(producer, method)(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    assert info.value.reason == reason
    assert reason in str(info.value)


def test_timestamp_bound_is_the_clock_plus_24h():
    producer = MeetingEventProducer(None, clock=lambda: T)
    day = 24 * 3600 * 1000
    with pytest.raises(InvalidEventError) as info:
        producer.meeting_started("m", timestamp_ms=T + day + 1)
    assert info.value.reason == "bad_timestamp"
    with pytest.raises(AttributeError):  # T + 24 h is valid: it got as far as the (absent) transport
        producer.meeting_started("m", timestamp_ms=T + day)


def _consume(bootstrap, topics, expected, timeout=40.0):
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000})
    consumer.subscribe(topics)
    got = {topic: [] for topic in topics}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and any(len(got[t]) < expected[t] for t in topics):
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            got[msg.topic()].append(msg)
    finally:
        consumer.close()
    return got


def test_publish_and_read_back_on_tansu():
    from ingest.kafka import KafkaProducer, ensure_topics
    from ingest.simulator import run_simulation

    try:
        bootstrap, stop = start_tansu()
    except ComponentUnavailable as exc:
        unavailable(str(exc))
    try:
        ensure_topics(bootstrap, ["meeting-events", "sim-events"], partitions=3)
        kafka = KafkaProducer(bootstrap)
        producer = MeetingEventProducer(kafka, "meeting-events")
        device = {"os": "macOS", "browser": "Chrome", "type": "web"}
        ids = [
            producer.meeting_started("m-1", host_id="u-1", meeting_type="scheduled", participants=["u-1", "u-2"],
                                     region="eu-west", platform="desktop", timestamp_ms=T, event_id="e-1"),
            producer.participant_joined("m-1", "u-1", user_name="Ana", join_time=T, device_info=device,
                                        region="eu-west", timestamp_ms=T + 1000, event_id="e-2"),
            producer.quality_metrics("m-1", "u-1", **_metrics(jitter=4.5), region="eu-west",
                                     timestamp_ms=T + 11000, event_id="e-3"),
            producer.participant_left("m-1", "u-1", duration_s=59.0, leave_reason="left",
                                      timestamp_ms=T + 60000, event_id="e-4"),
            producer.meeting_ended("m-1", duration_s=61.0, total_participants=1, max_concurrent_users=1,
                                   audio_minutes=59 / 60, video_minutes=0.0, timestamp_ms=T + 61000,
                                   event_id="e-5"),
        ]
        with pytest.raises(InvalidEventError):
            producer.quality_metrics("m-1", "u-1", **_metrics(cpu=101))
        before = time.time_ns() // 1_000_000
        generated_id = producer.meeting_started("m-2")
        after = time.time_ns() // 1_000_000
        producer.flush()
        assert ids == ["e-1", "e-2", "e-3", "e-4", "e-5"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated_id) and uuid.UUID(generated_id).version == 4

        reports = []
        sent = run_simulation(kafka, "sim-events", rate=300, meetings=4, duration_s=1.5, invalid_ratio=0.1,
                              seed=11, duration_scale=0.01, progress=reports.append)
        stats = reports[-1]
        assert stats["sent"] == sent

        got = _consume(bootstrap, ["meeting-events", "sim-events"],
                       {"meeting-events": 6, "sim-events": stats["sent"]})
        published = got["meeting-events"]
        assert sorted(m.key() for m in published) == [b"m-1"] * 5 + [b"m-2"]
        first = [m for m in published if m.key() == b"m-1"]
        assert len({m.partition() for m in first}) == 1  # one key, one partition, kept in order
        events = [decode(m.value(), T) for m in first]
        assert [e.event_id for e in events] == ids
        assert [e.event_type for e in events] == ["MEETING_STARTED", "PARTICIPANT_JOINED", "QUALITY_METRICS",
                                                  "PARTICIPANT_LEFT", "MEETING_ENDED"]
        assert (events[1].device_os, events[1].device_browser, events[1].device_type) == ("macOS", "Chrome", "web")
        assert (events[2].cpu_pct, events[2].jitter_ms, events[2].region) == (30.0, 4.5, "eu-west")
        assert (events[3].duration_s, events[3].leave_reason) == (59.0, "left")
        assert events[4].max_concurrent_users == 1
        last = decode(next(m for m in published if m.key() == b"m-2").value(), after)
        assert isinstance(last, Event) and last.event_id == generated_id
        assert before <= last.ts_ms <= after

        simulated = got["sim-events"]
        assert len(simulated) == stats["sent"] > 0
        decoded = [decode(m.value(), m.timestamp()[1]) for m in simulated]
        invalid = [d for d in decoded if isinstance(d, InvalidMessage)]
        valid = [d for d in decoded if isinstance(d, Event)]
        assert len(invalid) == stats["invalid"]
        for message, event in zip(simulated, decoded):
            if isinstance(event, Event):
                assert message.key() == event.meeting_id.encode()
        started = {e.meeting_id for e in valid if e.event_type == "MEETING_STARTED"}
        ended = {e.meeting_id for e in valid if e.event_type == "MEETING_ENDED"}
        assert started and started == ended  # the runner ends running meetings when it stops
    finally:
        stop()


def test_unavailable_component_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        unavailable("no broker")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        unavailable("no broker")
