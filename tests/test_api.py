"""The REST API on the pipeline fixture, on both ClickHouse engines: same numbers as `compute_stats`,
`meetpulse stats` and the plain-Python oracle; parameters, errors, paging, cache and the live reads.
"""
from __future__ import annotations

import math
import time

import pytest

from dashboard.app import create_app
from dashboard.timerange import iso_utc
from fixtures.pipeline_fixture import BASE_MS, NAMED_RANGES, build_fixture, with_kafka_ts
from ingest.pipeline import store_messages
from meetpulse.settings import Settings
from oracle import expected_stats
from queries.engine import EngineUnavailable
from queries.filters import Filters
from queries.stats import STATS_KEYS, compute_stats
from conftest import truncate

KAFKA_TS = BASE_MS + 3 * 86_400_000
H = 3_600_000


def close(a, b, path="") -> None:
    """Integers and None exactly; floats to a relative 1e-9; dicts key by key (same keys)."""
    if isinstance(a, dict) or isinstance(b, dict):
        assert isinstance(a, dict) and isinstance(b, dict), f"{path}: {a!r} vs {b!r}"
        assert set(a) == set(b), f"{path}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif a is None or b is None:
        assert a is None and b is None, f"{path}: {a!r} vs {b!r}"
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{path}: {a!r} vs {b!r}"
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} vs {b!r}"


@pytest.fixture(scope="module")
def raw_messages():
    return build_fixture()


@pytest.fixture(scope="module", params=["chdb", "server"])
def seeded(request, raw_messages):
    """One engine with the pipeline fixture stored through the ingest pipeline."""
    engine = request.getfixturevalue(f"{request.param}_engine")
    truncate(engine)
    store_messages(engine, None, raw_messages, kafka_ts_ms=KAFKA_TS)
    return engine


def make_app(engine_provider, redis_client=None, **settings):
    return create_app(Settings(**settings), engine_provider, redis_client)


@pytest.fixture(scope="module")
def client(seeded):
    app = make_app(lambda: seeded)
    return app.server.test_client()


def range_qs(f: int, t: int, **extra) -> str:
    parts = [f"from={iso_utc(f)}", f"to={iso_utc(t)}"] + [f"{k}={v}" for k, v in extra.items()]
    return "?" + "&".join(parts)


@pytest.mark.parametrize("name", sorted(NAMED_RANGES))
def test_overview_equals_stats_and_oracle(seeded, client, raw_messages, name):
    f, t = NAMED_RANGES[name]
    body = client.get("/api/v1/analytics/overview" + range_qs(f, t)).get_json()
    stats = compute_stats(seeded, f, t)
    oracle = expected_stats(with_kafka_ts(raw_messages, KAFKA_TS), f, t)
    api_stats = {k: body[k] for k in STATS_KEYS}
    close(api_stats, stats)
    close(api_stats, oracle)
    # the previous range of equal length, computed the same way
    pf, pt = f - (t - f), f
    close(body["previous"], compute_stats(seeded, pf, pt))
    close(body["previous"], expected_stats(with_kafka_ts(raw_messages, KAFKA_TS), pf, pt))
    # the series adds up to the totals it draws
    assert sum(b["sessions"] for b in body["series"]) == stats["sessions"]
    assert sum(body["quality_bands"].values()) == stats["quality"]["samples"]
    assert body["range"]["from_ms"] == f and body["range"]["to_ms"] == t


def test_cli_stats_agrees_with_the_api(request, seeded, client, raw_messages):
    """`meetpulse stats` in its own process (server engine: chDB allows one process per folder)."""
    if seeded.name != "server":
        # chDB's folder is held by this process, so `meetpulse stats` cannot open it from another one;
        # compare with the function the command prints instead
        for name in ("two_days", "cut"):
            f, t = NAMED_RANGES[name]
            body = client.get("/api/v1/analytics/overview" + range_qs(f, t)).get_json()
            close({k: body[k] for k in STATS_KEYS}, compute_stats(seeded, f, t))
        return
    from cli_helpers import env_with, stats_json

    server = request.getfixturevalue("clickhouse_server")
    env = env_with(CLICKHOUSE_URL=server.url("mp_test"))
    for name in ("two_days", "cut"):
        f, t = NAMED_RANGES[name]
        cli = stats_json(env, f, t)
        body = client.get("/api/v1/analytics/overview" + range_qs(f, t)).get_json()
        close({k: body[k] for k in STATS_KEYS}, cli)


def test_each_page_endpoint_is_consistent_with_the_stats(seeded, client):
    f, t = NAMED_RANGES["two_days"]
    stats = compute_stats(seeded, f, t)
    q = client.get("/api/v1/analytics/quality" + range_qs(f, t)).get_json()
    assert sum(b["samples"] for b in q["mos_histogram"]) == stats["quality"]["samples"]
    assert sum(b["samples"] for b in q["series"]) == stats["quality"]["samples"]
    assert sum(r["samples"] for r in q["by_region"]) == stats["quality"]["samples"]
    assert q["poor_audio"]["samples"] == stats["quality"]["samples"]
    close(q["poor_audio"]["poor_audio_pct"], stats["quality"]["poor_audio_pct"])
    assert q["poor_audio"]["poor"] <= q["poor_audio"]["by_latency"] + q["poor_audio"]["by_loss"] + q["poor_audio"]["by_jitter"]
    mos = [m["avg_mos"] for m in q["worst_meetings"]]
    assert mos == sorted(mos) and len(mos) == 10

    e = client.get("/api/v1/analytics/engagement" + range_qs(f, t)).get_json()
    assert e["rejoins"]["sessions"] == stats["sessions"]
    assert sum(r["users"] for r in e["meetings_per_user"]) == stats["participants"]
    close(e["minutes_per_user"]["total_minutes"], stats["participant_minutes"])
    assert sum(d["joins"] for d in e["devices"]["device_os"]) == stats["sessions"]
    assert sum(r["sessions"] for r in e["session_lengths"]) <= stats["sessions"]

    s = client.get("/api/v1/analytics/system" + range_qs(f, t)).get_json()
    assert sum(b["samples"] for b in s["client"]) == stats["quality"]["samples"]
    assert sum(r["messages"] for r in s["dead_letter_reasons"]) == stats["dead_lettered"]
    assert s["redis"].startswith("Redis not configured")


def test_half_hour_zone_buckets_in_the_api(client):
    f, t = NAMED_RANGES["two_days"]
    body = client.get("/api/v1/analytics/overview" + range_qs(f, f + 24 * H, tz="Asia/Kolkata")).get_json()
    assert body["range"]["tz"] == "Asia/Kolkata" and body["range"]["bucket"] == "hour"
    assert all((b["t"] - 30 * 60_000) % H == 0 for b in body["series"])


def test_filters_reach_the_numbers(seeded, client):
    f, t = NAMED_RANGES["two_days"]
    body = client.get("/api/v1/analytics/overview" + range_qs(f, t, region="eu-west", platform="zoom,teams")).get_json()
    close({k: body[k] for k in STATS_KEYS},
          compute_stats(seeded, f, t, Filters.of(["eu-west"], [], ["zoom", "teams"])))
    assert body["meetings"] < compute_stats(seeded, f, t)["meetings"]
    # a value is only ever a bound parameter: quotes are data, not SQL
    hostile = client.get("/api/v1/analytics/overview" + range_qs(f, t) + "&region=x'%20OR%201=1%20--").get_json()
    assert hostile["meetings"] == 0 and hostile["participants"] == 0


def test_meetings_paged_and_sorted(client):
    f, t = NAMED_RANGES["two_days"]
    first = client.get("/api/v1/meetings" + range_qs(f, t, page_size=7)).get_json()
    total = first["total"]
    assert total > 7 and first["pages"] == -(-total // 7)
    seen = []
    for page in range(1, first["pages"] + 1):
        seen += client.get("/api/v1/meetings" + range_qs(f, t, page_size=7, page=page)).get_json()["meetings"]
    assert len(seen) == total == len({m["meeting_id"] for m in seen})
    for column in ("avg_mos", "poor_pct", "avg_latency_ms", "avg_packet_loss_pct", "avg_audio_quality",
                   "samples", "participants"):
        for order in ("asc", "desc"):
            rows = client.get("/api/v1/meetings" + range_qs(f, t, sort=column, order=order, page_size=500)).get_json()
            sampled = [m[column] for m in rows["meetings"] if m["samples"]]
            assert sampled == sorted(sampled, reverse=order == "desc"), (column, order)
            # meetings without quality samples follow, whatever the order
            flags = [m["samples"] == 0 for m in rows["meetings"]]
            assert flags == sorted(flags), (column, order)
    worst = client.get("/api/v1/analytics/quality" + range_qs(f, t)).get_json()["worst_meetings"]
    assert [m["meeting_id"] for m in worst] == [m["meeting_id"] for m in
                                               client.get("/api/v1/meetings" + range_qs(f, t, page_size=10)).get_json()["meetings"]]


def test_meeting_detail_and_404(client):
    f, t = NAMED_RANGES["two_days"]
    worst = client.get("/api/v1/meetings" + range_qs(f, t, page_size=1, sort="samples", order="desc")).get_json()
    meeting = worst["meetings"][0]
    body = client.get(f"/api/v1/meetings/{meeting['meeting_id']}").get_json()
    assert body["meeting"]["meeting_id"] == meeting["meeting_id"]
    assert len(body["samples"]) >= meeting["samples"]
    assert {p["user_id"] for p in body["participants"]} >= {s["user_id"] for s in body["samples"]}
    levels = [p["participants"] for p in body["concurrency"]]
    assert levels[-1] == 0 and min(levels) >= 0
    missing = client.get("/api/v1/meetings/no-such-meeting")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


@pytest.mark.parametrize("qs,param", [
    ("?range=2h", "range"),
    ("?range=24h&from=2026-01-05T00:00:00Z", "range"),
    ("?from=2026-01-06T00:00:00Z&to=2026-01-05T00:00:00Z", "from"),
    ("?from=2026-01-05T00:00:00Z&to=2026-01-05T00:00:00Z", "from"),
    ("?from=notatime", "from"),
    ("?tz=Nowhere/City", "tz"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, qs, param):
    for path in ("/api/v1/analytics/overview", "/api/v1/analytics/quality", "/api/v1/meetings"):
        r = client.get(path + qs)
        assert r.status_code == 400, (path, qs)
        body = r.get_json()
        assert body["parameter"] == param and body["problem"] and body["error"] == "bad_parameter"


def test_bad_paging_parameters(client):
    assert client.get("/api/v1/meetings?sort=drop_table").get_json()["parameter"] == "sort"
    assert client.get("/api/v1/meetings?order=up").get_json()["parameter"] == "order"
    assert client.get("/api/v1/meetings?page=0").get_json()["parameter"] == "page"
    assert client.get("/api/v1/meetings?page_size=100000").get_json()["parameter"] == "page_size"


def test_clickhouse_down_is_503_and_recovers(seeded):
    state = {"down": True}

    def provider():
        if state["down"]:
            raise EngineUnavailable("ClickHouse server at 127.0.0.1:1 (CLICKHOUSE_URL) is unreachable")
        return seeded

    c = make_app(provider).server.test_client()
    for path in ("overview", "quality", "engagement", "system"):
        r = c.get(f"/api/v1/analytics/{path}?range=7d")
        assert r.status_code == 503 and r.get_json()["component"] == "clickhouse"
    assert c.get("/healthz").status_code == 503
    state["down"] = False
    assert c.get("/api/v1/analytics/overview?range=7d").status_code == 200
    assert c.get("/healthz").status_code == 200


def test_realtime_without_redis_and_with_redis_down(seeded):
    import redis

    r = make_app(lambda: seeded).server.test_client().get("/api/v1/analytics/realtime")
    assert r.status_code == 503 and r.get_json()["component"] == "redis"
    assert "not configured" in r.get_json()["detail"]
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    c = make_app(lambda: seeded, dead).server.test_client()
    r = c.get("/api/v1/analytics/realtime")
    assert r.status_code == 503 and r.get_json()["component"] == "redis"
    # the rest works without Redis (the cache falls back to computing)
    f, t = NAMED_RANGES["cut"]
    body = c.get("/api/v1/analytics/overview" + range_qs(f, t)).get_json()
    close({k: body[k] for k in STATS_KEYS}, compute_stats(seeded, f, t))
    assert c.get("/api/v1/analytics/system" + range_qs(f, t)).get_json()["redis"].startswith("Redis unavailable")


def test_realtime_reads_redis_uncached(seeded, redis_client):
    from ingest.live import LiveCounters

    live = LiveCounters(redis_client)
    now = int(time.time() * 1000)
    c = make_app(lambda: seeded, redis_client).server.test_client()
    before = c.get("/api/v1/analytics/realtime").get_json()
    assert before["live_meetings"] == 0
    msgs = [b'{"eventType":"MEETING_STARTED","timestamp":%d,"meetingId":"rt-1","data":{"region":"eu-west"}}' % now,
            b'{"eventType":"PARTICIPANT_JOINED","timestamp":%d,"meetingId":"rt-1","userId":"u-rt"}' % (now + 1)]
    store_messages(seeded, live, msgs)
    after = c.get("/api/v1/analytics/realtime").get_json()
    assert after["live_meetings"] == before["live_meetings"] + 1
    assert after["live_participants"] == before["live_participants"] + 1
    assert after["last_event_ms"] == now + 1


def test_cache_shares_one_query_per_window_and_sees_a_backfill(seeded, redis_client):
    app = make_app(lambda: seeded, redis_client, cache_seconds=30)
    service = app.server.extensions["meetpulse"]
    c = app.server.test_client()
    f, t = NAMED_RANGES["hour"]
    first = c.get("/api/v1/analytics/overview" + range_qs(f, t)).get_json()
    computed = service.computed
    # another viewer (another app instance sharing the Redis cache) gets the cached value
    other = make_app(lambda: seeded, redis_client, cache_seconds=30)
    again = other.server.test_client().get("/api/v1/analytics/overview" + range_qs(f, t)).get_json()
    assert again == first and other.server.extensions["meetpulse"].computed == 0
    assert c.get("/api/v1/analytics/overview" + range_qs(f, t)).get_json() == first
    assert service.computed == computed
    # relative ranges: browsers within one quantum share the key
    c.get("/api/v1/analytics/overview?range=7d")
    n = service.computed
    c.get("/api/v1/analytics/overview?range=7d")
    assert service.computed == n
    # a backfill into the past range is seen at the next refresh (the data version changes)
    backfill = [b'{"eventType":"MEETING_STARTED","timestamp":%d,"meetingId":"backfilled-%d","data":{}}'
                % (f + 1000, time.time_ns())]
    store_messages(seeded, None, backfill, kafka_ts_ms=KAFKA_TS)
    time.sleep(service.version_ttl_s + 0.1)
    later = c.get("/api/v1/analytics/overview" + range_qs(f, t)).get_json()
    assert later["meetings"] == first["meetings"] + 1
    close({k: later[k] for k in STATS_KEYS}, compute_stats(seeded, f, t))


def test_edge_times_unknown_paths_and_repeats_get_json_errors(client):
    cases = {
        "/api/v1/analytics/overview?from=0001-01-01T00:00:00%2B01:00&to=0001-01-02": (400, "from"),
        "/api/v1/analytics/quality?from=9999-12-30T00:00:00-01:00&to=9999-12-31T23:59:59-01:00": (400, "from"),
        "/api/v1/analytics/overview?from=2026-12-01%2B05:30&to=2026-12-02%2B05:30": (400, "from"),
        "/api/v1/meetings?page=1&page=2": (400, "page"),
        "/api/v1/meetings?page=1_0": (400, "page"),
        "/api/v1/meetings?sort=avg_mos&sort=samples": (400, "sort"),
    }
    for url, (status, parameter) in cases.items():
        r = client.get(url)
        assert (r.status_code, r.get_json()["parameter"]) == (status, parameter), url
    for url in ("/api/v1/analytics/nonexistent", "/api/v1/", "/api/v1/meetings/"):
        r = client.get(url)
        assert r.status_code == 404 and r.is_json, url
    long_id = client.get("/api/v1/meetings/" + "x" * 600)
    assert long_id.status_code == 404 and long_id.get_json()["error"] == "not_found"


def test_labels_from_event_data_are_text_in_charts():
    from dashboard.figures import bars

    fig = bars(["<b>eu</b>", "a&b"], [1, 2], "rev")
    assert list(fig.data[0].x or fig.data[0].y) == ["&lt;b&gt;eu&lt;/b&gt;", "a&amp;b"]
