"""Unit tests of the independent oracle (tests/oracle.py) on a tiny hand-made fixture.

Every expected number below was computed by hand from DESIGN.md section 4 (the arithmetic is
written next to it), not by running the oracle.
"""

import hashlib
import json
import math
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402

T0 = 1767571200000  # 2026-01-05T00:00:00Z
MIN = 60_000
KTS = T0 + 86_400_000  # Kafka timestamp used for every message below


def j(obj, **kw):
    return json.dumps(obj, separators=(",", ":"), **kw).encode("utf-8")


def ev(et, minute, meeting, user=None, data=None, eid=None):
    m = {}
    if eid is not None:
        m["eventId"] = eid
    m["eventType"] = et
    m["timestamp"] = T0 + minute * MIN
    m["meetingId"] = meeting
    if user is not None:
        m["userId"] = user
    if data is not None:
        m["data"] = data
    return m


def qm(audio, video, lat, loss, jitter=None):
    mt = {"audioQuality": audio, "videoQuality": video, "networkLatency": lat,
          "packetLoss": loss, "bandwidth": 1500, "cpu": 20, "memory": 40}
    if jitter is not None:
        mt["jitter"] = jitter
    return {"metrics": mt, "region": "eu-west"}


# --- the tiny fixture --------------------------------------------------------------------
# meeting A: 0..60 min; meeting B: starts at 40, never ends.
E1 = ev("MEETING_STARTED", 0, "A", data={"hostId": "u1", "participants": ["u1", "u2"]}, eid="e1")
E2 = ev("PARTICIPANT_JOINED", 0, "A", "u1", {"userName": "Ann"}, eid="e2")
E3 = ev("PARTICIPANT_JOINED", 10, "A", "u2", {"userName": "Bob"}, eid="e3")
E4 = ev("QUALITY_METRICS", 5, "A", "u1", qm(4, 3, 100, 1, jitter=10), eid="e4")
E5 = ev("QUALITY_METRICS", 15, "A", "u2", qm(2, 2, 600, 0), eid="e5")  # no jitter
E6 = ev("PARTICIPANT_LEFT", 20, "A", "u2", {"duration": 600, "leaveReason": "user_left"}, eid="e6")
E7 = ev("PARTICIPANT_JOINED", 30, "A", "u2", {"userName": "Bob"}, eid="e7")  # rejoin
E8 = ev("QUALITY_METRICS", 35, "A", "u2", qm(5, 5, 50, 0, jitter=40))  # no eventId
E9 = ev("MEETING_ENDED", 60, "A", data={"duration": 3600, "totalParticipants": 2}, eid="e9")
E10 = ev("PARTICIPANT_LEFT", 70, "A", "u1", {"duration": 4200}, eid="e10")  # after the end
E11 = ev("MEETING_STARTED", 40, "B", data={"hostId": "u3"}, eid="e11")
E12 = ev("PARTICIPANT_JOINED", 45, "B", "u3", {}, eid="e12")
E13 = ev("QUALITY_METRICS", 80, "B", "u3", qm(3, 4, 200, 12, jitter=0), eid="e13")
E14 = ev("PARTICIPANT_JOINED", 50, "B", "u1", eid="e14")  # no data, no later event

E5_OTHER = dict(E5, data=qm(1, 1, 10, 50), timestamp=T0 + 16 * MIN)  # same id, other content
E2_OTHER = dict(E2, timestamp=T0 + 5 * MIN)  # same id, later join time: ignored
# E8 again, keys in another order and other whitespace: same canonical JSON
E8_SCRAMBLED = (
    ' {"data" : {"region":"eu-west", "metrics": {"jitter":40,"memory":40,"cpu":20,'
    '"bandwidth":1500,"packetLoss":0,"networkLatency":50,"videoQuality":5,"audioQuality":5}},'
    '\t"userId":"u2","meetingId":"A","timestamp":%d,"eventType":"QUALITY_METRICS"} ' % (T0 + 35 * MIN)
).encode()

BAD_JSON = b'{"eventType":'
BAD_OBJ = b'[1,2]'

DELIVERY = [
    E1, E4, E6,  # E6 (leave) delivered before E3 (join)
    E3, E2, E5, BAD_JSON, E7, E8, E4, E5_OTHER, E9,  # E4 again: exact re-send below
    E12, E11, E14, E2_OTHER, E8_SCRAMBLED, E10, BAD_JSON, BAD_OBJ, E13,
]


def tiny():
    out = []
    for m in DELIVERY:
        out.append((m if isinstance(m, bytes) else j(m), KTS))
    return out


def test_tiny_fixture_is_wired_as_intended():
    raws = [r for r, _ in tiny()]
    assert raws.count(j(E4)) == 2  # exact re-send
    stored = oracle.stored_events(tiny())
    assert len(stored) == 14  # E1..E14, each once
    by_id = {oracle.event_id(m): m for m in stored}
    assert by_id["e5"]["data"]["metrics"]["networkLatency"] == 600  # first wins
    assert by_id["e2"]["timestamp"] == T0  # first wins


def test_sessions_by_hand():
    s = sorted(oracle.build_sessions(oracle.stored_events(tiny())))
    m = lambda k: T0 + k * MIN  # noqa: E731
    assert s == sorted([
        ("A", "u1", m(0), m(60)),   # ENDED at 60 comes before the LEFT at 70
        ("A", "u2", m(10), m(20)),  # LEFT at 20
        ("A", "u2", m(30), m(60)),  # rejoin, closed by ENDED
        ("B", "u3", m(45), m(80)),  # no leave, meeting never ends: last evidence at 80
        ("B", "u1", m(50), m(50)),  # nothing after the join: zero length
    ])


# MOS by hand:
# E4: EffLat = 100 + 2*10 + 10 = 130 < 160 -> R = 93.2 - 130/40 = 89.95; R -= 2.5*1 -> 87.45
#     MOS = 1 + 0.035*87.45 + 7e-6*87.45*27.45*12.55 = 1 + 3.06075 + 0.210884144625
MOS_E4 = 4.271634144625
# E5: EffLat = 600 + 0 + 10 = 610 -> R = 93.2 - 490/10 = 44.2
#     MOS = 1 + 1.547 + 7e-6*44.2*(-15.8)*55.8 = 2.547 - 0.272779416
MOS_E5 = 2.274220584
# E8: EffLat = 50 + 80 + 10 = 140 -> R = 93.2 - 3.5 = 89.7
#     MOS = 1 + 3.1395 + 7e-6*89.7*29.7*10.3 = 4.1395 + 0.192080889
MOS_E8 = 4.331580889
# E13: EffLat = 200 + 0 + 10 = 210 -> R = 93.2 - 9 = 84.2; R -= 30 -> 54.2
#     MOS = 1 + 1.897 + 7e-6*54.2*(-5.8)*45.8 = 2.897 - 0.100783816
MOS_E13 = 2.796216184


def test_mos_by_hand():
    assert oracle.mos(100, 10, 1) == pytest.approx(MOS_E4, rel=1e-12)
    assert oracle.mos(600, 0, 0) == pytest.approx(MOS_E5, rel=1e-12)
    assert oracle.mos(50, 40, 0) == pytest.approx(MOS_E8, rel=1e-12)
    assert oracle.mos(200, 0, 12) == pytest.approx(MOS_E13, rel=1e-12)
    # R clamped to 0 -> MOS 1 + 0 + 0 = 1
    assert oracle.mos(60000, 0, 100) == 1.0
    # EffLat = 10 -> R = 92.95 -> 1 + 3.25325 + 7e-6*92.95*32.95*7.05 = 4.404394368375
    assert oracle.mos(0, 0, 0) == pytest.approx(4.404394368375, rel=1e-12)


def test_stats_full_range_by_hand():
    got = oracle.expected_stats(tiny(), T0, T0 + 120 * MIN)
    assert got == {
        "meetings": 2,            # A, B
        "participants": 3,        # u1, u2, u3
        "sessions": 5,            # E2, E3, E7, E12, E14
        "avg_meeting_duration_s": 3600.0,
        "participant_minutes": pytest.approx(135.0, rel=1e-12),  # 60 + 10 + 30 + 35 + 0
        "peak_concurrent_participants": 3,  # 45..60: A/u1, A/u2, B/u3
        "quality": {
            "samples": 4,
            "avg_audio_quality": 3.5,     # (4+2+5+3)/4
            "avg_video_quality": 3.5,     # (3+2+5+4)/4
            "avg_latency_ms": 237.5,      # (100+600+50+200)/4
            "avg_packet_loss_pct": 3.25,  # (1+0+0+12)/4
            "p95_latency_ms": 600.0,      # sorted [50,100,200,600][floor(3.8)=3]
            "avg_mos": pytest.approx(
                (MOS_E4 + MOS_E5 + MOS_E8 + MOS_E13) / 4, rel=1e-12),  # 3.41841295040625
            "poor_audio_pct": 75.0,       # E5 latency, E8 jitter, E13 loss
        },
        "dead_lettered": 2,  # BAD_JSON (twice, same bytes) and BAD_OBJ
    }
    assert (MOS_E4 + MOS_E5 + MOS_E8 + MOS_E13) / 4 == pytest.approx(3.41841295040625)
    assert isinstance(got["avg_meeting_duration_s"], float)
    assert isinstance(got["participant_minutes"], float)
    assert isinstance(got["quality"]["p95_latency_ms"], float)


def test_stats_range_cutting_sessions_by_hand():
    got = oracle.expected_stats(tiny(), T0 + 15 * MIN, T0 + 55 * MIN)
    assert got == {
        "meetings": 1,            # B (A started at 0)
        "participants": 3,        # u2 (E7), u3 (E12), u1 (E14)
        "sessions": 3,
        "avg_meeting_duration_s": None,  # ENDED at 60 is outside
        # A/u1 [15,55)=40, A/u2 [15,20)=5, A/u2 [30,55)=25, B/u3 [45,55)=10
        "participant_minutes": pytest.approx(80.0, rel=1e-12),
        "peak_concurrent_participants": 3,
        "quality": {
            "samples": 2,                 # E5 exactly at `from`, E8
            "avg_audio_quality": 3.5,
            "avg_video_quality": 3.5,
            "avg_latency_ms": 325.0,
            "avg_packet_loss_pct": 0.0,
            "p95_latency_ms": 600.0,      # sorted [50,600][floor(1.9)=1]
            "avg_mos": pytest.approx((MOS_E5 + MOS_E8) / 2, rel=1e-12),  # 3.3029007365
            "poor_audio_pct": 100.0,
        },
        "dead_lettered": 2,
    }


def test_stats_gap_range_nulls_and_boundaries():
    # [20, 30): A/u2 left at 20 (not open at 20), rejoins at 30 (excluded)
    got = oracle.expected_stats(tiny(), T0 + 20 * MIN, T0 + 30 * MIN)
    assert got["meetings"] == 0 and got["participants"] == 0 and got["sessions"] == 0
    assert got["avg_meeting_duration_s"] is None
    assert got["participant_minutes"] == pytest.approx(10.0)  # only A/u1
    assert got["peak_concurrent_participants"] == 1
    assert got["quality"] == {"samples": 0, "avg_audio_quality": None, "avg_video_quality": None,
                              "avg_latency_ms": None, "avg_packet_loss_pct": None,
                              "p95_latency_ms": None, "avg_mos": None, "poor_audio_pct": None}
    # before everything
    got = oracle.expected_stats(tiny(), T0 - 60 * MIN, T0)
    assert got["participant_minutes"] == 0.0 and isinstance(got["participant_minutes"], float)
    assert got["peak_concurrent_participants"] == 0
    assert got["dead_lettered"] == 2  # all time, not range-limited


def test_peak_closes_before_opens_at_equal_time():
    msgs = [ev("PARTICIPANT_JOINED", 0, "M", "a", eid="1"),
            ev("PARTICIPANT_LEFT", 10, "M", "a", {"duration": 600}, eid="2"),
            ev("PARTICIPANT_JOINED", 10, "M", "b", eid="3"),
            ev("PARTICIPANT_LEFT", 20, "M", "b", {"duration": 600}, eid="4")]
    got = oracle.expected_stats([(j(m), KTS) for m in msgs], T0, T0 + 30 * MIN)
    assert got["peak_concurrent_participants"] == 1
    assert got["participant_minutes"] == 20.0
    # a session opened before the range counts at t = from
    got = oracle.expected_stats([(j(m), KTS) for m in msgs], T0 + 5 * MIN, T0 + 6 * MIN)
    assert got["peak_concurrent_participants"] == 1
    assert got["participant_minutes"] == 1.0


def test_dead_letters_distinct_bytes_per_reason():
    assert oracle.expected_dead_letters(tiny()) == {"not_json": 1, "not_object": 1}


def test_invalid_message_does_not_use_up_its_event_id():
    bad = dict(E4, data=qm(9, 3, 100, 1))  # audioQuality 9, same eventId as E4
    got = oracle.stored_events([(j(bad), KTS), (j(E4), KTS)])
    assert len(got) == 1 and got[0]["data"]["metrics"]["audioQuality"] == 4


# --- event ids -----------------------------------------------------------------------------
def test_event_id_explicit_and_derived():
    assert oracle.event_id({"eventId": "abc", "x": 1}) == "abc"
    msg = {"b": 1, "a": {"d": "é", "c": [1, 2.5]}}
    canonical = '{"a":{"c":[1,2.5],"d":"é"},"b":1}'
    assert oracle.event_id(msg) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    # key order and whitespace do not matter
    a = oracle.validate(j(E8), KTS)[0]
    b = oracle.validate(E8_SCRAMBLED, KTS)[0]
    assert oracle.event_id(a) == oracle.event_id(b)
    c = oracle.validate(json.dumps(E8, ensure_ascii=True, indent=None).encode(), KTS)[0]
    assert oracle.event_id(a) == oracle.event_id(c)


# --- validation -----------------------------------------------------------------------------
GOOD_Q = ev("QUALITY_METRICS", 0, "A", "u1", qm(4, 3, 100, 1, jitter=10))


def with_metric(**kw):
    m = json.loads(json.dumps(GOOD_Q))
    for k, v in kw.items():
        if v is ...:
            del m["data"]["metrics"][k]
        else:
            m["data"]["metrics"][k] = v
    return j(m)


def with_top(**kw):
    m = json.loads(json.dumps(GOOD_Q))
    for k, v in kw.items():
        if v is ...:
            del m[k]
        else:
            m[k] = v
    return j(m)


def test_valid_messages_accepted():
    for m in [E1, E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13, E14]:
        msg, reason = oracle.validate(j(m), KTS)
        assert reason is None and msg == m
    assert oracle.validate(E8_SCRAMBLED, KTS)[1] is None
    # inclusive edges
    for raw in [with_metric(audioQuality=1, videoQuality=5, networkLatency=60000, packetLoss=100,
                            cpu=0, memory=100, bandwidth=0, jitter=0),
                with_metric(jitter=...),
                with_metric(networkLatency=120.5, packetLoss=0.0),
                with_top(timestamp=946684800000),
                with_top(timestamp=KTS + 86_400_000),
                with_top(schemaVersion=1, unknownField={"x": [1]})]:
        assert oracle.validate(raw, KTS)[1] is None, raw


CASES = [
    ("not_utf8", b'{"eventType":"MEETING_STARTED","meetingId":"\xff"}'),
    ("not_utf8", b'\xc3\x28'),
    ("not_json", b'{"eventType":'),
    ("not_json", b''),
    ("not_json", with_metric(networkLatency=1).replace(b'"networkLatency":1', b'"networkLatency":NaN')),
    ("not_json", with_metric(networkLatency=1).replace(b'"networkLatency":1', b'"networkLatency":Infinity')),
    ("not_json", with_metric(networkLatency=1).replace(b'"networkLatency":1', b'"networkLatency":-Infinity')),
    ("not_object", b'[{"eventType":"MEETING_STARTED"}]'),
    ("not_object", b'"MEETING_STARTED"'),
    ("not_object", b'null'),
    ("not_object", b'42'),
    ("unknown_event_type", with_top(eventType="SCREEN_SHARED")),
    ("unknown_event_type", with_top(eventType="quality_metrics")),
    ("missing_field:eventType", with_top(eventType=...)),
    ("wrong_type:eventType", with_top(eventType=5)),
    ("missing_field:timestamp", with_top(timestamp=...)),
    ("bad_timestamp", with_top(timestamp=1.7e12)),
    ("bad_timestamp", with_top(timestamp=float(T0))),
    ("bad_timestamp", with_top(timestamp=str(T0))),
    ("bad_timestamp", with_top(timestamp=True)),
    ("bad_timestamp", with_top(timestamp=946684799999)),
    ("bad_timestamp", with_top(timestamp=KTS + 86_400_001)),
    ("missing_field:meetingId", with_top(meetingId=...)),
    ("missing_field:meetingId", with_top(meetingId="")),
    ("wrong_type:meetingId", with_top(meetingId=7)),
    ("missing_field:userId", with_top(userId=...)),
    ("wrong_type:userId", with_top(userId=["u1"])),
    ("wrong_type:eventId", with_top(eventId=12)),
    ("wrong_type:schemaVersion", with_top(schemaVersion="1")),
    ("missing_field:data.metrics", with_top(data=...)),
    ("wrong_type:data", with_top(data=[1])),
    ("missing_field:data.metrics", j(ev("QUALITY_METRICS", 0, "A", "u1", {"region": "x"}))),
    ("wrong_type:data.metrics", j(ev("QUALITY_METRICS", 0, "A", "u1", {"metrics": 3}))),
    ("missing_field:data.metrics.packetLoss", with_metric(packetLoss=...)),
    ("missing_field:data.metrics.audioQuality", with_metric(audioQuality=...)),
    ("wrong_type:data.metrics.audioQuality", with_metric(audioQuality="4")),
    ("wrong_type:data.metrics.networkLatency", with_metric(networkLatency=True)),
    ("wrong_type:data.metrics.packetLoss", with_metric(packetLoss=False)),
    ("wrong_type:data.metrics.jitter", with_metric(jitter=None)),
    ("out_of_range:data.metrics.audioQuality", with_metric(audioQuality=0.99)),
    ("out_of_range:data.metrics.videoQuality", with_metric(videoQuality=5.01)),
    ("out_of_range:data.metrics.networkLatency", with_metric(networkLatency=60000.5)),
    ("out_of_range:data.metrics.networkLatency", with_metric(networkLatency=-1)),
    ("out_of_range:data.metrics.jitter", with_metric(jitter=-0.1)),
    ("out_of_range:data.metrics.packetLoss", with_metric(packetLoss=100.01)),
    ("out_of_range:data.metrics.bandwidth", with_metric(bandwidth=-5)),
    ("out_of_range:data.metrics.cpu", with_metric(cpu=101)),
    ("out_of_range:data.metrics.memory", with_metric(memory=-1)),
    ("wrong_type:data.region", j(ev("QUALITY_METRICS", 0, "A", "u1", dict(qm(4, 4, 1, 1), region=1)))),
    ("missing_field:data.duration", j(ev("PARTICIPANT_LEFT", 0, "A", "u1", {"leaveReason": "x"}))),
    ("wrong_type:data.duration", j(ev("PARTICIPANT_LEFT", 0, "A", "u1", {"duration": "60"}))),
    ("wrong_type:data.duration", j(ev("MEETING_ENDED", 0, "A", None, {"duration": True}))),
    ("out_of_range:data.duration", j(ev("MEETING_ENDED", 0, "A", None, {"duration": -1}))),
    ("wrong_type:data.totalParticipants",
     j(ev("MEETING_ENDED", 0, "A", None, {"duration": 1, "totalParticipants": "3"}))),
    ("wrong_type:data.participants", j(ev("MEETING_STARTED", 0, "A", None, {"participants": "u1"}))),
    ("wrong_type:data.hostId", j(ev("MEETING_STARTED", 0, "A", None, {"hostId": 1}))),
    ("wrong_type:data.deviceInfo", j(ev("PARTICIPANT_JOINED", 0, "A", "u", {"deviceInfo": "mac"}))),
    ("wrong_type:data.deviceInfo.os",
     j(ev("PARTICIPANT_JOINED", 0, "A", "u", {"deviceInfo": {"os": 10}}))),
    ("wrong_type:data.joinTime", j(ev("PARTICIPANT_JOINED", 0, "A", "u", {"joinTime": "now"}))),
]


@pytest.mark.parametrize("reason,raw", CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_invalid_reasons(reason, raw):
    assert oracle.validate(raw, KTS) == (None, reason)


def test_too_large_boundary():
    def sized(n):
        base = with_top(pad="")
        raw = base.replace(b'"pad":""', b'"pad":"' + b"x" * (n - len(base)) + b'"')
        assert len(raw) == n
        return raw

    assert oracle.validate(sized(1048576), KTS)[1] is None
    assert oracle.validate(sized(1048577), KTS) == (None, "too_large")
    # size is checked before anything else
    assert oracle.validate(b"\xff" * 1048577, KTS) == (None, "too_large")


def test_meeting_events_need_no_user_and_no_data():
    assert oracle.validate(j(ev("MEETING_STARTED", 0, "A")), KTS)[1] is None
    assert oracle.validate(j(ev("PARTICIPANT_JOINED", 0, "A", "u")), KTS)[1] is None
    assert oracle.validate(j(ev("MEETING_ENDED", 0, "A")), KTS) == (None, "missing_field:data.duration")


def test_stats_close_helper():
    a = oracle.expected_stats(tiny(), T0, T0 + 120 * MIN)
    assert oracle.stats_close(a, a) == []
    b = json.loads(json.dumps(a))
    b["quality"]["avg_mos"] *= 1 + 1e-6
    b["sessions"] = 5.0
    diffs = oracle.stats_close(b, a)
    assert len(diffs) == 2 and math.isfinite(a["quality"]["avg_mos"])


# --- the big fixture: structural checks ----------------------------------------------------
def test_pipeline_fixture_composition():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
    import pipeline_fixture as pf

    msgs = pf.build_fixture()
    assert msgs == pf.build_fixture()  # deterministic
    assert len(msgs) >= 2000
    assert all(b"\n" not in m for m in msgs)
    rm = pf.with_kafka_ts(msgs)
    assert oracle.expected_dead_letters(rm) == pf.EXPECTED_DEAD_LETTERS
    # validity does not depend on the Kafka timestamp (any >= base + 27 h)
    assert oracle.expected_dead_letters(pf.with_kafka_ts(msgs, pf.BASE_MS + 27 * 3_600_000)) \
        == pf.EXPECTED_DEAD_LETTERS
    assert len(pf.RANGES) >= 2
    for f, t in pf.RANGES:
        s = oracle.expected_stats(rm, f, t)
        assert s["dead_lettered"] == 12
        assert s["sessions"] > 0 and s["quality"]["samples"] > 0
