"""Where a Zoom leave finds its join across files and requests: a tiny key-value interface.

Values are JSON-able dicts. ``flush()`` makes updates durable (a no-op in memory). A Redis
implementation only needs ``get``/``put``/``flush`` (e.g. GET/SET of the JSON text).
"""
from __future__ import annotations

import json
import os
import tempfile
from typing import Protocol

try:  # POSIX advisory lock so two processes flushing the same file do not lose updates
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


class JoinStateStore(Protocol):
    def get(self, key: str) -> dict | None: ...

    def put(self, key: str, value: dict) -> None: ...

    def flush(self) -> None: ...


class MemoryJoinStateStore:
    """Process-local store (tests, one-shot imports)."""

    def __init__(self):
        self._data: dict[str, dict] = {}

    def get(self, key: str) -> dict | None:
        value = self._data.get(key)
        return None if value is None else json.loads(json.dumps(value))

    def put(self, key: str, value: dict) -> None:
        self._data[key] = json.loads(json.dumps(value))

    def flush(self) -> None:
        return None


class JsonFileJoinStateStore:
    """One JSON file (e.g. ``<data folder>/zoom-join-state.json``), rewritten atomically on flush.

    On flush the file is re-read under a lock and only the keys changed here are overwritten,
    so two importers sharing the file keep each other's meetings.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._data = self._read()
        self._dirty: set[str] = set()

    def _read(self) -> dict:
        try:
            with open(self.path, "rb") as handle:
                data = json.loads(handle.read() or b"{}")
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return {}

    def get(self, key: str) -> dict | None:
        value = self._data.get(key)
        return None if value is None else json.loads(json.dumps(value))

    def put(self, key: str, value: dict) -> None:
        self._data[key] = json.loads(json.dumps(value))
        self._dirty.add(key)

    def flush(self) -> None:
        if not self._dirty:
            return
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        with open(self.path + ".lock", "a+") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            merged = self._read()
            for key in self._dirty:
                merged[key] = self._data[key]
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".joinstate-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(merged, out, sort_keys=True, separators=(",", ":"))
            os.replace(tmp, self.path)
            self._data = merged
            self._dirty.clear()
