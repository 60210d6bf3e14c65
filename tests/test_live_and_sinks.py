"""Sinks and live counters on the real components: dedup rules, replay safety, rebuild after Redis loss."""
from __future__ import annotations

import json
import time

from ingest.contract import decode
from ingest.kafka import Message
from ingest.live import LiveCounters, read_live_status
from ingest.pipeline import Sinks, decode_batch, store_messages
from queries.stats import compute_stats
from conftest import truncate

NOW = int(time.time() * 1000)


def msg(event_type, ts, meeting="m1", user=None, event_id=None, **data):
    body = {"eventType": event_type, "timestamp": ts, "meetingId": meeting}
    if user:
        body["userId"] = user
    if event_id:
        body["eventId"] = event_id
    if data:
        body["data"] = data
    return json.dumps(body).encode()


QUALITY = dict(metrics={"audioQuality": 4, "videoQuality": 4, "networkLatency": 100, "packetLoss": 0,
                        "bandwidth": 500, "cpu": 10, "memory": 10})


def test_same_event_id_with_other_content_first_stored_wins(engine):
    first = msg("PARTICIPANT_LEFT", NOW - 60_000, user="u1", event_id="e-1", duration=10)
    later = msg("PARTICIPANT_LEFT", NOW - 30_000, user="u1", event_id="e-1", duration=99)
    assert store_messages(engine, None, [first]).stored == 1
    result = store_messages(engine, None, [later, later])
    assert (result.stored, result.duplicates) == (0, 2)
    rows = engine.execute("SELECT ts_ms, duration_s FROM events FINAL WHERE event_id = 'e-1'")
    assert rows == [(NOW - 60_000, 10.0)]


def test_exact_duplicates_in_one_batch_and_derived_ids(engine):
    a = msg("MEETING_STARTED", NOW - 1000)
    b = b'{ "meetingId": "m1",  "timestamp": %d, "eventType": "MEETING_STARTED" }' % (NOW - 1000)
    result = store_messages(engine, None, [a, a, b])
    assert (result.stored, result.duplicates) == (1, 2)
    assert compute_stats(engine, NOW - 10_000, NOW)["meetings"] == 1


def test_replayed_batch_after_a_crash_between_the_two_inserts(engine):
    """events written, event_ids not: the replay inserts again and FINAL still counts once."""
    raw = [msg("PARTICIPANT_JOINED", NOW - 5000 + i, meeting="m2", user=f"u{i}") for i in range(5)]
    messages = [Message("t", 0, i, None, r, NOW) for i, r in enumerate(raw)]
    sinks = Sinks(engine, None)
    decoded = decode_batch(messages, 1 << 20)
    sinks.write_clickhouse(decoded, NOW)
    engine.execute("TRUNCATE TABLE event_ids")  # the crash lost the last insert and the session upkeep
    sinks.write_clickhouse(decoded, NOW)
    sinks.refresh_sessions(decoded, NOW)
    stats = compute_stats(engine, NOW - 10_000, NOW)
    assert (stats["participants"], stats["sessions"]) == (5, 5)


def test_dead_letters_count_distinct_bytes(engine):
    store_messages(engine, None, [b"not json", b"not json", b"[1]"])
    assert compute_stats(engine, 0, NOW)["dead_lettered"] == 2


def _batch(live, engine, raws, partition=0, first_offset=0, topic="t"):
    messages = [Message(topic, partition, first_offset + i, None, r, NOW) for i, r in enumerate(raws)]
    decoded = decode_batch(messages, 1 << 20)
    sinks = Sinks(engine, live)
    result = sinks.write_clickhouse(decoded, NOW)
    sinks.refresh_sessions(decoded, NOW)
    sinks.write_redis(decoded, result, NOW)


def test_live_counters_follow_joins_leaves_and_ends(chdb_engine, redis_client):
    truncate(chdb_engine)
    live = LiveCounters(redis_client, idle_timeout_s=1800)
    t = NOW - 60_000
    _batch(live, chdb_engine, [
        msg("MEETING_STARTED", t, "a"), msg("MEETING_STARTED", t, "b"),
        msg("PARTICIPANT_JOINED", t + 1, "a", "u1"), msg("PARTICIPANT_JOINED", t + 2, "a", "u2"),
        msg("PARTICIPANT_JOINED", t + 3, "b", "u3"),
        msg("PARTICIPANT_LEFT", t + 4, "a", "u2", duration=1),
    ])
    status = read_live_status(redis_client, NOW)
    assert (status["live_meetings"], status["live_participants"]) == (2, 2)
    # replaying the very same batch changes nothing
    _batch(live, chdb_engine, [msg("PARTICIPANT_JOINED", t + 2, "a", "u2")], first_offset=3)
    assert read_live_status(redis_client, NOW)["live_participants"] == 2
    # a leave delivered before its rejoin does not remove the later session
    _batch(live, chdb_engine, [
        msg("PARTICIPANT_JOINED", t + 10, "b", "u4"),
        msg("PARTICIPANT_LEFT", t + 5, "b", "u4", duration=0),
        msg("MEETING_ENDED", t + 20, "a", duration=20),
        msg("QUALITY_METRICS", t + 30, "a", "u1", **QUALITY),  # late sample of an ended meeting
    ], first_offset=6)
    status = read_live_status(redis_client, NOW)
    assert (status["live_meetings"], status["live_participants"]) == (1, 2)
    # idle timeout: an hour later nothing is live
    assert read_live_status(redis_client, NOW + 3_600_000)["live_meetings"] == 0


def test_live_counters_are_rebuilt_after_redis_loses_them(chdb_engine, redis_client):
    truncate(chdb_engine)
    live = LiveCounters(redis_client, idle_timeout_s=1800)
    t = NOW - 60_000
    _batch(live, chdb_engine, [
        msg("MEETING_STARTED", t, "a"), msg("PARTICIPANT_JOINED", t + 1, "a", "u1"),
        msg("PARTICIPANT_JOINED", t + 2, "a", "u2"), msg("PARTICIPANT_LEFT", t + 3, "a", "u2", duration=1),
        b"{broken",
    ])
    before = read_live_status(redis_client, NOW)
    redis_client.flushall()
    _batch(live, chdb_engine, [msg("QUALITY_METRICS", t + 4, "a", "u1", **QUALITY)], first_offset=5)
    after = read_live_status(redis_client, NOW)
    assert (before["live_meetings"], before["live_participants"], before["dead_lettered"]) == (1, 1, 1)
    assert (after["live_meetings"], after["live_participants"], after["dead_lettered"]) == (1, 1, 1)
    assert after["last_event_ms"] == t + 4


def test_replay_does_not_inflate_the_event_rate(chdb_engine, redis_client):
    truncate(chdb_engine)
    live = LiveCounters(redis_client)
    raws = [msg("MEETING_STARTED", NOW - 1000, f"r{i}") for i in range(10)]
    _batch(live, chdb_engine, raws)
    _batch(live, chdb_engine, raws)  # redelivered after a crash before the commit
    total = sum(int(redis_client.get(k)) for k in redis_client.keys("meetpulse:eps:*"))
    assert total == 10
    assert decode(raws[0]).event_type == "MEETING_STARTED"


def test_large_batches_of_derived_ids_and_huge_ids_fit_in_a_query(engine):
    """5,000 derived ids (~335 KB of IN list) and a 300 KB meeting id exceed ClickHouse's default
    256 KiB query size; both engines must still take them."""
    many = [msg("QUALITY_METRICS", NOW - 1000 - i, user=f"u{i % 7}", **QUALITY) for i in range(5000)]
    huge = [msg("PARTICIPANT_JOINED", NOW - 500, meeting="x" * 300_000, user="u1")]
    first = store_messages(engine, None, many + huge)
    assert (first.stored, first.duplicates) == (5001, 0)
    again = store_messages(engine, None, many + huge)
    assert (again.stored, again.duplicates) == (0, 5001)
    assert compute_stats(engine, NOW - 10_000, NOW)["quality"]["samples"] == 5000


def test_integers_beyond_int64_are_dead_lettered_not_stored(engine):
    bad = msg("MEETING_ENDED", NOW - 10, meeting="mu", duration=600, totalParticipants=2**64 - 1)
    good = msg("MEETING_STARTED", NOW - 20, meeting="mu")
    result = store_messages(engine, None, [bad, good])
    assert result.stored == 1 and dict(result.dead_lettered) == {"out_of_range:data.totalParticipants": 1}


def test_overflowing_means_and_empty_ranges_stay_valid_json(engine):
    store_messages(engine, None, [msg("MEETING_ENDED", NOW - 10, meeting=f"big{i}", duration=1.7e308)
                                  for i in range(2)])
    stats = compute_stats(engine, NOW - 1000, NOW)
    assert stats["avg_meeting_duration_s"] is None  # the mean overflows a double: reported as null
    json.dumps(stats, allow_nan=False)
    store_messages(engine, None, [msg("PARTICIPANT_JOINED", NOW - 100, meeting="e", user="u")])
    assert compute_stats(engine, NOW - 50, NOW - 50)["peak_concurrent_participants"] == 0
