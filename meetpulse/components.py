"""Open the components a command needs, in server mode (from the environment) or embedded mode."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import redis as redis_lib

from queries.engine import Engine, EngineUnavailable, QueryError, connect

from .localstack import ComponentError, EmbeddedStack
from .settings import Settings


def open_redis(url: str) -> redis_lib.Redis:
    client = redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=10)
    try:
        client.ping()
    except redis_lib.exceptions.RedisError as exc:
        raise ComponentError(f"Redis at {url} is unreachable ({exc}); start it or change REDIS_URL") from None
    return client


def open_engine(settings: Settings) -> Engine:
    """The server engine from CLICKHOUSE_URL; migrations are the ``migrate`` command's job."""
    try:
        engine = connect(settings.clickhouse_url)
        engine.ping()
    except (EngineUnavailable, QueryError) as exc:
        raise ComponentError(f"{exc}; start ClickHouse or change CLICKHOUSE_URL") from None
    return engine


def ensure_database(settings: Settings) -> None:
    """Create the database named in CLICKHOUSE_URL when the server lacks it."""
    from urllib.parse import urlparse, urlunparse

    parsed = urlparse(settings.clickhouse_url)
    database = parsed.path.strip("/")
    if parsed.scheme.startswith("chdb") or not database or database == "default":
        return
    admin = connect(urlunparse(parsed._replace(path="/default")))
    try:
        admin.execute(f"CREATE DATABASE IF NOT EXISTS `{database.replace('`', '')}`")
    except (EngineUnavailable, QueryError) as exc:
        raise ComponentError(f"{exc}; start ClickHouse or change CLICKHOUSE_URL") from None
    finally:
        admin.close()


@contextmanager
def components(settings: Settings, command: str, *, broker: bool = False, redis: bool = False,
               engine: bool = True) -> Iterator["Opened"]:
    """Yield what ``command`` needs; embedded mode starts it under the data folder's lock."""
    if settings.embedded:
        with EmbeddedStack(settings, command, broker=broker, redis=redis) as stack:
            redis_client = open_redis(stack.redis_url) if redis and stack.redis_url else None
            yield Opened(stack.engine, redis_client, stack.bootstrap, stack)
        return
    if broker and not settings.kafka_bootstrap_servers:
        raise ComponentError("KAFKA_BOOTSTRAP_SERVERS is not set; point it at your Kafka broker")
    if redis and not settings.redis_url:
        raise ComponentError("REDIS_URL is not set; point it at your Redis server")
    eng = open_engine(settings) if engine else None
    redis_client = open_redis(settings.redis_url) if redis else None
    try:
        yield Opened(eng, redis_client, settings.kafka_bootstrap_servers, None)
    finally:
        if eng is not None:
            eng.close()


class Opened:
    def __init__(self, engine: Engine | None, redis_client, bootstrap: str, stack: EmbeddedStack | None):
        self.engine = engine
        self.redis = redis_client
        self.bootstrap = bootstrap
        self.stack = stack
