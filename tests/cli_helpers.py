"""Run the ``meetpulse`` command line as a user would, in subprocesses."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEETPULSE = [sys.executable, "-m", "meetpulse.cli"]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def env_with(**values) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CLICKHOUSE_URL", "KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "KAFKA_TOPIC", "KAFKA_GROUP_ID")}
    env["PYTHONPATH"] = str(ROOT)
    env.update({k: str(v) for k, v in values.items() if v is not None})
    return env


def run_cli(args: list[str], env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(MEETPULSE + args, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def stats_json(env: dict, from_ms: int, to_ms: int, extra: list[str] = ()) -> dict:
    out = run_cli(["stats", "--from", iso(from_ms), "--to", iso(to_ms), "--json", *extra], env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def start_daemon(env: dict, metrics_port: int, extra: list[str] = (), log_path: Path | None = None):
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    return subprocess.Popen(MEETPULSE + ["ingest", "--metrics-port", str(metrics_port), *extra], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def metric(port: int, name: str) -> float | None:
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return None
    total = None
    for line in body.splitlines():
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? ([0-9.eE+-]+)$", line)
        if m:
            total = (total or 0) + float(m.group(2))
    return total


def wait_until(predicate, timeout: float, interval: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
