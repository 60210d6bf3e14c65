"""Unit tests of the pure parts: time parameters, buckets in zones (half-hour, DST), figures, CSV."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from dashboard.timerange import (ParamError, build_search, iso_to_local_input, local_input_to_iso, parse_instant,
                                 parse_query, parse_search, quantize)
from queries.pages.buckets import DAY, HOUR, Bucketing, choose_step, local_day_start_ms, offset_segments

NOW = 1_767_571_200_000 + 12 * HOUR + 1234  # 2026-01-05T12:00:01.234Z


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_default_range_is_24h_ending_at_quantized_now():
    q = parse_query({}, NOW, 5000)
    assert q.to_ms == quantize(NOW, 5000) == NOW - 1234 + 5000
    assert q.to_ms - q.from_ms == 24 * HOUR and q.range_key == "24h" and q.tz == "UTC"
    assert q.previous() == (q.from_ms - 24 * HOUR, q.from_ms)


@pytest.mark.parametrize("key,span", [("1h", HOUR), ("24h", 24 * HOUR), ("7d", 7 * DAY), ("30d", 30 * DAY)])
def test_relative_ranges(key, span):
    q = parse_query({"range": key}, NOW)
    assert q.to_ms == NOW and q.span_ms == span


def test_quantized_now_is_shared_within_a_quantum():
    a = parse_query({"range": "1h"}, NOW, 5000)
    b = parse_query({"range": "1h"}, NOW + 3000, 5000)
    assert a == b
    assert parse_query({"range": "1h"}, NOW + 4000, 5000) != parse_query({"range": "1h"}, NOW, 1000)


def test_iso_without_zone_is_utc_and_to_defaults_to_now():
    q = parse_query({"from": "2026-01-05T10:00:00"}, NOW)
    assert q.from_ms == ms("2026-01-05T10:00:00+00:00") and q.to_ms == NOW and q.range_key is None
    q = parse_query({"from": "2026-01-05T10:00:00+05:30", "to": "2026-01-05T11:00:00Z"}, NOW)
    assert q.from_ms == ms("2026-01-05T04:30:00+00:00") and q.to_ms == ms("2026-01-05T11:00:00+00:00")
    # an unencoded "+" in a URL arrives as a space
    assert parse_instant("2026-01-05T10:00:00 05:30", "from") == ms("2026-01-05T04:30:00+00:00")
    assert parse_instant("2026-01-05", "from") == ms("2026-01-05T00:00:00+00:00")


@pytest.mark.parametrize("args,param", [
    ({"from": "2026-01-05T10:00:00Z", "to": "2026-01-05T10:00:00Z"}, "from"),
    ({"from": "2026-01-05T11:00:00Z", "to": "2026-01-05T10:00:00Z"}, "from"),
    ({"range": "24h", "from": "2026-01-05T10:00:00Z"}, "range"),
    ({"range": "2h"}, "range"),
    ({"to": "2026-01-05T10:00:00Z"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-01-05T10:00:00Z", "to": "2026-13-05T10:00:00Z"}, "to"),
    ({"tz": "Mars/Olympus"}, "tz"),
    ({"tz": "../../etc/passwd"}, "tz"),
    ({"region": ["x" * 300]}, "region"),
    ({"range": ["1h", "24h"]}, "range"),
])
def test_bad_parameters_name_the_parameter(args, param):
    with pytest.raises(ParamError) as info:
        parse_query(args, NOW)
    assert info.value.param == param
    assert info.value.as_json()["parameter"] == param and info.value.problem


def test_filters_repeat_or_comma_and_are_canonical():
    q = parse_search("?region=eu-west,us-east&region=ap-south&platform=zoom", NOW)
    assert q.filters.regions == ("ap-south", "eu-west", "us-east") and q.filters.platforms == ("zoom",)
    same = parse_search("?platform=zoom&region=us-east&region=eu-west,ap-south", NOW)
    assert q.canonical() == same.canonical()


def test_url_round_trip():
    q = parse_search("?from=2026-01-05T00:00:00Z&to=2026-01-06T00:00:00Z&tz=Asia/Kolkata&meeting_type=webinar", NOW)
    again = parse_search(q.query_string(), NOW)
    assert again == q
    search = build_search("custom", local_input_to_iso("2026-03-29T00:00", "Europe/Berlin"),
                          local_input_to_iso("2026-03-30T00:00", "Europe/Berlin"), "Europe/Berlin",
                          [("region", ["b", "a"])])
    q = parse_search(search, NOW)
    assert q.from_ms == ms("2026-03-28T23:00:00+00:00") and q.to_ms == ms("2026-03-29T22:00:00+00:00")
    assert q.filters.regions == ("a", "b")
    assert iso_to_local_input(q.from_ms, "Europe/Berlin") == "2026-03-29T00:00"
    assert build_search("7d", None, None, "UTC", []) == "?range=7d"


def test_choose_step():
    assert choose_step(0, HOUR) == "minute"
    assert choose_step(0, 6 * HOUR) == "5min"
    assert choose_step(0, 24 * HOUR) == "hour"
    assert choose_step(0, 7 * DAY) == "hour"
    assert choose_step(0, 30 * DAY) == "day"


def test_half_hour_zone_hour_buckets_start_at_half_past_utc():
    start = ms("2026-01-05T00:00:00+00:00")
    b = Bucketing.for_range(start, start + 24 * HOUR, "Asia/Kolkata")
    assert b.step == "hour"
    starts = b.starts()
    # local hours of Kolkata (+05:30) begin at :30 UTC
    assert all(datetime.fromtimestamp(s / 1000, ZoneInfo("Asia/Kolkata")).minute == 0 for s in starts)
    assert starts[0] == ms("2026-01-04T23:30:00+00:00") and len(starts) == 25
    assert b.bucket_of(ms("2026-01-05T00:29:59+00:00")) == starts[0]
    assert b.bucket_of(ms("2026-01-05T00:30:00+00:00")) == starts[1]


def test_berlin_dst_day_buckets_are_local_days_of_23_hours():
    start = ms("2026-03-27T00:00:00+01:00")
    end = ms("2026-04-02T00:00:00+02:00")
    b = Bucketing.for_range(start, end, "Europe/Berlin", step="day")
    starts = b.starts()
    local = [datetime.fromtimestamp(s / 1000, ZoneInfo("Europe/Berlin")) for s in starts]
    assert [d.strftime("%m-%d %H:%M") for d in local] == [
        "03-27 00:00", "03-28 00:00", "03-29 00:00", "03-30 00:00", "03-31 00:00", "04-01 00:00"]
    gaps = [(b2 - b1) // HOUR for b1, b2 in zip(starts, starts[1:])]
    assert gaps == [24, 24, 23, 24, 24]
    seg_starts, offsets = offset_segments(ZoneInfo("Europe/Berlin"), start, end)
    assert seg_starts[1] == ms("2026-03-29T01:00:00+00:00") and offsets == [HOUR, 2 * HOUR]
    # an event just before and just after the change, both on local 29 March
    day29 = starts[2]
    assert b.bucket_of(ms("2026-03-29T00:59:59+00:00")) == day29
    assert b.bucket_of(ms("2026-03-29T21:59:59+00:00")) == day29
    assert b.bucket_of(ms("2026-03-29T22:00:00+00:00")) == starts[3]
    assert local_day_start_ms(ZoneInfo("Europe/Berlin"), 20541) == ms("2026-03-29T00:00:00+01:00")


def test_berlin_autumn_hour_buckets_keep_the_repeated_hour_apart():
    start = ms("2026-10-24T22:00:00+00:00")
    b = Bucketing.for_range(start, start + 24 * HOUR, "Europe/Berlin")
    starts = b.starts()
    assert len(starts) == 24 and len(set(starts)) == 24
    assert all(b2 - b1 == HOUR for b1, b2 in zip(starts, starts[1:]))


def test_fill_gaps():
    b = Bucketing.for_range(0, 3 * HOUR, "UTC", step="hour")
    rows = b.fill({HOUR: {"n": 5}}, {"n": 0})
    assert rows == [{"t": 0, "n": 0}, {"t": HOUR, "n": 5}, {"t": 2 * HOUR, "n": 0}]


def test_figures_say_no_data_instead_of_an_empty_axis():
    from dashboard.figures import NO_DATA, time_series

    fig = time_series([{"t": 0, "n": 0}], "UTC", [("n", "n")], "rev")
    assert fig.layout.annotations[0].text == NO_DATA
    assert fig.layout.xaxis.visible is False and fig.layout.uirevision == "rev"
    fig = time_series([{"t": 0, "n": 1}, {"t": HOUR, "n": 2}], "Asia/Kolkata", [("n", "n"), ("m", "m", "y2")], "rev")
    assert fig.data[0].x == ("1970-01-01 05:30", "1970-01-01 06:30")
    assert fig.layout.yaxis2.side == "right" and fig.layout.uirevision == "rev"


def test_csv_rows():
    from dashboard.page import rows_to_csv

    text = rows_to_csv([{"a": 1, "b": None}, {"a": 2, "c": "x,y"}])
    assert text.splitlines() == ["a,b,c", "1,,", '2,,"x,y"']
    assert rows_to_csv([]) == ""


def test_kpi_change_is_computed():
    from dashboard.pages.overview import change, kpi_rows

    assert change(150, 100) == 50.0 and change(1, 0) is None and change(None, 3) is None
    rows = kpi_rows({"meetings": 4, "quality": {"avg_mos": 4.0}}, {"meetings": 2, "quality": {"avg_mos": None}})
    by = {r["kpi"]: r for r in rows}
    assert by["meetings"]["change_pct"] == 100.0 and by["quality.avg_mos"]["change_pct"] is None


def test_iso_utc_formatting():
    from dashboard.timerange import iso_utc

    assert iso_utc(0) == "1970-01-01T00:00:00Z" and iso_utc(1) == "1970-01-01T00:00:00.001Z"
    assert datetime.fromisoformat(iso_utc(NOW).replace("Z", "+00:00")) == datetime.fromtimestamp(NOW / 1000, timezone.utc)
