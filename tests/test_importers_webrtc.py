"""webrtc-internals and rtcstats importers on invented fixtures; expected numbers worked out by
hand (MOS: DESIGN section 4 formula evaluated on paper, rounded to 4 decimals)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.contract import Event, decode
from ingest.importers import ImportOptions, detect_format, iter_events

FIX = Path(__file__).parent / "fixtures" / "importers"


def run(name, **kwargs):
    options = ImportOptions(pseudonym_key=b"fixture-key", **kwargs)
    events = list(iter_events(FIX / name, options=options))
    for event in events:
        assert isinstance(decode(json.dumps(event).encode(), 4_102_444_800_000), Event), event
    return events, options.summary


def quality(events):
    return [e for e in events if e["eventType"] == "QUALITY_METRICS"]


def test_typed_dump_two_peer_connections_merged():
    events, summary = run("webrtc_internals_typed.txt")
    assert detect_format(FIX / "webrtc_internals_typed.txt") == "webrtc-internals"
    t0 = 1704067200000  # 2024-01-01T00:00:00Z
    assert [e["eventType"] for e in events] == [
        "MEETING_STARTED", "PARTICIPANT_JOINED", "QUALITY_METRICS", "QUALITY_METRICS",
        "QUALITY_METRICS", "PARTICIPANT_LEFT"]
    assert {e["meetingId"] for e in events} == {"webrtc:https://meet.example.test/room-a"}
    assert events[1]["timestamp"] == t0 and events[-1]["timestamp"] == t0 + 20000
    assert events[-1]["data"]["duration"] == 20.0
    assert events[1]["data"]["deviceInfo"] == {"os": "Linux", "browser": "Chrome 121", "type": "desktop"}
    q = quality(events)
    assert [e["timestamp"] for e in q] == [t0, t0 + 10000, t0 + 20000]
    m = [e["data"]["metrics"] for e in q]
    # 0-10 s: only PC 10-2's remote-inbound RTT (50 ms); inbound counters only set the baseline
    assert (m[0]["networkLatency"], m[0]["jitter"], m[0]["packetLoss"], m[0]["bandwidth"]) == (50.0, 10.0, 0.0, 0.0)
    # 10-20 s: pair carried 12500 B in 10 s = 10 kbit/s, its RTT 100 ms wins over remote-inbound
    assert (m[1]["networkLatency"], m[1]["jitter"], m[1]["packetLoss"], m[1]["bandwidth"]) == (100.0, 20.0, 0.0, 10.0)
    # 20-30 s: 90 received, 10 lost -> 10 %; 25000 B in 10 s = 20 kbit/s
    assert (m[2]["networkLatency"], m[2]["jitter"], m[2]["packetLoss"], m[2]["bandwidth"]) == (200.0, 30.0, 10.0, 20.0)
    assert [x["audioQuality"] for x in m] == pytest.approx([4.3673, 4.3253, 2.7435], abs=1e-4)
    assert all(x["videoQuality"] == x["audioQuality"] and x["cpu"] == 0 and x["memory"] == 0 for x in m)
    assert [e["data"]["stats"]["samples"] for e in q] == [2, 2, 1]
    assert summary.counts["series"] == 12 and summary.counts["peer_connections"] == 2


def test_untyped_legacy_dump():
    events, _ = run("webrtc_internals_untyped.txt")
    q = quality(events)
    assert len(q) == 1
    m = q[0]["data"]["metrics"]
    assert m["networkLatency"] == pytest.approx(33.333, abs=1e-3)  # googRtt 30, 30, 40
    assert m["jitter"] == 5.0  # googJitterReceived of the audio ssrc
    assert m["packetLoss"] == 0.0
    assert m["bandwidth"] == 40.0  # 10000 B in 2 s
    assert q[0]["data"]["stats"]["packetsReceived"] == 120  # 100 legacy audio + 20 old-id video
    assert m["audioQuality"] == pytest.approx(4.3820, abs=1e-4)
    joined = next(e for e in events if e["eventType"] == "PARTICIPANT_JOINED")
    assert joined["timestamp"] == 1556704800000  # 2019-05-01T10:00:00Z
    assert joined["data"]["deviceInfo"] == {"browser": "Chrome 74", "os": "Windows", "type": "desktop"}


def test_jitsi_client_dump_delta_compressed():
    events, summary = run("rtcstats_jitsi_client")
    assert {e["meetingId"] for e in events} == {"jitsi:mtg-0001"}  # meetingUniqueId from a hand-written identity line
    joined = next(e for e in events if e["eventType"] == "PARTICIPANT_JOINED")
    left = next(e for e in events if e["eventType"] == "PARTICIPANT_LEFT")
    # first and last getstats; the connectionInfo line from another date does not count
    assert joined["timestamp"] == 1600000001000 and left["timestamp"] == 1600000011000
    assert left["data"]["duration"] == 10.0
    assert joined["data"]["region"] == "eu-central-1"
    assert joined["data"]["deviceInfo"] == {"browser": "Chrome 120", "os": "macOS", "type": "desktop"}
    assert joined["data"]["userName"].startswith("n-") and "Test" not in json.dumps(events)
    q = quality(events)
    assert [e["timestamp"] for e in q] == [1600000006000, 1600000011000]
    first, second = (e["data"]["metrics"] for e in q)
    # 50 (from stream start) + 50 received, 2 lost -> 2/102
    assert first["packetLoss"] == pytest.approx(200 / 102, abs=1e-4)
    assert (first["networkLatency"], first["jitter"], first["bandwidth"]) == (40.0, 4.0, 9.6)
    assert (second["networkLatency"], second["jitter"], second["bandwidth"], second["packetLoss"]) == (60.0, 8.0, 9.6, 0.0)
    assert [first["audioQuality"], second["audioQuality"]] == pytest.approx([4.2543, 4.3639], abs=1e-4)
    assert summary.counts["getstats"] == 3


def test_interval_option_changes_buckets():
    events, _ = run("rtcstats_jitsi_client", interval_s=60)
    q = quality(events)
    assert len(q) == 1
    m = q[0]["data"]["metrics"]
    assert m["packetLoss"] == pytest.approx(200 / 150, abs=1e-4)  # 148 received, 2 lost
    assert m["networkLatency"] == pytest.approx(46.667, abs=1e-3)  # 40, 40, 60
    assert m["jitter"] == pytest.approx(5.333, abs=1e-3)
    assert m["bandwidth"] == 9.6  # 12000 B in 10 s


def test_chrome_rtcstatsdump_relative_times():
    events, summary = run("rtcstats_chrome_dump.txt")
    assert detect_format(FIX / "rtcstats_chrome_dump.txt") == "rtcstats"
    joined = next(e for e in events if e["eventType"] == "PARTICIPANT_JOINED")
    left = next(e for e in events if e["eventType"] == "PARTICIPANT_LEFT")
    # epoch 1700000000000 on the first line, then +500, +1000, +1000, +1000
    assert joined["timestamp"] == 1700000001500 and left["timestamp"] == 1700000003500
    assert joined["meetingId"] == "webrtc:https://call.example.test/r/abc"
    assert joined["data"]["deviceInfo"] == {"os": "Windows", "browser": "Chrome 131", "type": "desktop"}
    (q,) = quality(events)
    m = q["data"]["metrics"]
    assert m["packetLoss"] == pytest.approx(100 / 110, abs=1e-4)  # 109 received, 1 lost
    assert (m["networkLatency"], m["jitter"], m["bandwidth"]) == (20.0, 2.0, 24.0)  # 6000 B in 2 s
    assert m["audioQuality"] == pytest.approx(4.3409, abs=1e-4)
    assert summary.counts["getstats"] == 3


def test_jicofo_dump():
    events, summary = run("jicofo_dump")
    assert [(e["eventType"], e.get("userId"), e["timestamp"]) for e in events] == [
        ("MEETING_STARTED", None, 1709287200100),
        ("PARTICIPANT_JOINED", "jitsi:ep000001", 1709287200100),
        ("PARTICIPANT_JOINED", "jitsi:ep000002", 1709287205000),
        ("PARTICIPANT_LEFT", "jitsi:ep000001", 1709287800000),
    ]
    assert events[3]["data"]["duration"] == 599.9
    assert events[1]["data"]["region"] == "us-east-1"
    assert summary.skipped == [(str(FIX / "jicofo_dump"), 6, "leave of endpoint ep000009 without a join in the file")]
    assert summary.counts["bridge_stress_samples"] == 2 and summary.counts["identity"] == 2
