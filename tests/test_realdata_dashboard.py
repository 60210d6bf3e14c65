"""Issue 4, must-show 1 (second half): every real file, imported, shows the right meeting and
participant counts on the dashboard's Overview (through its API) on both engines.

Expected counts are read off ../shared/realdata/SOURCES.md by hand (people per file); the Zoom CSV's
24 people are 10 emails plus 14 names without one, counted in the file (test_importers_realdata).
"""
from __future__ import annotations

import orjson
import pytest

from conftest import truncate
from dashboard.app import create_app
from ingest import importers
from ingest.pipeline import store_messages
from meetpulse.settings import Settings
from cli_helpers import iso

EXPECTED = [  # (files under the real-data folder, meetings with a start, distinct participants)
    (["zoom-participants-csv/Talha-Altair-latepoints-APP/zoom1.csv"], 1, 24),
    (["teams-attendance-csv/dominikhoebert-Teams-Attendance-Klassenbuch-Writer/meetingAttendanceList.csv"], 1, 5),
    (["teams-attendance-csv/gspahlin-MS_Teams_attendance_formatter/meetingAttendanceList.csv"], 1, 38),
    (["teams-attendance-csv/hamonangann-presence-script/meetingAttendanceReport.csv"], 1, 60),
    (["zoom-webhook/Mrkr1sher-Attendify/meeting.started.json",
      "zoom-webhook/Mrkr1sher-Attendify/meeting.participant_joined.json",
      "zoom-webhook/Mrkr1sher-Attendify/meeting.participant_left.json",
      "zoom-webhook/Mrkr1sher-Attendify/meeting.ended.json",
      "zoom-webhook/Mrkr1sher-Attendify/zoom_webhook_request.json",
      "zoom-webhook/Mrkr1sher-Attendify/zoom_webhook_request.txt"], 1, 1),
    (["webrtc-internals/comic-xr-CoMIC/webrtc_internals_dump.txt"], 1, 1),
    (["webrtc-internals/guilospanck-webrtc-stats-analyzer/webrtc_internals_dump.txt"], 1, 1),
    (["webrtc-internals/staal0-mammotion-rtsp-bridge/webrtc_internals_dump.txt"], 1, 1),
    (["webrtc-internals/xuyu130-webrtc/webrtc_internals_dump.txt"], 1, 1),
    (["rtcstats/guilospanck-webrtc-stats-analyzer/rtcstats_dump.txt"], 1, 1),
    (["rtcstats/jitsi-rtcstats-server/google-standard-stats-sfu"], 1, 1),
    (["rtcstats/jitsi-rtcstats-server/google-standard-stats-p2p"], 1, 1),
    (["rtcstats/jitsi-rtcstats-server/google-legacy-stats-p2p"], 1, 1),
    (["rtcstats/jitsi-rtcstats-server/chrome-standard-pc-failed"], 1, 1),
    (["rtcstats/jitsi-rtcstats-server/jicofo-sample"], 1, 5),
]


def test_every_data_file_is_covered(realdata):
    listed = {f for files, _m, _p in EXPECTED for f in files}
    present = {str(p.relative_to(realdata)) for p in realdata.rglob("*")
               if p.is_file() and p.name != "SOURCES.md" and not p.name.endswith("-result.json")}
    assert present == listed


@pytest.mark.parametrize("files, meetings, participants", EXPECTED, ids=lambda v: v[0].split("/")[0]
                         if isinstance(v, list) else str(v))
def test_imported_file_shows_on_the_overview(engine, realdata, files, meetings, participants):
    truncate(engine)
    options = importers.ImportOptions(pseudonym_key=b"test-key")
    events = [m for f in files for m in importers.iter_events(realdata / f, options=options)]
    store_messages(engine, None, [orjson.dumps(m) for m in events])
    client = create_app(Settings(), lambda: engine, None).server.test_client()
    # the whole span of the file: from its first event to just after its last
    start, end = min(m["timestamp"] for m in events), max(m["timestamp"] for m in events) + 1
    query = f"?from={iso(start)}&to={iso(end)}"
    body = client.get("/api/v1/analytics/overview" + query).get_json()
    assert (body["meetings"], body["participants"]) == (meetings, participants)
    listed = client.get("/api/v1/meetings" + query).get_json()
    assert listed["total"] >= meetings  # every meeting is listed, with quality samples or not

