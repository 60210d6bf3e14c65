"""The traffic simulator's pure generator: contract validity, mix, sessions and meeting totals.

Totals are recomputed here from the emitted events (not from simulator state) and compared with
what MEETING_ENDED claims.
"""
import json
import os
import statistics
import sys
from collections import Counter, defaultdict

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

from ingest.contract import EVENT_TYPES, Event, InvalidMessage, decode  # noqa: E402
from ingest.simulator import TrafficSimulator  # noqa: E402

T0 = 1767571200000  # 2026-01-05T00:00:00Z
HOUR = 3_600_000


def simulate(seed=42, meetings=8, rate=25.0, invalid_ratio=0.1, span_ms=HOUR, step_ms=1000,
             duration_scale=0.15, finish=True):
    """[(tick time, record)] for ``span_ms`` of simulated time, ticking every ``step_ms``."""
    sim = TrafficSimulator(seed, meetings, rate, invalid_ratio, now_ms=lambda: T0,
                           duration_scale=duration_scale)
    out = []
    for t in range(T0, T0 + span_ms + 1, step_ms):
        out += [(t, r) for r in sim.tick_records(t)]
    if finish:
        out += [(T0 + span_ms, r) for r in sim.finish(T0 + span_ms)]
    return out


@pytest.fixture(scope="module")
def run():
    return simulate()


@pytest.fixture(scope="module")
def valid(run):
    return [json.loads(r.value) for _, r in run if r.valid]


def test_valid_messages_decode_and_invalid_ones_fail_with_their_reason(run):
    reasons = Counter()
    for tick_ms, record in run:
        result = decode(record.value, tick_ms)
        if record.valid:
            assert isinstance(result, Event), (result, record.value)
            assert result.event_type == record.event_type
        else:
            assert isinstance(result, InvalidMessage), record.value
            assert result.reason == record.reason
            reasons[result.reason.split(":")[0]] += 1
    assert set(reasons) == {"not_json", "not_utf8", "not_object", "unknown_event_type", "missing_field",
                            "wrong_type", "out_of_range", "bad_timestamp"}


def test_invalid_ratio_within_tolerance(run):
    invalid = sum(1 for _, r in run if not r.valid)
    assert len(run) > 20_000
    assert 0.09 <= invalid / len(run) <= 0.11


def test_no_invalid_messages_by_default():
    run = simulate(seed=3, invalid_ratio=0.0, span_ms=600_000)
    assert run and all(r.valid for _, r in run)


def test_every_event_type_and_the_mix(valid):
    types = Counter(m["eventType"] for m in valid)
    assert set(types) == set(EVENT_TYPES)
    assert types["QUALITY_METRICS"] > 0.6 * len(valid)
    started = [m["data"] for m in valid if m["eventType"] == "MEETING_STARTED"]
    assert {d["meetingType"] for d in started} == {"scheduled", "recurring", "instant", "webinar"}
    assert {d["platform"] for d in started} == {"desktop", "web", "mobile", "room-system"}
    joins = [m["data"] for m in valid if m["eventType"] == "PARTICIPANT_JOINED"]
    assert {d["deviceInfo"]["type"] for d in joins} == {"desktop", "web", "mobile", "room-system"}
    assert len({d["deviceInfo"]["os"] for d in joins}) >= 5
    assert len({d["region"] for d in joins}) >= 5
    reasons = Counter(m["data"]["leaveReason"] for m in valid if m["eventType"] == "PARTICIPANT_LEFT")
    assert {"left", "network_drop", "meeting_ended"} <= set(reasons)


def test_meeting_sizes_are_heavy_tailed(valid):
    sizes = [len(m["data"]["participants"]) for m in valid if m["eventType"] == "MEETING_STARTED"]
    assert len(sizes) > 50
    assert min(sizes) >= 2 and max(sizes) <= 200
    assert max(sizes) >= 4 * statistics.median(sizes)
    assert statistics.mean(sizes) > statistics.median(sizes)


def test_keys_are_meeting_ids_and_time_never_runs_ahead(run):
    last = 0
    for tick_ms, record in run:
        if not record.valid:
            continue
        message = json.loads(record.value)
        assert record.key == message["meetingId"].encode()
        assert T0 <= message["timestamp"] <= tick_ms
        assert message["timestamp"] >= last
        last = message["timestamp"]


def test_same_seed_same_bytes_other_seed_other_bytes():
    first = [r.value for _, r in simulate(seed=7, span_ms=300_000)]
    again = [r.value for _, r in simulate(seed=7, span_ms=300_000)]
    other = [r.value for _, r in simulate(seed=8, span_ms=300_000)]
    assert first == again
    assert first != other


def test_tick_defaults_to_the_injected_clock():
    now = [T0]
    sim = TrafficSimulator(1, 3, 10.0, 0.0, now_ms=lambda: now[0])
    first = sim.tick()
    assert first and json.loads(first[0])["eventType"] == "MEETING_STARTED"
    assert all(json.loads(v)["timestamp"] == T0 for v in first)
    now[0] = T0 + 60_000
    later = sim.tick()
    assert later and all(T0 <= json.loads(v)["timestamp"] <= T0 + 60_000 for v in later)


def test_sessions_are_well_formed(valid):
    open_at = {}           # (meeting, user) -> join time
    started, ended = set(), set()
    drops = set()
    rejoins = 0
    for m in valid:
        meeting, user, ts, kind = m["meetingId"], m.get("userId"), m["timestamp"], m["eventType"]
        if kind == "MEETING_STARTED":
            assert meeting not in started
            started.add(meeting)
            continue
        assert meeting in started and meeting not in ended, m
        pair = (meeting, user)
        if kind == "PARTICIPANT_JOINED":
            assert pair not in open_at
            open_at[pair] = ts
            if pair in drops:
                rejoins += 1
        elif kind == "PARTICIPANT_LEFT":
            joined = open_at.pop(pair)
            assert m["data"]["duration"] == (ts - joined) / 1000
            if m["data"]["leaveReason"] == "network_drop":
                drops.add(pair)
        elif kind == "QUALITY_METRICS":
            assert pair in open_at
        elif kind == "MEETING_ENDED":
            assert not [p for p in open_at if p[0] == meeting]  # everyone left first
            ended.add(meeting)
    assert started == ended  # finish() ended the meetings still running
    assert not open_at
    assert rejoins > 0


def test_meeting_ended_totals_match_the_emitted_sessions(valid):
    by_meeting = defaultdict(list)
    for m in valid:
        by_meeting[m["meetingId"]].append(m)
    checked = 0
    for meeting, events in by_meeting.items():
        start = next(m["timestamp"] for m in events if m["eventType"] == "MEETING_STARTED")
        end = next(m for m in events if m["eventType"] == "MEETING_ENDED")
        deltas, joined, session_ms, open_at = [], set(), 0, {}
        for m in events:
            if m["eventType"] == "PARTICIPANT_JOINED":
                deltas.append((m["timestamp"], 1))
                joined.add(m["userId"])
                open_at[m["userId"]] = m["timestamp"]
            elif m["eventType"] == "PARTICIPANT_LEFT":
                deltas.append((m["timestamp"], -1))
                session_ms += m["timestamp"] - open_at.pop(m["userId"])
        peak = running = 0
        for _, delta in sorted(deltas):  # at equal times the close (-1) sorts before the open
            running += delta
            peak = max(peak, running)
        data = end["data"]
        assert data["duration"] == (end["timestamp"] - start) / 1000
        assert data["totalParticipants"] == len(joined)
        assert data["maxConcurrentUsers"] == peak
        assert data["audioMinutes"] == pytest.approx(session_ms / 60_000, rel=1e-9)
        assert 0 <= data["videoMinutes"] <= data["audioMinutes"]
        checked += 1
    assert checked > 50


def test_quality_has_bad_network_episodes_and_regional_latency(valid):
    samples = [(m["data"]["region"], m["data"]["metrics"]) for m in valid if m["eventType"] == "QUALITY_METRICS"]
    latency = [s["networkLatency"] for _, s in samples]
    bad = [s for _, s in samples if s["networkLatency"] > 300 and s["packetLoss"] > 2]
    assert statistics.median(latency) < 150
    assert 0.005 * len(samples) < len(bad) < 0.3 * len(samples)
    assert statistics.mean(s["audioQuality"] for s in bad) < statistics.mean(s["audioQuality"] for _, s in samples)
    by_region = defaultdict(list)
    for region, s in samples:
        by_region[region].append(s["networkLatency"])
    assert statistics.median(by_region["ap-south"]) > statistics.median(by_region["us-east"]) + 40
    assert all("jitter" in s for _, s in samples)


def test_rate_is_close_to_the_target_after_warm_up():
    run = simulate(seed=5, meetings=10, rate=40.0, invalid_ratio=0.05, span_ms=HOUR // 2,
                   duration_scale=0.2, finish=False)
    steady = [t for t, _ in run if t >= T0 + 300_000]
    per_second = len(steady) / ((HOUR // 2 - 300_000) / 1000)
    assert 36 <= per_second <= 44


def test_ended_meetings_are_replaced():
    sim = TrafficSimulator(9, 6, 20.0, 0.0, now_ms=lambda: T0, duration_scale=0.05)
    ended = 0
    for t in range(T0, T0 + HOUR, 5000):
        ended += sum(1 for r in sim.tick_records(t) if r.event_type == "MEETING_ENDED")
        assert sim.stats()["running_meetings"] == 6
    assert ended > 20


@pytest.mark.parametrize("kwargs", [{"invalid_ratio": 1.0}, {"invalid_ratio": -0.1}, {"meetings": 0},
                                    {"rate": 0}])
def test_bad_arguments_are_rejected(kwargs):
    args = {"seed": 1, "meetings": 2, "rate": 5.0, "invalid_ratio": 0.0, **kwargs}
    with pytest.raises(ValueError):
        TrafficSimulator(now_ms=lambda: T0, **args)
