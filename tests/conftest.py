"""Session-wide real components: tansu broker, Redis, ClickHouse server (18.16) and one chDB folder.

Each starts once per test session. A component that cannot start skips its tests on a developer
machine and fails them under CI=true.
"""
from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent
for path in (TESTS, TESTS / "fixtures", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from components import ComponentUnavailable, in_ci, start_tansu, unavailable  # noqa: E402
from servers import ClickHouseServer, RedisServer  # noqa: E402

EVENT_TABLES = ("events", "event_ids", "pair_events", "sessions", "dead_letters")


def realdata_dir() -> Path:
    return Path(os.environ.get("MEETPULSE_REALDATA") or ROOT.parent / "shared" / "realdata")


@pytest.fixture(scope="session")
def broker():
    """Bootstrap address of a tansu broker (memory storage)."""
    try:
        bootstrap, stop = start_tansu()
    except ComponentUnavailable as exc:
        unavailable(str(exc))
    yield bootstrap
    stop()


@pytest.fixture(scope="session")
def redis_server():
    try:
        server = RedisServer()
        server.start()
    except ComponentUnavailable as exc:
        unavailable(str(exc))
    yield server
    server.destroy()


@pytest.fixture()
def redis_client(redis_server):
    import redis

    if redis_server.proc is None:
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def clickhouse_server():
    try:
        server = ClickHouseServer()
        server.start()
    except ComponentUnavailable as exc:
        unavailable(str(exc))
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def chdb_engine():
    """The test process's one chDB session (chDB allows one folder per process)."""
    from queries.engine import ChdbEngine
    from queries.migrate import migrate

    engine = ChdbEngine(Path(tempfile.mkdtemp(prefix="mp-chdb-")) / "chdb")
    migrate(engine)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def server_engine(clickhouse_server):
    from queries.engine import connect
    from queries.migrate import migrate

    database = "mp_test"
    admin = connect(clickhouse_server.url())
    admin.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    engine = connect(clickhouse_server.url(database))
    migrate(engine)
    yield engine
    engine.close()


def truncate(engine) -> None:
    for table in EVENT_TABLES:
        engine.execute(f"TRUNCATE TABLE {table}")


@pytest.fixture(params=["chdb", "server"])
def engine(request):
    """Each ClickHouse engine in turn, emptied for the test."""
    eng = request.getfixturevalue(f"{request.param}_engine")
    truncate(eng)
    return eng


@pytest.fixture()
def fresh_database(clickhouse_server):
    """A new, empty database on the server: (url, name)."""
    name = "mp_" + uuid.uuid4().hex[:10]
    from queries.engine import connect

    admin = connect(clickhouse_server.url())
    admin.execute(f"CREATE DATABASE {name}")
    yield clickhouse_server.url(name), name
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
    except Exception:
        pass
    admin.close()


@pytest.fixture(scope="session")
def realdata():
    path = realdata_dir()
    if not path.is_dir():
        unavailable(f"real data folder {path} is missing (set MEETPULSE_REALDATA)")
    return path


@pytest.fixture(scope="session")
def ci() -> bool:
    return in_ci()
