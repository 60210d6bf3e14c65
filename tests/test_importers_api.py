"""Package-level behaviour: format detection, unknown files, options, pseudonyms, streaming."""
from __future__ import annotations

import inspect
import tracemalloc
from pathlib import Path

import pytest

from ingest.importers import FORMATS, ImportOptions, UnknownFormatError, detect_format, iter_events

FIX = Path(__file__).parent / "fixtures" / "importers"


def test_formats_and_detection():
    assert FORMATS == ("webrtc-internals", "rtcstats", "zoom-webhook", "zoom-csv", "teams")
    expected = {
        "webrtc_internals_typed.txt": "webrtc-internals", "webrtc_internals_untyped.txt": "webrtc-internals",
        "rtcstats_jitsi_client": "rtcstats", "rtcstats_chrome_dump.txt": "rtcstats", "jicofo_dump": "rtcstats",
        "zoom_hooks.jsonl": "zoom-webhook", "zoom_ann_left.json": "zoom-webhook",
        "zoom_other_instance.txt": "zoom-webhook", "zoom_participants.csv": "zoom-csv",
        "teams_list_utf16le.csv": "teams", "teams_report_de_utf16be.csv": "teams",
    }
    for name, fmt in expected.items():
        assert detect_format(FIX / name) == fmt, name


@pytest.mark.parametrize("name", ["not_an_export.txt", "unrelated.csv"])
def test_unknown_format_is_one_clear_line(name):
    with pytest.raises(UnknownFormatError) as error:
        list(iter_events(FIX / name, options=ImportOptions(pseudonym_key=b"k")))
    message = str(error.value)
    assert "\n" not in message
    assert all(fmt in message for fmt in FORMATS)


def test_key_required_unless_names_are_kept():
    with pytest.raises(ValueError):
        ImportOptions()
    ImportOptions(keep_names=True)


def test_pseudonyms_stable_per_key_and_hidden():
    a = list(iter_events(FIX / "teams_list_utf8bom.csv", options=ImportOptions(pseudonym_key=b"one")))
    b = list(iter_events(FIX / "teams_list_utf8bom.csv", options=ImportOptions(pseudonym_key=b"one")))
    c = list(iter_events(FIX / "teams_list_utf8bom.csv", options=ImportOptions(pseudonym_key=b"two")))
    assert a == b
    names = lambda events: [e["data"].get("userName") for e in events]
    assert names(a) != names(c)
    assert "Ava" not in repr(a) and "Stone" not in repr(a)


def test_iter_events_is_lazy():
    assert inspect.isgenerator(iter_events(FIX / "zoom_participants.csv",
                                           options=ImportOptions(pseudonym_key=b"k")))


def test_large_csv_in_bounded_memory(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\r\n")
        for i in range(10000):
            minute = i % 50
            out.write(f"Person {i % 200},,05/14/2022 09:{minute:02d}:00 AM,05/14/2022 10:{minute:02d}:00 AM,60,Yes\r\n")
    options = ImportOptions(pseudonym_key=b"k")
    tracemalloc.start()
    count = sum(1 for _ in iter_events(path, options=options))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 2 * 10000 + 2
    assert options.summary.participants == 200
    assert peak < 1024 * 1024  # the file is 0.8 MB; its 20002 events would take about 20 MB
