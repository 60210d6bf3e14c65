"""The data functions behind every panel and API endpoint, cached, plus the live (never cached) reads.

A panel's data is a JSON-ready value computed by one function of ``queries`` for one
``TimeQuery``. The pages and the REST API both call ``DataService.panel``, so a number on a page
and in the API come from the same cached value.

Cache key: panel name + the query's canonical parameters (its [from, to) is already quantized,
so browsers asking within one quantum share it) + extra arguments + the data version (row
counts and the newest ingest time), so a backfill into a past range is seen at the next refresh.
Errors are never cached.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from typing import Any, Callable

from queries.engine import Engine, EngineUnavailable, QueryError
from queries.pages import engagement, meetings, overview, quality, system
from queries.pages.buckets import Bucketing
from queries.stats import compute_stats

from .timerange import TimeQuery

log = logging.getLogger(__name__)

DATA_VERSION = """
SELECT count(), max(ingested_ms), (SELECT count() FROM dead_letters) FROM events
"""
"""A value that changes whenever rows are stored: row counts and the newest ingest time."""

FILTER_OPTIONS = """
SELECT 'region', region FROM events WHERE region != '' GROUP BY region
UNION ALL SELECT 'meeting_type', meeting_type FROM events WHERE meeting_type != '' GROUP BY meeting_type
UNION ALL SELECT 'platform', platform FROM events WHERE platform != '' GROUP BY platform
"""
"""Values seen for each filter dimension (for the filter drop-downs)."""

QUERY_LATENCY_KEY = "meetpulse:web:query_ms"


class LiveUnavailable(RuntimeError):
    """The live panel cannot be read: Redis is not configured or not reachable."""

    def __init__(self, message: str, configured: bool = True):
        super().__init__(message)
        self.configured = configured


class NotFound(LookupError):
    """The thing asked for does not exist (an unknown meeting)."""


def _stats(engine: Engine, q: TimeQuery) -> dict:
    return compute_stats(engine, q.from_ms, q.to_ms, q.filters)


def _previous(engine: Engine, q: TimeQuery) -> dict:
    start, end = q.previous()
    return compute_stats(engine, start, end, q.filters)


def _worst(engine: Engine, q: TimeQuery, sort: str = "avg_mos", descending: bool = False,
           limit: int = 10, offset: int = 0) -> dict:
    return quality.worst_meetings(engine, q.from_ms, q.to_ms, q.filters, sort, descending, limit, offset)


def _ingest(engine: Engine, q: TimeQuery) -> list[dict]:
    return system.ingest_series(engine, q.bucketing)


def _meeting(engine: Engine, q: TimeQuery, meeting_id: str = "") -> dict | None:
    facts = meetings.meeting_facts(engine, meeting_id)
    if facts is None:
        return None
    first, last = facts["first_event_ms"], facts["last_event_ms"]
    sessions = meetings.meeting_sessions(engine, meeting_id, first, last)
    samples = meetings.meeting_samples(engine, meeting_id, first, last)
    return {
        "meeting": facts,
        "timeline": meetings.meeting_timeline(engine, meeting_id),
        "sessions": sessions,
        "concurrency": meetings.concurrency(sessions),
        "samples": samples,
        "participants": meetings.participant_table(engine, meeting_id, sessions, samples),
    }


def _options(engine: Engine, q: TimeQuery) -> dict:
    out: dict[str, list[str]] = {"region": [], "meeting_type": [], "platform": []}
    for dim, value in engine.execute(FILTER_OPTIONS):
        out[dim].append(value)
    return {k: sorted(v) for k, v in out.items()}


def _r(fn):
    """Adapt a ``(engine, from, to, filters)`` query function to a panel function."""
    return lambda engine, q: fn(engine, q.from_ms, q.to_ms, q.filters)


def _b(fn):
    """Adapt a ``(engine, bucketing, filters)`` query function to a panel function."""
    return lambda engine, q: fn(engine, q.bucketing, q.filters)


PANELS: dict[str, Callable[..., Any]] = {
    "overview.stats": _stats,
    "overview.previous": _previous,
    "overview.series": _b(overview.activity_series),
    "overview.bands": _r(overview.quality_bands),
    "quality.series": _b(quality.quality_series),
    "quality.regions": _r(quality.by_region),
    "quality.poor": _r(quality.poor_rules),
    "quality.mos": _r(quality.mos_histogram),
    "quality.worst": _worst,
    "engagement.meetings_per_user": _r(engagement.meetings_per_user),
    "engagement.minutes_per_user": _r(engagement.minutes_per_user),
    "engagement.session_lengths": _r(engagement.session_lengths),
    "engagement.rejoins": _r(engagement.rejoins),
    "engagement.devices": _r(engagement.devices),
    "engagement.hosts": _r(engagement.busiest_hosts),
    "system.client": _b(system.client_series),
    "system.ingest": _ingest,
    "system.dead_letters": lambda engine, q: system.dead_letter_reasons(engine),
    "meeting.detail": _meeting,
    "options": _options,
}
"""Every data function a page or the API shows, by name."""


class DataService:
    """Cached access to the panels, the live status and the System page's own measurements."""

    def __init__(self, engine_provider: Callable[[], Engine], redis_client=None, cache=None,
                 cache_seconds: int = 5, idle_timeout_s: int = 1800, version_ttl_s: float = 1.0):
        self.engine_provider = engine_provider
        self.redis = redis_client
        self.cache = cache
        self.cache_seconds = max(1, int(cache_seconds))
        self.idle_timeout_s = idle_timeout_s
        self.version_ttl_s = version_ttl_s
        self._version: tuple[float, str] | None = None
        self._version_lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.latencies: deque = deque(maxlen=600)
        self.redis_retry_s = 5.0
        self._redis_error = ""
        self._redis_down_until = 0.0  # after a Redis failure, leave it alone for a few seconds
        self.computed = 0  # panel computations (cache misses), for tests and the System page

    # -- engine and version ---------------------------------------------------------------
    def engine(self) -> Engine:
        return self.engine_provider()

    def data_version(self) -> str:
        now = time.monotonic()
        with self._version_lock:
            if self._version and now - self._version[0] < self.version_ttl_s:
                return self._version[1]
        rows, newest, dead = self.engine().execute(DATA_VERSION)[0]
        version = f"{int(rows)}:{int(newest or 0)}:{int(dead)}"
        with self._version_lock:
            self._version = (time.monotonic(), version)
        return version

    def invalidate_version(self) -> None:
        with self._version_lock:
            self._version = None

    # -- cache ----------------------------------------------------------------------------
    def cache_key(self, name: str, q: TimeQuery, extra: dict, version: str) -> str:
        payload = json.dumps([name, q.canonical(), extra, version], sort_keys=True, separators=(",", ":"))
        return "meetpulse:panel:" + hashlib.sha256(payload.encode()).hexdigest()[:40]

    def _redis_resting(self) -> bool:
        return self.redis is not None and time.monotonic() < self._redis_down_until

    def _redis_failed(self, exc: Exception) -> None:
        log.debug("redis failed: %s", exc)
        self._redis_error = f"{type(exc).__name__}: {exc}"
        self._redis_down_until = time.monotonic() + self.redis_retry_s

    def _cache_get(self, key: str):
        if self.cache is None or self._redis_resting():
            return None
        try:
            return self.cache.get(key)
        except Exception as exc:  # Redis down: compute without the cache
            self._redis_failed(exc)
            return None

    def _cache_set(self, key: str, value, timeout: int) -> None:
        if self.cache is None or self._redis_resting():
            return
        try:
            self.cache.set(key, value, timeout=timeout)
        except Exception as exc:
            self._redis_failed(exc)

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_lock:
            if len(self._locks) > 2048:
                self._locks.clear()
            return self._locks.setdefault(key, threading.Lock())

    def panel(self, name: str, q: TimeQuery, **extra):
        """The data of panel ``name`` for ``q``; raises EngineUnavailable or QueryError."""
        fn = PANELS[name]
        version = self.data_version()
        key = self.cache_key(name, q, extra, version)
        hit = self._cache_get(key)
        if hit is not None:
            return hit["value"]
        with self._lock_for(key):  # one computation per key in this process
            hit = self._cache_get(key)
            if hit is not None:
                return hit["value"]
            engine = self.engine()
            started = time.perf_counter()
            value = fn(engine, q, **extra)
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            self.computed += 1
            self._record_latency(name, elapsed_ms)
            # a relative range moves on every quantum; a fixed past range is kept until data changes
            timeout = self.cache_seconds * 2 if q.range_key else 600
            self._cache_set(key, {"value": value}, timeout)
            return value

    def try_panel(self, name: str, q: TimeQuery, **extra) -> tuple[Any, str | None]:
        """(data, None) or (None, reason) - for a page, where one failing panel must not blank the rest."""
        try:
            return self.panel(name, q, **extra), None
        except EngineUnavailable as exc:
            return None, f"ClickHouse unavailable: {exc}"
        except QueryError as exc:
            return None, f"Query failed: {exc}"
        except Exception as exc:  # a page never goes blank
            log.exception("panel %s failed", name)
            return None, f"{type(exc).__name__}: {exc}"

    # -- the System page's own measurements -----------------------------------------------
    def _record_latency(self, name: str, ms: float) -> None:
        entry = {"t": int(time.time() * 1000), "panel": name, "ms": round(ms, 3)}
        self.latencies.append(entry)
        if self.redis is not None and not self._redis_resting():
            try:
                pipe = self.redis.pipeline(transaction=False)
                pipe.lpush(QUERY_LATENCY_KEY, json.dumps(entry))
                pipe.ltrim(QUERY_LATENCY_KEY, 0, 599)
                pipe.execute()
            except Exception as exc:
                self._redis_failed(exc)

    def query_latencies(self, since_ms: int | None = None) -> list[dict]:
        """Recent panel computations of this web app (shared through Redis when it is up)."""
        entries = None
        if self.redis is not None and not self._redis_resting():
            try:
                entries = [json.loads(x) for x in self.redis.lrange(QUERY_LATENCY_KEY, 0, 599)]
            except Exception as exc:
                self._redis_failed(exc)
                entries = None
        if entries is None:
            entries = list(self.latencies)
        if since_ms is not None:
            entries = [e for e in entries if e["t"] >= since_ms]
        return sorted(entries, key=lambda e: e["t"])

    def ping_ms(self) -> float:
        started = time.perf_counter()
        self.engine().execute("SELECT 1")
        return (time.perf_counter() - started) * 1000.0

    # -- live (Redis) ----------------------------------------------------------------------
    def _redis_call(self, fn):
        if self.redis is None:
            raise LiveUnavailable("Redis not configured (set REDIS_URL)", configured=False)
        if self._redis_resting():
            raise LiveUnavailable(f"Redis unavailable: {self._redis_error}")
        try:
            value = fn(self.redis)
        except Exception as exc:
            self._redis_error = f"{type(exc).__name__}: {exc}"
            self._redis_failed(exc)
            raise LiveUnavailable(f"Redis unavailable: {self._redis_error}") from None
        self._redis_down_until = 0.0
        return value

    def live(self, now_ms: int | None = None) -> dict:
        from ingest.live import read_live_status

        return self._redis_call(lambda r: read_live_status(r, now_ms, self.idle_timeout_s))

    def ingest_minutes(self, minutes: int = 60, now_ms: int | None = None) -> list[dict]:
        from ingest.live import read_minutes

        return self._redis_call(lambda r: read_minutes(r, now_ms, minutes))

    # -- whole pages, for the API ----------------------------------------------------------
    def overview(self, q: TimeQuery) -> dict:
        stats = self.panel("overview.stats", q)
        return {**stats, "previous": self.panel("overview.previous", q),
                "series": self.panel("overview.series", q),
                "quality_bands": self.panel("overview.bands", q),
                "range": q.describe()}

    def quality(self, q: TimeQuery) -> dict:
        return {"series": self.panel("quality.series", q), "by_region": self.panel("quality.regions", q),
                "poor_audio": self.panel("quality.poor", q), "mos_histogram": self.panel("quality.mos", q),
                "worst_meetings": self.panel("quality.worst", q)["rows"], "range": q.describe()}

    def engagement(self, q: TimeQuery) -> dict:
        return {"meetings_per_user": self.panel("engagement.meetings_per_user", q),
                "minutes_per_user": self.panel("engagement.minutes_per_user", q),
                "session_lengths": self.panel("engagement.session_lengths", q),
                "rejoins": self.panel("engagement.rejoins", q),
                "devices": self.panel("engagement.devices", q),
                "busiest_hosts": self.panel("engagement.hosts", q), "range": q.describe()}

    def system(self, q: TimeQuery) -> dict:
        out = {"client": self.panel("system.client", q), "ingest": self.panel("system.ingest", q),
               "dead_letter_reasons": self.panel("system.dead_letters", q),
               "query_latency": self.query_latencies(q.from_ms), "range": q.describe()}
        try:
            out["ingest_minutes"] = self.ingest_minutes()
            out["live"] = self.live()
            out["redis"] = "ok"
        except LiveUnavailable as exc:
            out["ingest_minutes"] = None
            out["live"] = None
            out["redis"] = str(exc)
        return out

    def meeting(self, q: TimeQuery, meeting_id: str) -> dict:
        value = self.panel("meeting.detail", q, meeting_id=meeting_id)
        if value is None:
            raise NotFound(meeting_id)
        return value


def bucket_for(q: TimeQuery) -> Bucketing:
    return q.bucketing
