"""Browser tests in headless Chromium: every page loads without console errors (screenshots kept in
tests/artifacts/), KPIs equal the oracle and follow the range control, the live panel moves while
events flow, drill-down from the worst-meetings table, CSV export, and outages of ClickHouse and Redis.
"""
from __future__ import annotations

import ast
import csv
import math
import threading
import time
from pathlib import Path

import pytest

from browser import (browser_available, console_errors, screenshot, start_chromium, stop_chromium, wait_for,
                     ServedApp)
from components import unavailable
from dashboard import ids
from dashboard.app import create_app
from dashboard.pages.overview import KPIS, stat
from dashboard.timerange import iso_utc, parse_search
from fixtures.pipeline_fixture import BASE_MS, NAMED_RANGES, build_fixture, with_kafka_ts
from ingest.live import LiveCounters
from ingest.pipeline import store_messages
from meetpulse.settings import Settings
from oracle import expected_stats
from queries.engine import EngineUnavailable
from queries.stats import compute_stats
from conftest import truncate

pytestmark = pytest.mark.browser
KAFKA_TS = BASE_MS + 3 * 86_400_000


class Switchable:
    """An engine provider that can pretend ClickHouse is down, or answer slowly."""

    def __init__(self, engine):
        self.engine = engine
        self.down = False
        self.delay_s = 0.0

    def __call__(self):
        if self.down:
            raise EngineUnavailable(f"{self.engine.label} is unreachable (stopped by the test)")
        if self.delay_s:
            time.sleep(self.delay_s)
        return self.engine


@pytest.fixture(scope="module")
def raw_messages():
    return build_fixture()


@pytest.fixture(scope="module")
def web(chdb_engine, redis_server, raw_messages, tmp_path_factory):
    if not browser_available():
        unavailable("chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    import redis

    truncate(chdb_engine)
    store_messages(chdb_engine, None, raw_messages, kafka_ts_ms=KAFKA_TS)
    client = redis.Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=2)
    client.flushall()
    provider = Switchable(chdb_engine)
    app = create_app(Settings(cache_seconds=5), provider, client)
    served = ServedApp(app.server)
    downloads = tmp_path_factory.mktemp("downloads")
    driver = start_chromium(downloads)
    env = {"url": served.url, "driver": driver, "provider": provider, "redis": client, "engine": chdb_engine,
           "downloads": Path(downloads), "service": app.server.extensions["meetpulse"], "raw": raw_messages}
    yield env
    stop_chromium(driver)
    served.stop()


def qs(name: str) -> str:
    f, t = NAMED_RANGES[name]
    return f"?from={iso_utc(f)}&to={iso_utc(t)}"


def kpi_values(driver) -> dict:
    out = {}
    for key, *_ in KPIS:
        raw = driver.find_element("id", ids.kpi(key)).get_attribute("data-value")
        out[key] = None if raw in ("", None) else ast.literal_eval(raw)
    return out


def kpis_equal(shown: dict, stats: dict) -> bool:
    for key, *_ in KPIS:
        want, got = stat(stats, key), shown.get(key)
        if want is None or got is None:
            if want is not got:
                return False
        elif not math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


def open_page(web, path: str, ready_css: str, timeout: float = 30.0):
    d = web["driver"]
    d.get(web["url"] + path)
    wait_for(lambda: d.find_elements("css selector", ready_css), timeout, message=f"{ready_css} on {path}")
    return d


def no_errors(driver) -> None:
    errors = [e for e in console_errors(driver) if "favicon" not in e.get("message", "")]
    assert not errors, errors


def test_pages_load_without_console_errors(web):
    d = web["driver"]
    console_errors(d)  # drop anything earlier
    q = parse_search(qs("two_days"), int(time.time() * 1000))
    worst = web["service"].panel("quality.worst", q)["rows"][0]["meeting_id"]
    pages = [("overview", "/", f"#{ids.kpi('meetings')}[data-value]"),
             ("quality", "/quality", "#worst-meetings a"),
             ("engagement", "/engagement", "#busiest-hosts"),
             ("system", "/system", "#sys-ch-ping"),
             ("meeting", f"/meetings/{worst}", "#participant-table")]
    for name, path, ready in pages:
        open_page(web, path + qs("two_days"), ready)
        # every graph drew (no panel left empty) and no error card
        wait_for(lambda: all(g.find_elements("css selector", ".main-svg")
                             for g in d.find_elements("css selector", ".js-plotly-plot")), 20,
                 message=f"graphs on {name}")
        assert not d.find_elements("css selector", ".panel .error-card"), name
        time.sleep(0.5)
        screenshot(d, name)
        no_errors(d)


def test_kpis_equal_the_oracle_and_follow_the_range_control(web):
    d = open_page(web, "/" + qs("two_days"), f"#{ids.kpi('meetings')}[data-value]")
    oracle = expected_stats(with_kafka_ts(web["raw"], KAFKA_TS), *NAMED_RANGES["two_days"])
    wait_for(lambda: kpis_equal(kpi_values(d), oracle), 20, message="KPIs equal the oracle for two_days")
    # the API serves the same numbers
    import requests

    body = requests.get(web["url"] + "/api/v1/analytics/overview" + qs("two_days"), timeout=30).json()
    assert kpis_equal(kpi_values(d), body)
    # the range buttons: 1h now holds nothing of the fixture (January 2026)
    range_button(d, "1h").click()
    wait_for(lambda: "range=1h" in d.current_url, 10, message="range=1h in the URL")
    def matches_1h():
        q = parse_search("?range=1h", int(time.time() * 1000), 5000)
        return kpis_equal(kpi_values(d), compute_stats(web["engine"], q.from_ms, q.to_ms))

    wait_for(matches_1h, 20, message="KPIs for the last hour")
    assert kpi_values(d)["meetings"] == 0
    # a custom range typed into the from/to inputs (UTC zone): the 'cut' range of the fixture
    range_button(d, "custom").click()
    wait_for(lambda: d.find_element("id", ids.FROM).is_displayed(), 10, message="custom inputs")
    f, t = NAMED_RANGES["cut"]
    for element_id, ms in ((ids.FROM, f), (ids.TO, t)):
        value = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(ms / 1000))
        set_input(d, element_id, value)
    want = expected_stats(with_kafka_ts(web["raw"], KAFKA_TS), f, t)
    wait_for(lambda: kpis_equal(kpi_values(d), want), 30, message="KPIs for the custom 'cut' range")
    assert "from=" in d.current_url and "to=" in d.current_url
    # the link reproduces the view
    d.get(d.current_url)
    wait_for(lambda: kpis_equal(kpi_values(d), want), 30, message="KPIs after reloading the link")
    no_errors(d)


def range_button(driver, label: str):
    return driver.find_element("xpath", f"//*[@id='{ids.RANGE}']//label[normalize-space()='{label}']")


def set_input(driver, element_id: str, value: str) -> None:
    """Type into a React-controlled input: native setter, input/change events, then blur (debounce)."""
    driver.execute_script("""
        const el = document.getElementById(arguments[0]);
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        el.focus(); setter.call(el, arguments[1]);
        el.dispatchEvent(new Event('input', {bubbles: true}));
        el.dispatchEvent(new Event('change', {bubbles: true}));
        el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 13, bubbles: true}));
        el.blur();
    """, element_id, value)


def live_value(driver, key: str):
    raw = driver.find_element("id", f"live-{key.replace('_', '-')}").get_attribute("data-value")
    return None if raw in ("", None) else ast.literal_eval(raw)


def test_live_panel_changes_while_events_flow(web):
    d = open_page(web, "/?range=1h", "#live-live-meetings")
    before = live_value(d, "live_meetings")
    live = LiveCounters(web["redis"])
    stop = threading.Event()

    def produce():
        i = 0
        while not stop.is_set() and i < 40:
            now = int(time.time() * 1000)
            msgs = [b'{"eventType":"MEETING_STARTED","timestamp":%d,"meetingId":"live-%d","data":{"region":"eu-west"}}'
                    % (now, i),
                    b'{"eventType":"PARTICIPANT_JOINED","timestamp":%d,"meetingId":"live-%d","userId":"u-live-%d"}'
                    % (now + 1, i, i)]
            store_messages(web["engine"], live, msgs)
            i += 1
            time.sleep(0.5)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        wait_for(lambda: live_value(d, "live_meetings") >= before + 3, 30, message="live meetings to grow")
        first = live_value(d, "live_meetings")
        wait_for(lambda: live_value(d, "live_meetings") > first, 30, message="live meetings to keep growing")
        assert live_value(d, "events_per_second") > 0
        assert live_value(d, "last_event_age_s") < 30
    finally:
        stop.set()
        thread.join(30)
    no_errors(d)


def test_drill_down_opens_from_the_worst_meetings_table(web):
    d = open_page(web, "/quality" + qs("two_days"), "#worst-meetings a")
    link = d.find_elements("css selector", "#worst-meetings a")[0]
    meeting_id = link.text
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    time.sleep(0.3)
    link.click()
    wait_for(lambda: f"/meetings/{meeting_id}" in d.current_url, 10, message="drill-down URL")
    wait_for(lambda: meeting_id in d.find_element("id", "meeting-facts").text, 30, message="meeting facts")
    wait_for(lambda: d.find_elements("css selector", "#participant-table tbody tr"), 20, message="participants")
    assert "from=" in d.current_url  # the range travels with the link
    no_errors(d)


def test_csv_export_downloads_the_rows_shown(web):
    d = open_page(web, "/quality" + qs("two_days"), "#worst-meetings a")
    shown = [a.text for a in d.find_elements("css selector", "#worst-meetings a")]
    for old in web["downloads"].glob("*.csv"):
        old.unlink()
    button = d.find_element("css selector", "#panel-quality-worst .csv-button")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    time.sleep(0.3)
    button.click()
    path = wait_for(lambda: next(iter(web["downloads"].glob("meetpulse-quality-worst-*.csv")), None), 20,
                    message="the CSV download")
    time.sleep(0.3)
    rows = list(csv.DictReader(path.open()))
    assert [r["meeting_id"] for r in rows] == shown and len(rows) == 10
    assert all(r["avg_mos"] for r in rows)
    no_errors(d)


def test_clickhouse_down_shows_error_cards_and_recovers(web):
    d = open_page(web, "/" + qs("two_days"), f"#{ids.kpi('meetings')}[data-value]")
    web["provider"].down = True
    web["service"].invalidate_version()
    try:
        wait_for(lambda: len(d.find_elements("css selector", ".panel .error-card")) >= 3, 30,
                 message="error cards on every ClickHouse panel")
        text = d.find_element("css selector", ".panel .error-card").text
        assert "unreachable" in text
        # the rest of the page still renders: navbar, controls, live panel from Redis
        assert d.find_element("id", "live-live-meetings")
        screenshot(d, "overview-clickhouse-down")
    finally:
        web["provider"].down = False
    wait_for(lambda: not d.find_elements("css selector", ".panel .error-card"), 30, message="recovery")
    assert d.find_element("id", ids.kpi("meetings")).get_attribute("data-value")


def test_redis_down_the_live_panel_says_so_and_the_rest_works(web, redis_server):
    d = open_page(web, "/" + qs("two_days"), "#live-live-meetings")
    redis_server.stop()
    try:
        wait_for(lambda: d.find_elements("id", "live-error"), 30, message="the live panel to say Redis is down")
        assert "Redis unavailable" in d.find_element("id", "live-error").text
        oracle = expected_stats(with_kafka_ts(web["raw"], KAFKA_TS), *NAMED_RANGES["two_days"])
        d.refresh()
        wait_for(lambda: kpis_equal(kpi_values(d), oracle), 40, message="KPIs without Redis")
        assert not d.find_elements("css selector", ".panel:not(.live-panel) .error-card")
    finally:
        redis_server.start()
    wait_for(lambda: d.find_elements("id", "live-live-meetings"), 40, message="live panel back")


def test_a_refresh_slower_than_the_interval_still_renders(web):
    d = open_page(web, "/engagement" + qs("cut"), "#busiest-hosts")

    def skipped():
        return d.execute_script("return (window.__meetpulse || {}).skipped || 0")

    def stamp():
        return d.find_element("id", ids.page_updated("engagement")).text

    before = skipped()
    web["provider"].delay_s = 6.5  # every refresh asks for the data version: longer than the 5 s interval
    try:
        wait_for(lambda: skipped() > before, 60, message="a tick dropped while a refresh is in flight")
        during = stamp()
        wait_for(lambda: stamp() != during, 90, message="the slow refresh to render")
    finally:
        web["provider"].delay_s = 0.0
    assert not d.find_elements("css selector", ".panel .error-card")
    no_errors(d)


def test_clickhouse_server_stopped_and_restarted(web, clickhouse_server, raw_messages):
    """The real 18.16 server: stop it, the pages show error cards and the API says 503; start it, they heal."""
    import requests

    from queries.engine import connect
    from queries.migrate import migrate

    connect(clickhouse_server.url()).execute("CREATE DATABASE IF NOT EXISTS mp_browser")
    engine = connect(clickhouse_server.url("mp_browser"))
    migrate(engine)
    truncate(engine)
    store_messages(engine, None, raw_messages, kafka_ts_ms=KAFKA_TS)
    app = create_app(Settings(cache_seconds=5), lambda: engine, web["redis"])
    served = ServedApp(app.server)
    d = web["driver"]
    try:
        oracle = expected_stats(with_kafka_ts(raw_messages, KAFKA_TS), *NAMED_RANGES["two_days"])
        d.get(served.url + "/" + qs("two_days"))
        wait_for(lambda: kpis_equal(kpi_values(d), oracle), 40, message="KPIs from the server engine")
        clickhouse_server.stop()
        try:
            wait_for(lambda: len(d.find_elements("css selector", ".panel:not(.live-panel) .error-card")) >= 3, 40,
                     message="error cards while ClickHouse is stopped")
            r = requests.get(served.url + "/api/v1/analytics/overview?range=24h", timeout=30)
            assert r.status_code == 503 and r.json()["component"] == "clickhouse"
            assert d.find_element("id", "live-live-meetings")  # Redis still feeds the live panel
        finally:
            clickhouse_server.start()
        wait_for(lambda: not d.find_elements("css selector", ".panel .error-card"), 60, message="recovery")
        wait_for(lambda: kpis_equal(kpi_values(d), oracle), 40, message="KPIs after the restart")
        no_errors(d)
    finally:
        served.stop()
        engine.close()



def test_zoom_survives_a_refresh(web):
    """uirevision keeps a user's zoom across the automatic refreshes (Dash 4.x lost it: pinned <4)."""
    from selenium.webdriver.common.action_chains import ActionChains

    d = open_page(web, "/quality" + qs("two_days"), ".js-plotly-plot .main-svg")
    graph = "document.querySelectorAll('.js-plotly-plot')[0]"
    read_range = f"return {graph}.layout.xaxis.range.map(v => new Date(v).getTime())"
    wait_for(lambda: d.execute_script(f"return {graph}.layout && {graph}.layout.xaxis.range"), 30,
             message="a drawn figure")
    full = d.execute_script(read_range)
    area = d.find_elements("css selector", ".js-plotly-plot .nsewdrag")[0]
    width, height = area.size["width"], area.size["height"]
    ActionChains(d).move_to_element_with_offset(area, -width // 4, -height // 4).click_and_hold() \
        .move_by_offset(width // 3, height // 3).release().perform()
    zoomed = wait_for(lambda: (r := d.execute_script(read_range)) != full and r, 10, message="the drag to zoom")
    before = d.find_element("id", ids.page_updated("quality")).text
    wait_for(lambda: d.find_element("id", ids.page_updated("quality")).text != before, 30,
             message="an automatic refresh")
    time.sleep(1)
    assert d.execute_script(read_range) == zoomed != full
