"""Zoom webhooks (files, live pieces, join state) and the participants CSV, on invented
fixtures; expected values worked out by hand from the fixture text."""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path


from ingest.contract import Event, decode
from ingest.importers import (ImportOptions, JsonFileJoinStateStore, MemoryJoinStateStore,
                              detect_format, iter_events, verify_zoom_signature,
                              zoom_url_validation_response, zoom_webhook_events)

FIX = Path(__file__).parent / "fixtures" / "importers"
KEY = b"fixture-key"


def valid(events):
    for event in events:
        assert isinstance(decode(json.dumps(event).encode(), 4_102_444_800_000), Event), event
    return events


def test_webhook_files_pair_leaves_with_joins_across_files():
    state = MemoryJoinStateStore()
    options = ImportOptions(pseudonym_key=KEY, state=state)
    hooks = valid(list(iter_events(FIX / "zoom_hooks.jsonl", options=options)))
    assert [e["eventType"] for e in hooks] == [
        "MEETING_STARTED", "PARTICIPANT_JOINED", "PARTICIPANT_JOINED", "PARTICIPANT_LEFT"]
    assert {e["meetingId"] for e in hooks} == {"zoom:abc+/def=="}
    started = hooks[0]
    assert started["timestamp"] == 1682942400000  # 2023-05-01T12:00:00Z
    assert started["data"] == {"platform": "zoom", "hostId": "HOSTaaaa", "meetingType": "personal_room",
                               "participants": []}
    bob_left = hooks[3]
    assert bob_left["userId"] == "zoom:U2bob" and bob_left["data"]["duration"] == 630.0  # 12:02:00 -> 12:12:30
    assert bob_left["data"]["leaveReason"] == "left the meeting"
    ann = hooks[1]
    assert ann["userId"].startswith("zoom:p-")  # empty Zoom id: keyed hash of the email
    reasons = [(line, reason) for _, line, reason in options.summary.skipped]
    assert reasons[0][0] == 5 and "without a recorded participant_joined" in reasons[0][1]
    assert reasons[1] == (6, "webhook event 'endpoint.url_validation' not imported")
    later = valid(list(iter_events(FIX / "zoom_ann_left.json", options=options)))
    assert later[0]["userId"] == ann["userId"] and later[0]["data"]["duration"] == 1740.0  # 12:01 -> 12:30
    ended = valid(list(iter_events(FIX / "zoom_ended.json", options=options)))[0]
    assert ended["timestamp"] == 1682945100000
    assert ended["data"] == {"platform": "zoom", "duration": 2700.0, "totalParticipants": 2,
                             "maxConcurrentUsers": 2}  # not the scheduled 30 minutes
    other = valid(list(iter_events(FIX / "zoom_other_instance.txt", options=options)))[0]
    assert other["meetingId"] == "zoom:xyz987==" and other["eventId"] != started["eventId"]


def test_redelivered_leave_gives_the_same_event():
    options = ImportOptions(pseudonym_key=KEY)
    first = list(iter_events(FIX / "zoom_hooks.jsonl", options=options))
    again = list(iter_events(FIX / "zoom_hooks.jsonl", options=options))
    assert first == again


def test_json_file_state_survives_a_restart(tmp_path):
    path = tmp_path / "data" / "zoom-join-state.json"
    options = ImportOptions(pseudonym_key=KEY, state=JsonFileJoinStateStore(path))
    list(iter_events(FIX / "zoom_hooks.jsonl", options=options))
    assert path.exists()
    restarted = ImportOptions(pseudonym_key=KEY, state=JsonFileJoinStateStore(path))
    (left,) = list(iter_events(FIX / "zoom_ann_left.json", options=restarted))
    assert left["data"]["duration"] == 1740.0


def test_live_webhook_pieces():
    secret = "whsec-invented"
    body = b'{"event":"meeting.started","payload":{"object":{"uuid":"u1","start_time":"2023-01-01T00:00:00Z"}}}'
    stamp = "1700000000"
    signature = "v0=" + hmac.new(secret.encode(), b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert verify_zoom_signature(secret, stamp, signature, body, now_s=1700000100)
    assert not verify_zoom_signature(secret, stamp, signature, body + b" ", now_s=1700000100)
    assert not verify_zoom_signature("other", stamp, signature, body, now_s=1700000100)
    assert not verify_zoom_signature(secret, stamp, signature, body, now_s=1700000000 + 301)
    assert not verify_zoom_signature(secret, None, signature, body, now_s=1700000000)
    answer = zoom_url_validation_response(secret, {"event": "endpoint.url_validation",
                                                   "payload": {"plainToken": "tok123"}})
    assert answer == {"plainToken": "tok123",
                      "encryptedToken": hmac.new(secret.encode(), b"tok123", hashlib.sha256).hexdigest()}
    options = ImportOptions(pseudonym_key=KEY)
    (event,) = zoom_webhook_events(json.loads(body), options)
    assert event["eventType"] == "MEETING_STARTED" and event["timestamp"] == 1672531200000
    assert options.summary.events_by_type["MEETING_STARTED"] == 1


def test_participants_csv():
    assert detect_format(FIX / "zoom_participants.csv") == "zoom-csv"
    options = ImportOptions(pseudonym_key=KEY)
    events = valid(list(iter_events(FIX / "zoom_participants.csv", options=options)))
    summary = options.summary
    assert summary.counts["rows"] == 10
    # zed@example.org, "zed original" (no email), mia@example.com, "mia lane" (no email),
    # "1234 kit moss", "kit moss" (= "KIT  MOSS"), "tess" (= "Tess")
    assert summary.participants == 7
    started = events[0]
    ended = events[-1]
    assert started["timestamp"] == 1652518740000  # Tess 08:59:00, the out-of-order last row
    assert ended["timestamp"] == 1652535000000  # tess 01:30:00 PM
    assert ended["data"] == {"platform": "zoom", "duration": 16260.0, "totalParticipants": 7}
    left = [e["data"]["duration"] for e in events if e["eventType"] == "PARTICIPANT_LEFT"]
    assert left == [3600.0, 20.0, 30.0, 2900.0, 180.0, 600.0, 9900.0, 240.0, 1800.0, 90.0]
    users = [e["userId"] for e in events if e["eventType"] == "PARTICIPANT_JOINED"]
    assert users[2] == users[3]  # Mia Lane rejoined: two sessions of one person
    assert users[6] == users[7] and users[8] == users[9]  # "KIT  MOSS"/"kit moss", "tess"/"Tess"
    assert users[5] != users[6] and users[0] != users[1] and users[2] != users[4]
    text = json.dumps(events)
    assert "Mia" not in text and "example.com" not in text and "Zed" not in text


def test_participants_csv_timezone():
    options = ImportOptions(pseudonym_key=KEY, tz="America/New_York")
    events = list(iter_events(FIX / "zoom_participants.csv", options=options))
    assert events[0]["timestamp"] == 1652533140000  # 08:59 EDT = 12:59Z


def test_keep_names_keeps_display_names_not_ids():
    options = ImportOptions(keep_names=True)
    events = list(iter_events(FIX / "zoom_participants.csv", options=options))
    names = [e["data"]["userName"] for e in events if e["eventType"] == "PARTICIPANT_JOINED"]
    assert names[0] == "Zed Host" and names[6] == "KIT MOSS"
    assert all("@" not in e.get("userId", "") for e in events)
