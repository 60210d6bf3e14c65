"""Teams attendance exports in their variants (encodings, separators, languages, date orders,
sections) on invented fixtures; expected values worked out by hand from the fixture text.
The multi-section report, UTF-16BE and the German/French/Portuguese/Indonesian files have no
real sample: they follow Microsoft's documented layout."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.contract import Event, decode
from ingest.importers import ImportOptions, detect_format, iter_events
from ingest.importers.dates import DateOrderError

FIX = Path(__file__).parent / "fixtures" / "importers"


def run(name, **kwargs):
    options = ImportOptions(pseudonym_key=b"fixture-key", **kwargs)
    assert detect_format(FIX / name) == "teams"
    events = list(iter_events(FIX / name, options=options))
    for event in events:
        assert isinstance(decode(json.dumps(event).encode(), 4_102_444_800_000), Event), event
    return events, options.summary


def shape(events):
    return [(e["eventType"], e["timestamp"], e["data"].get("duration")) for e in events]


def test_old_list_utf16le_tab_dayfirst_by_24h_clock():
    events, summary = run("teams_list_utf16le.csv")
    base = 1612339200000  # 3 Feb 2021 08:00 UTC (03/02 day-first: no field > 12, no AM/PM)
    assert shape(events) == [
        ("MEETING_STARTED", base, None),
        ("PARTICIPANT_JOINED", base, None),
        ("PARTICIPANT_LEFT", base + 1800_000, 1800.0),
        ("PARTICIPANT_JOINED", base + 3600_000, None),
        ("PARTICIPANT_LEFT", base + 4500_000, 900.0),
        ("PARTICIPANT_JOINED", base + 300_000, None),
        ("PARTICIPANT_JOINED", base + 360_000, None),
        ("PARTICIPANT_LEFT", base + 4800_000, 4440.0),
        ("MEETING_ENDED", base + 4800_000, 4800.0),
    ]
    assert summary.participants == 3 and events[-1]["data"]["totalParticipants"] == 3
    assert "Müller" not in json.dumps(events, ensure_ascii=False)


def test_monthfirst_override():
    events, _ = run("teams_list_utf16le.csv", dayfirst=False)
    assert events[0]["timestamp"] == 1614672000000  # 2 March 2021 08:00 UTC


def test_old_list_utf8_bom_quoted_joined_before():
    events, summary = run("teams_list_utf8bom.csv")
    base = 1615107600000  # 7 March 2021 09:00 UTC (AM/PM -> month-first)
    assert shape(events) == [
        ("MEETING_STARTED", base, None),
        ("PARTICIPANT_JOINED", base, None),
        ("PARTICIPANT_JOINED", base, None),  # "Joined before" at the exporter's join time
        ("PARTICIPANT_LEFT", base + 2730_000, 2730.0),
        ("PARTICIPANT_JOINED", base + 3720_000, None),
        ("PARTICIPANT_LEFT", base + 14700_000, 14700.0),  # 1:05 PM
        ("MEETING_ENDED", base + 14760_000, 14760.0),
    ]
    assert summary.skipped == [(str(FIX / "teams_list_utf8bom.csv"), 7,
                                "Left without an earlier Joined for this person")]
    assert events[-1]["data"]["totalParticipants"] == 3


def test_session_table_semicolon_indonesian_header():
    events, summary = run("teams_sessions_semicolon.csv")
    base = 1653051600000  # 20 May 2022 13:00 UTC
    durations = [e["data"]["duration"] for e in events if e["eventType"] == "PARTICIPANT_LEFT"]
    assert durations == [3720.0, 720.0, 10.0, 1800.0]
    assert events[0]["timestamp"] == base
    assert events[-1]["data"] == {"platform": "teams", "duration": 3720.0, "totalParticipants": 3}
    users = [e["userId"] for e in events if e["eventType"] == "PARTICIPANT_JOINED"]
    assert users[0] == users[2] and users[0] != users[1]  # same email rejoined; all-caps other person
    assert summary.participants == 3


def test_multi_section_report_uses_per_session_section():
    events, summary = run("teams_report_en_utf16le.csv")
    start = 1685628000000  # 1 June 2023 14:00 UTC ("6/1/23, 2:00:00 PM")
    assert events[0]["eventType"] == "MEETING_STARTED" and events[0]["timestamp"] == start
    assert events[0]["meetingId"].startswith("teams:20230601T140000Z-")  # start time + title hash
    durations = [e["data"]["duration"] for e in events if e["eventType"] == "PARTICIPANT_LEFT"]
    assert durations == [1200.0, 1800.0, 1800.0]
    assert events[-1]["timestamp"] == start + 3600_000
    assert events[-1]["data"]["totalParticipants"] == 2
    assert summary.counts["rows"] == 3


def test_german_report_utf16be_no_bom_per_person_section_and_timezone():
    events, _ = run("teams_report_de_utf16be.csv", tz="Europe/Berlin")
    start = 1685948400000  # 5 June 2023 09:00 CEST = 07:00 UTC
    assert shape(events) == [
        ("MEETING_STARTED", start, None),
        ("PARTICIPANT_JOINED", start, None),
        ("PARTICIPANT_LEFT", start + 3600_000, 3600.0),
        ("PARTICIPANT_JOINED", start + 900_000, None),
        ("PARTICIPANT_LEFT", start + 2700_000, 1800.0),
        ("MEETING_ENDED", start + 3600_000, 3600.0),
    ]
    utc, _ = run("teams_report_de_utf16be.csv")
    assert utc[0]["timestamp"] == start + 2 * 3600_000


@pytest.mark.parametrize("name, first, joins, leaves", [
    ("teams_list_fr.csv", 1631613600000, 1, 1),  # 14/09/2021 10:00 (first field > 12)
    ("teams_list_pt.csv", 1646229600000, 2, 1),  # 02/03/2022 14:00, day-first (24 h clock)
    ("teams_list_id_utf16le_nobom.csv", 1643720400000, 1, 1),  # 1/2/2022 13:00 -> 1 Feb
])
def test_other_languages(name, first, joins, leaves):
    events, _ = run(name)
    kinds = [e["eventType"] for e in events]
    assert events[0]["timestamp"] == first
    assert kinds.count("PARTICIPANT_JOINED") == joins and kinds.count("PARTICIPANT_LEFT") == leaves


def test_conflicting_date_order_needs_an_override(tmp_path):
    path = tmp_path / "conflict.csv"
    path.write_text("Full Name,User Action,Timestamp\nA B,Joined,13/01/2021 10:00:00\n"
                    "A B,Left,01/13/2021 11:00:00\n", encoding="utf-8")
    with pytest.raises(DateOrderError):
        list(iter_events(path, options=ImportOptions(pseudonym_key=b"k")))
    options = ImportOptions(pseudonym_key=b"k", dayfirst=True)
    events = list(iter_events(path, options=options))
    assert events[1]["timestamp"] == 1610532000000  # 13 Jan 2021 10:00
    assert options.summary.skipped[0][1] == 3  # 01/13 is not a date day-first
