"""One interface over both ClickHouse engines: a server through clickhouse-driver, or chDB in-process.

SQL is written once with ``%(name)s`` placeholders. Values are always bound parameters: the
server path hands them to clickhouse-driver, which substitutes them client-side (as it must for
an 18.16 server); the chDB path uses the same escaping function of clickhouse-driver, so both
engines see byte-identical SQL.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlparse

import orjson
from clickhouse_driver.util.escape import escape_params

# Batches put thousands of ids in an IN list; ClickHouse's default 256 KiB parser limit is too small.
MAX_QUERY_SIZE = 64 * 1024 * 1024


class EngineUnavailable(RuntimeError):
    """ClickHouse cannot be reached or refused the operation; the message says which engine."""


class QueryError(RuntimeError):
    """ClickHouse rejected a query."""


def render(sql: str, params: Mapping[str, Any] | None) -> str:
    """Substitute bound parameters the way clickhouse-driver does for the native protocol."""
    if not params:
        return sql
    return sql % escape_params(params, None)


class Engine:
    """Common surface: ``execute`` returns rows as tuples of plain Python values."""

    name = "clickhouse"
    label = "ClickHouse"

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        raise NotImplementedError

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        raise NotImplementedError

    def version(self) -> tuple[int, ...]:
        raw = self.execute("SELECT version()")[0][0]
        return tuple(int(p) for p in str(raw).split(".") if p.isdigit())

    def ping(self) -> None:
        self.execute("SELECT 1")

    def close(self) -> None:
        pass

    # Timing of the last queries, for the System page.
    def _record(self, started: float) -> None:
        self.last_query_ms = (time.perf_counter() - started) * 1000.0


class ServerEngine(Engine):
    """A ClickHouse server over the native protocol (clickhouse-driver)."""

    name = "server"

    def __init__(self, url: str):
        from clickhouse_driver import Client

        self.url = url
        parsed = urlparse(url)
        self.label = f"ClickHouse server at {parsed.hostname}:{parsed.port or 9000} (CLICKHOUSE_URL)"
        self._local = threading.local()
        extra = {"connect_timeout": "3", "send_receive_timeout": "120", "max_query_size": str(MAX_QUERY_SIZE)}
        query = "&".join(f"{k}={v}" for k, v in extra.items() if k not in parsed.query)
        full = f"{url}{'&' if parsed.query else '?'}{query}" if query else url
        # unknown URL parameters (max_query_size) travel as settings with every query
        self._client_factory = lambda: Client.from_url(full)
        self.last_query_ms = 0.0

    def _client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._client_factory()
        return client

    def _run(self, fn):
        from clickhouse_driver import errors

        started = time.perf_counter()
        try:
            return fn(self._client())
        except errors.ServerException as exc:
            raise QueryError(f"{self.label}: {server_error_text(exc)}") from None
        except (errors.NetworkError, errors.SocketTimeoutError, OSError, EOFError) as exc:
            self._drop_client()
            raise EngineUnavailable(f"{self.label} is unreachable: {exc}") from None
        except errors.Error as exc:
            self._drop_client()
            raise EngineUnavailable(f"{self.label}: {exc}") from None
        finally:
            self._record(started)

    def _drop_client(self) -> None:
        client = getattr(self._local, "client", None)
        self._local.client = None
        if client is not None:
            try:
                client.disconnect()
            except Exception:
                pass

    def execute(self, sql, params=None):
        rows = self._run(lambda c: c.execute(sql, params or None))
        return [tuple(r) for r in rows]

    def insert(self, table, columns, rows):
        rows = [tuple(r) for r in rows]
        if not rows:
            return 0
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
        self._run(lambda c: c.execute(sql, rows))
        return len(rows)

    def close(self):
        self._drop_client()


def server_error_text(exc) -> str:
    """``Code: N. <first line of the server's message>``, with what to do for the usual ones."""
    message = (getattr(exc, "message", "") or str(exc)).strip()
    first = next((line for line in message.splitlines() if line.strip()), "")
    first = first.split(". Stack trace")[0].replace("DB::Exception: ", "")
    text = f"Code: {getattr(exc, 'code', '?')}. {first}"
    if getattr(exc, "code", None) == 60:  # UNKNOWN_TABLE
        text += " (run `meetpulse migrate` first)"
    return text


class ChdbEngine(Engine):
    """chDB, the ClickHouse engine in this process, with its data in a folder.

    chDB allows one process per folder and its session is not safe to share between threads
    without a lock, so every call takes ``self._lock``.
    """

    name = "chdb"

    def __init__(self, path: str | Path):
        from chdb import session

        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.label = f"chDB at {self.path}"
        self._lock = threading.RLock()
        try:
            self._session = session.Session(str(self.path))
            self._session.query(f"SET max_query_size = {MAX_QUERY_SIZE}")
        except Exception as exc:  # chdb raises plain RuntimeError for a locked folder
            raise EngineUnavailable(f"{self.label} cannot be opened: {exc}") from None
        self.last_query_ms = 0.0

    def _query(self, sql: str, fmt: str = "JSONCompact"):
        started = time.perf_counter()
        with self._lock:
            try:
                return self._session.query(sql, fmt)
            except Exception as exc:
                raise QueryError(f"{self.label}: {str(exc).strip().splitlines()[0]}") from None
            finally:
                self._record(started)

    def execute(self, sql, params=None):
        text = render(sql, params)
        result = self._query(text)
        raw = result.bytes() if hasattr(result, "bytes") else bytes(str(result), "utf-8")
        if not raw.strip():
            return []
        payload = orjson.loads(raw)
        return [tuple(row) for row in payload.get("data", [])]

    def insert(self, table, columns, rows):
        lines = [orjson.dumps(list(row)) for row in rows]
        if not lines:
            return 0
        sql = f"INSERT INTO {table} ({', '.join(columns)}) FORMAT JSONCompactEachRow\n" + b"\n".join(lines).decode()
        self._query(sql, "CSV")
        return len(lines)

    def close(self):
        with self._lock:
            try:
                self._session.close()
            except Exception:
                pass


def connect(clickhouse_url: str = "", chdb_path: str | Path | None = None) -> Engine:
    """Open the engine a URL names: ``clickhouse://user:pass@host:9000/db`` or ``chdb:///path``."""
    if clickhouse_url.startswith("chdb://"):
        return ChdbEngine(urlparse(clickhouse_url).path or chdb_path)
    if clickhouse_url:
        if not clickhouse_url.startswith(("clickhouse://", "clickhouses://")):
            raise EngineUnavailable(
                f"CLICKHOUSE_URL={clickhouse_url!r} is not clickhouse://user:pass@host:9000/db or chdb:///path")
        return ServerEngine(clickhouse_url)
    if chdb_path is None:
        raise EngineUnavailable("no ClickHouse configured: set CLICKHOUSE_URL or pass --data-dir")
    return ChdbEngine(chdb_path)
