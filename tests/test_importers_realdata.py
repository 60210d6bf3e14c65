"""Every real-data file converts with the counts of its SOURCES.md entry (numbers below are
copied from SOURCES.md by hand), and the Jitsi SFU dump agrees with its -result.json oracle."""
from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ingest.contract import Event, decode
from ingest.importers import (ImportOptions, MemoryJoinStateStore, UnknownFormatError,
                              detect_format, iter_events)

REALDATA = Path(os.environ.get("MEETPULSE_REALDATA") or "/work/shared/realdata")
NOT_INPUTS = {"SOURCES.md"}
KEY = b"test-pseudonym-key"


def _need_realdata():
    if REALDATA.is_dir():
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"real-data folder {REALDATA} is missing (CI=true makes this a failure)")
    pytest.skip(f"real-data folder {REALDATA} not present")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def run(relative: str, **kwargs):
    _need_realdata()
    options = ImportOptions(pseudonym_key=KEY, **kwargs)
    events = list(iter_events(REALDATA / relative, options=options))
    for event in events:  # every event is a valid contract-v1 message
        decoded = decode(json.dumps(event).encode(), 4_102_444_800_000)
        assert isinstance(decoded, Event), (decoded, event)
        assert decoded.event_id == event["eventId"]
    assert len({e["eventId"] for e in events}) == len(events)
    return events, options.summary


def types(events) -> Counter:
    return Counter(e["eventType"] for e in events)


def test_every_data_file_is_recognised():
    _need_realdata()
    inputs = [p for p in sorted(REALDATA.rglob("*")) if p.is_file()
              and p.name not in NOT_INPUTS and not p.name.endswith("-result.json")]
    assert len(inputs) == 20  # 4 webrtc-internals, 6 rtcstats, 6 zoom-webhook, 1 zoom csv, 3 teams
    for path in inputs:
        assert detect_format(path) in ("webrtc-internals", "rtcstats", "zoom-webhook", "zoom-csv", "teams")
    with pytest.raises(UnknownFormatError):
        detect_format(REALDATA / "rtcstats/jitsi-rtcstats-server/google-standard-stats-sfu-result.json")


def test_reimport_gives_identical_events():
    first, _ = run("rtcstats/jitsi-rtcstats-server/google-standard-stats-p2p")
    second, _ = run("rtcstats/jitsi-rtcstats-server/google-standard-stats-p2p")
    assert first == second


# ---- webrtc-internals -------------------------------------------------------------------------

@pytest.mark.parametrize("folder, pcs, series, max_samples, start, end", [
    ("guilospanck-webrtc-stats-analyzer", 2, 891, 59, "2026-02-03T09:14:50", "2026-02-03T09:15:47"),
    ("xuyu130-webrtc", 2, 393, 20, "2026-05-06T13:57:57", "2026-05-06T13:58:15"),
    ("staal0-mammotion-rtsp-bridge", 1, 373, 78, "2026-06-03T09:09:02", "2026-06-03T09:10:19"),
    ("comic-xr-CoMIC", 1, 701, 15, "2025-05-11T02:21:27", "2025-05-11T02:21:42"),
])
def test_webrtc_internals_dumps(folder, pcs, series, max_samples, start, end):
    events, summary = run(f"webrtc-internals/{folder}/webrtc_internals_dump.txt")
    assert summary.counts["peer_connections"] == pcs
    assert summary.counts["series"] == series
    assert summary.counts["max_series_samples"] == max_samples
    assert _iso(summary.source_first_ms) == start and _iso(summary.source_last_ms) == end
    kinds = types(events)
    assert kinds["PARTICIPANT_JOINED"] == 1 and kinds["PARTICIPANT_LEFT"] == 1  # one participant
    assert kinds["MEETING_STARTED"] == 1 and kinds["QUALITY_METRICS"] >= 1
    joined = next(e for e in events if e["eventType"] == "PARTICIPANT_JOINED")
    left = next(e for e in events if e["eventType"] == "PARTICIPANT_LEFT")
    assert _iso(joined["timestamp"]) == start and _iso(left["timestamp"]) == end
    assert summary.participants == 1 and summary.meetings == 1


def test_webrtc_internals_without_remote_rtt_uses_candidate_pair():
    events, _ = run("webrtc-internals/staal0-mammotion-rtsp-bridge/webrtc_internals_dump.txt")
    quality = [e for e in events if e["eventType"] == "QUALITY_METRICS"]
    assert all("networkLatency" not in e["data"]["stats"]["estimated"] for e in quality)
    assert all(e["data"]["metrics"]["networkLatency"] > 0 for e in quality)


def test_google_meet_page_names_the_meeting():
    events, _ = run("webrtc-internals/comic-xr-CoMIC/webrtc_internals_dump.txt")
    assert {e["meetingId"] for e in events} == {"webrtc:https://meet.google.com/kqd-wvbn-rtz"}


def test_same_session_in_two_formats_gets_the_same_ids():
    a, _ = run("webrtc-internals/guilospanck-webrtc-stats-analyzer/webrtc_internals_dump.txt")
    b, summary = run("rtcstats/guilospanck-webrtc-stats-analyzer/rtcstats_dump.txt")
    assert {e["meetingId"] for e in a} == {e["meetingId"] for e in b}
    assert {e.get("userId") for e in a} == {e.get("userId") for e in b}
    assert summary.counts["getstats"] == 117 and summary.counts["peer_connections"] == 2
    assert _iso(summary.source_first_ms) == "2026-02-03T09:14:50"
    assert _iso(summary.source_last_ms) == "2026-02-03T09:15:49"


# ---- rtcstats ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, getstats, pcs, start, end", [
    ("google-standard-stats-sfu", 34, 1, "2020-11-12T16:29:51", "2020-11-12T16:30:57"),
    ("google-standard-stats-p2p", 81, 2, "2020-11-12T16:13:20", "2020-11-12T16:15:01"),
])
def test_jitsi_client_dumps(name, getstats, pcs, start, end):
    events, summary = run(f"rtcstats/jitsi-rtcstats-server/{name}")
    assert summary.counts["getstats"] == getstats and summary.counts["peer_connections"] == pcs
    assert _iso(summary.source_first_ms) == start and _iso(summary.source_last_ms) == end
    # the spliced connectionInfo line (2022-03-14) does not move the session
    assert all(_iso(e["timestamp"]).startswith("2020-11-12") for e in events)
    assert types(events)["PARTICIPANT_JOINED"] == 1
    assert sum(e["data"]["stats"]["samples"] for e in events if e["eventType"] == "QUALITY_METRICS") == getstats


def test_jitsi_legacy_and_failed_dumps():
    events, summary = run("rtcstats/jitsi-rtcstats-server/google-legacy-stats-p2p")
    assert summary.counts["getstats"] == 122 and summary.counts["peer_connections"] == 2
    assert "2020-11-12T16:40:38" <= _iso(summary.source_first_ms)
    assert _iso(summary.source_last_ms) == "2020-11-12T16:43:38"
    assert all(e["data"]["metrics"]["networkLatency"] > 0
               for e in events if e["eventType"] == "QUALITY_METRICS")
    events, summary = run("rtcstats/jitsi-rtcstats-server/chrome-standard-pc-failed")
    assert summary.counts["getstats"] == 19 and summary.counts["peer_connections"] == 3
    assert "2022-03-14T13:39:24" <= _iso(summary.source_first_ms)
    assert _iso(summary.source_last_ms) == "2022-03-14T13:41:12"
    joined = next(e for e in events if e["eventType"] == "PARTICIPANT_JOINED")
    assert joined["userId"] == "jitsi:bf715c66"  # the endpoint id names the participant
    assert joined["data"]["userName"] != "Lesly-U1W"  # display names are pseudonymised


def test_sfu_dump_agrees_with_its_oracle():
    events, _ = run("rtcstats/jitsi-rtcstats-server/google-standard-stats-sfu")
    _need_realdata()
    oracle = json.loads((REALDATA / "rtcstats/jitsi-rtcstats-server/google-standard-stats-sfu-result.json").read_text())
    features = oracle["expectedExtractData"]["features"]
    pc = features["aggregates"]["PC_0"]
    quality = [e for e in events if e["eventType"] == "QUALITY_METRICS"]
    samples = sum(e["data"]["stats"]["samples"] for e in quality)
    assert samples == features["metrics"]["statsRequestCount"]
    received = sum(e["data"]["stats"]["packetsReceived"] for e in quality)
    lost = sum(e["data"]["stats"]["packetsLost"] for e in quality)
    assert received == pc["trackAggregates"]["totalPacketsReceived"]
    assert lost == pc["trackAggregates"]["totalReceivedPacketsLost"]
    assert round(100 * lost / (received + lost), 2) == pc["trackAggregates"]["receivedPacketsLostPct"]
    weighted = sum(e["data"]["metrics"]["networkLatency"] * e["data"]["stats"]["rttSamples"] for e in quality)
    mean_rtt_s = weighted / sum(e["data"]["stats"]["rttSamples"] for e in quality) / 1000
    assert round(mean_rtt_s, 2) == pc["transportAggregates"]["meanRtt"]
    left = next(e for e in events if e["eventType"] == "PARTICIPANT_LEFT")
    assert left["timestamp"] == features["sessionEndTime"]
    assert {e["data"].get("region") for e in quality} == {oracle["expectedRedshiftData"]["meetingRecord"]["region"]}


def test_jicofo_server_dump():
    events, summary = run("rtcstats/jitsi-rtcstats-server/jicofo-sample")
    assert summary.counts["identity"] == 5 and summary.counts["stats_entries"] == 558
    assert summary.counts["bridge_stress_samples"] == 483 and summary.counts["log_batches"] == 8
    assert _iso(summary.source_first_ms) == "2024-02-11T17:06:07"
    assert _iso(summary.source_last_ms) == "2024-02-11T18:37:37"
    joins = [e for e in events if e["eventType"] == "PARTICIPANT_JOINED"]
    assert {e["userId"] for e in joins} == {"jitsi:a383a707", "jitsi:577d9e62", "jitsi:a83f0d00",
                                            "jitsi:700b2e5a", "jitsi:d3f6943d"}
    assert sorted(_iso(e["timestamp"])[11:] for e in joins) == [
        "17:05:58", "17:05:58", "17:06:41", "17:08:48", "17:34:05"]
    leaves = [e for e in events if e["eventType"] == "PARTICIPANT_LEFT"]
    assert sorted(_iso(e["timestamp"])[11:] for e in leaves) == ["18:18:42", "18:28:02"]
    assert {e["meetingId"] for e in events} == {"jitsi:87ebe266-fbac-4aa8-811b-6e97b621bf3b"}
    assert all("@" not in (e["data"].get("userName") or "") for e in events)


# ---- Zoom -------------------------------------------------------------------------------------

def test_zoom_webhook_files_share_join_state():
    _need_realdata()
    folder = REALDATA / "zoom-webhook/Mrkr1sher-Attendify"
    options = ImportOptions(pseudonym_key=KEY, state=MemoryJoinStateStore())
    events = []
    for name in ("meeting.started.json", "meeting.participant_joined.json",
                 "meeting.participant_left.json", "meeting.ended.json",
                 "zoom_webhook_request.json", "zoom_webhook_request.txt"):
        events += list(iter_events(folder / name, options=options))
    by_type = {}
    for e in events:
        by_type.setdefault(e["eventType"], []).append(e)
    assert by_type["PARTICIPANT_LEFT"][0]["data"]["duration"] == 6
    ended = {e["meetingId"]: e["data"] for e in by_type["MEETING_ENDED"]}
    assert ended["zoom:G2GEjS7mTkeswCueV4bKzw=="]["duration"] == 50  # not Zoom's duration 0
    assert ended["zoom:G2GEjS7mTkeswCueV4bKzw=="]["totalParticipants"] == 1
    assert ended["zoom:N7Yz1ZGtTQWQ0cUJszu65w=="]["duration"] == 4
    assert len(by_type["PARTICIPANT_JOINED"]) == 1 and len(by_type["MEETING_STARTED"]) == 1
    # the host's leave in the .txt has no join anywhere: skipped with a reason
    assert len(options.summary.skipped) == 1
    path, line, reason = options.summary.skipped[0]
    assert path.endswith("zoom_webhook_request.txt") and "without a recorded participant_joined" in reason
    assert options.summary.meetings == 2  # two instances of one personal room id


def test_zoom_participants_csv():
    events, summary = run("zoom-participants-csv/Talha-Altair-latepoints-APP/zoom1.csv")
    assert summary.counts["rows"] == 74
    kinds = types(events)
    assert kinds["PARTICIPANT_JOINED"] == 74 and kinds["PARTICIPANT_LEFT"] == 74
    # 10 emails + 14 names without email (renamed "janani p (VENKATASUBRAMANIAN PALANISAMY)"
    # is the original name; "tanu"/"Tanu" one person), counted by hand from the file
    assert summary.participants == 24
    assert _iso(summary.source_first_ms) == "2021-04-23T04:09:57"
    assert _iso(summary.source_last_ms) == "2021-04-23T11:43:06"
    short = [e for e in events if e["eventType"] == "PARTICIPANT_LEFT" and e["data"]["duration"] <= 60]
    assert len(short) == 33
    ended = next(e for e in events if e["eventType"] == "MEETING_ENDED")
    assert ended["data"]["totalParticipants"] == 24
    assert ended["data"]["duration"] == 7 * 3600 + 33 * 60 + 9  # 04:09:57 -> 11:43:06


# ---- Teams ------------------------------------------------------------------------------------

@pytest.mark.parametrize("relative, rows, joins, leaves, people, start, end", [
    ("dominikhoebert-Teams-Attendance-Klassenbuch-Writer/meetingAttendanceList.csv",
     38, 19, 19, 5, "2020-12-11T12:27:24", "2020-12-11T15:59:01"),
    ("gspahlin-MS_Teams_attendance_formatter/meetingAttendanceList.csv",
     57, 38, 19, 38, "2020-11-04T09:50:12", "2020-11-04T10:07:17"),
    ("hamonangann-presence-script/meetingAttendanceReport.csv",
     69, 69, 69, 60, "2022-04-13T07:56:32", "2022-04-13T09:38:51"),
])
def test_teams_exports(relative, rows, joins, leaves, people, start, end):
    events, summary = run("teams-attendance-csv/" + relative)
    assert summary.counts["rows"] == rows
    kinds = types(events)
    assert kinds["PARTICIPANT_JOINED"] == joins and kinds["PARTICIPANT_LEFT"] == leaves
    assert summary.participants == people
    assert _iso(summary.source_first_ms) == start and _iso(summary.source_last_ms) == end
    assert summary.skipped == []
    started = next(e for e in events if e["eventType"] == "MEETING_STARTED")
    ended = next(e for e in events if e["eventType"] == "MEETING_ENDED")
    assert _iso(started["timestamp"]) == start and _iso(ended["timestamp"]) == end
