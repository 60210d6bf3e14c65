"""Helpers that turn Settings into what ``create_app`` takes (used by wsgi, the CLI and tests)."""
from __future__ import annotations

import threading
from typing import Callable

from queries.engine import Engine, EngineUnavailable, connect


def engine_provider_for(settings, engine: Engine | None = None) -> Callable[[], Engine]:
    """A provider that connects on first use and again after a failed connect (never at import)."""
    if engine is not None:
        return lambda: engine
    lock = threading.Lock()
    holder: dict = {}

    def provide() -> Engine:
        with lock:
            if "engine" not in holder:
                if settings.clickhouse_url:
                    holder["engine"] = connect(settings.clickhouse_url)
                else:
                    holder["engine"] = connect(chdb_path=settings.chdb_path)
            return holder["engine"]

    return provide


def redis_client_for(settings):
    """A redis-py client for REDIS_URL, or None when it is not set (the live panel says so)."""
    if not settings.redis_url:
        return None
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    # one quick retry: a page must not wait seconds on a Redis that is down
    return redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=3,
                                health_check_interval=10, retry=Retry(ExponentialBackoff(cap=0.5, base=0.1), 1))


__all__ = ["engine_provider_for", "redis_client_for", "EngineUnavailable"]
