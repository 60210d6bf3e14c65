"""The contract decoder against the independent oracle: on the fixture and on single-defect mutations."""
from __future__ import annotations

import json
import random

import pytest

import oracle
import pipeline_fixture as pf
from ingest.contract import Event, InvalidMessage, decode, derived_event_id

KTS = pf.BASE_MS + 3 * 86_400_000


def reason_of(raw: bytes, kafka_ts: int = KTS):
    result = decode(raw, kafka_ts)
    return None if isinstance(result, Event) else result.reason


def test_fixture_messages_agree_with_the_oracle():
    for raw, kafka_ts in pf.with_kafka_ts(pf.build_fixture()):
        _message, expected = oracle.validate(raw, kafka_ts)
        assert reason_of(raw, kafka_ts) == expected, raw[:200]


def test_derived_ids_agree_with_the_oracle():
    for raw, kafka_ts in pf.with_kafka_ts(pf.build_fixture()):
        message, reason = oracle.validate(raw, kafka_ts)
        if reason is None:
            assert decode(raw, kafka_ts).event_id == oracle.event_id(message)


VALID = {
    "MEETING_STARTED": {"eventType": "MEETING_STARTED", "timestamp": KTS - 5000, "meetingId": "m1",
                        "data": {"hostId": "h1", "meetingType": "scheduled", "participants": ["a"],
                                 "region": "eu-west", "platform": "web"}},
    "PARTICIPANT_JOINED": {"eventType": "PARTICIPANT_JOINED", "timestamp": KTS - 4000, "meetingId": "m1",
                           "userId": "u1", "data": {"userName": "Ana", "joinTime": KTS - 4000,
                                                    "deviceInfo": {"os": "linux", "browser": "firefox",
                                                                   "type": "desktop"},
                                                    "region": "eu-west"}},
    "PARTICIPANT_LEFT": {"eventType": "PARTICIPANT_LEFT", "timestamp": KTS - 3000, "meetingId": "m1",
                         "userId": "u1", "data": {"duration": 1.5, "leaveReason": "left"}},
    "MEETING_ENDED": {"eventType": "MEETING_ENDED", "timestamp": KTS - 2000, "meetingId": "m1",
                      "data": {"duration": 3, "totalParticipants": 1, "maxConcurrentUsers": 1,
                               "audioMinutes": 0.5, "videoMinutes": 0.25}},
    "QUALITY_METRICS": {"eventType": "QUALITY_METRICS", "timestamp": KTS - 1000, "meetingId": "m1",
                        "userId": "u1", "data": {"metrics": {"audioQuality": 4, "videoQuality": 3.5,
                                                             "networkLatency": 120, "jitter": 4,
                                                             "packetLoss": 0.5, "bandwidth": 900, "cpu": 30,
                                                             "memory": 40}, "region": "eu-west"}},
}
BAD_VALUES = [None, True, "7", -1, 1e9, 0.5, [], {}, "", 6, 101, 60001, 1.7e12, 2**63, 2**64 - 1]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))


def _mutated(message, path, value):
    copy = json.loads(json.dumps(message))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_every_single_defect_gets_the_oracles_reason(event_type):
    message = VALID[event_type]
    assert reason_of(json.dumps(message).encode()) is None
    checked = 0
    for path in _paths(message):
        if not path:
            continue
        for value in [KeyError, *BAD_VALUES]:
            raw = json.dumps(_mutated(message, path, value)).encode()
            expected = oracle.validate(raw, KTS)[1]
            assert reason_of(raw) == expected, (path, value)
            checked += 1
    assert checked > 50


def test_random_mutations_agree_with_the_oracle():
    rng = random.Random(11)
    for _ in range(3000):
        message = VALID[rng.choice(sorted(VALID))]
        path = rng.choice([p for p in _paths(message) if p])
        raw = json.dumps(_mutated(message, path, rng.choice([KeyError, *BAD_VALUES]))).encode()
        assert reason_of(raw) == oracle.validate(raw, KTS)[1], raw


@pytest.mark.parametrize("raw, reason", [
    (b"\xff\xfe{}", "not_utf8"),
    (b'{"eventType": NaN}', "not_json"),
    (b'{"a": Infinity}', "not_json"),
    (b"[1, 2]", "not_object"),
    (b'"text"', "not_object"),
    (b'{"eventType": "MEETING_PAUSED", "timestamp": 1767571200000, "meetingId": "m"}', "unknown_event_type"),
    (b'{"eventType": "MEETING_STARTED", "meetingId": "m"}', "missing_field:timestamp"),
    (b'{"eventType": "MEETING_STARTED", "timestamp": 1.7e12, "meetingId": "m"}', "bad_timestamp"),
    (b'{"eventType": "MEETING_STARTED", "timestamp": "1767571200000", "meetingId": "m"}', "bad_timestamp"),
    (b'{"eventType": "MEETING_STARTED", "timestamp": 946684799999, "meetingId": "m"}', "bad_timestamp"),
    (b'{"eventType": "MEETING_STARTED", "timestamp": 1767571200000, "meetingId": ""}', "missing_field:meetingId"),
    (b'{"eventType": "PARTICIPANT_LEFT", "timestamp": 1767571200000, "meetingId": "m", "userId": "u",'
     b' "data": {"duration": -1}}', "out_of_range:data.duration"),
    (b'{"eventType": "QUALITY_METRICS", "timestamp": 1767571200000, "meetingId": "m", "userId": "u",'
     b' "data": {"metrics": {"audioQuality": 4, "videoQuality": 4, "networkLatency": 10, "packetLoss": true,'
     b' "bandwidth": 1, "cpu": 1, "memory": 1}}}', "wrong_type:data.metrics.packetLoss"),
])
def test_reason_codes_by_hand(raw, reason):
    assert reason_of(raw) == reason


def test_timestamp_bound_follows_the_kafka_timestamp_not_the_clock():
    raw = json.dumps({"eventType": "MEETING_STARTED", "timestamp": 1_000_000_000_000 + 86_400_000,
                      "meetingId": "m"}).encode()
    assert reason_of(raw, 1_000_000_000_000) is None
    raw = json.dumps({"eventType": "MEETING_STARTED", "timestamp": 1_000_000_000_000 + 86_400_001,
                      "meetingId": "m"}).encode()
    assert reason_of(raw, 1_000_000_000_000) == "bad_timestamp"


def test_too_large_is_judged_on_bytes_before_anything_else():
    assert decode(b"x" * 11, max_bytes=10) == InvalidMessage("too_large")
    assert isinstance(decode(b"{" + b" " * 1_048_570 + b"}"), InvalidMessage)


def test_derived_id_ignores_key_order_and_whitespace():
    a = {"eventType": "MEETING_STARTED", "timestamp": 1767571200000, "meetingId": "m", "data": {"b": 1, "a": "é"}}
    b = json.loads('{ "data": {"a": "\\u00e9", "b": 1}, "meetingId": "m", "timestamp": 1767571200000,'
                   ' "eventType": "MEETING_STARTED"}')
    assert derived_event_id(a) == derived_event_id(b)
    canonical = '{"data":{"a":"é","b":1},"eventType":"MEETING_STARTED","meetingId":"m","timestamp":1767571200000}'
    import hashlib

    assert derived_event_id(a) == hashlib.sha256(canonical.encode()).hexdigest()
