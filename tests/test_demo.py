"""Issue 2, must-show 5: `meetpulse demo` shows live counters moving within 15 s of its start,
Ctrl-C stops every child, and a second run on the same folder finds the first run's data."""
from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request

import pytest
import redis

from cli_helpers import MEETPULSE, ROOT, env_with, iso, run_cli, wait_until
from components import free_port
from ingest.live import read_live_status

pytestmark = pytest.mark.slow


def _start_demo(data, port, log):
    return subprocess.Popen(MEETPULSE + ["demo", "--data-dir", str(data), "--port", str(port), "--rate", "60"],
                            env=env_with(), cwd=ROOT, stdout=open(log, "wb"), stderr=subprocess.STDOUT)


def _holder(data):
    try:
        return json.loads((data / "meetpulse.lock").read_text() or "{}")
    except (OSError, ValueError):
        return {}


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_demo_live_counters_move_within_15s_and_stop_cleanly(tmp_path):
    data, port = tmp_path / "demo", free_port()
    started = time.monotonic()
    demo = _start_demo(data, port, tmp_path / "demo.log")
    try:
        holder = wait_until(lambda: _holder(data).get("web") and _holder(data), 15, 0.1, "the demo to start")
        client = redis.Redis.from_url(holder["redis"])
        def status_after(last_ms):
            status = read_live_status(client)
            return status if (status["last_event_ms"] or 0) > last_ms else None

        first = wait_until(lambda: status_after(0), 15 - (time.monotonic() - started), 0.2, "a first live event")
        second = wait_until(lambda: status_after(first["last_event_ms"]), 15 - (time.monotonic() - started), 0.2,
                            "the live counters to move")
        assert time.monotonic() - started < 15
        assert second["live_meetings"] > 0 and second["live_participants"] > 0
        page = urllib.request.urlopen(holder["web"], timeout=10)
        assert page.status == 200
        children = _children(demo.pid)
        assert len(children) >= 2  # broker and redis-server
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(30)
    assert code == 0, (tmp_path / "demo.log").read_text()[-2000:]
    time.sleep(0.5)
    for pid in children:
        assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0, "child left running"

    now_ms = int(time.time() * 1000)
    env = env_with()
    first_run = json.loads(run_cli(["stats", "--from", iso(now_ms - 3600_000), "--to", iso(now_ms + 60_000),
                                    "--data-dir", str(data), "--json"], env).stdout)
    assert first_run["meetings"] > 0 and first_run["quality"]["samples"] > 0

    # a second run finds the data of the first; commands on the busy folder go through it or say who has it
    demo = _start_demo(data, free_port(), tmp_path / "demo2.log")
    mine = tmp_path / "mine.jsonl"
    mine.write_text(json.dumps({"eventType": "MEETING_STARTED", "timestamp": now_ms, "meetingId": "imported-1",
                                "eventId": "imported-1-start"}) + "\n")
    try:
        wait_until(lambda: _holder(data).get("web"), 15, 0.1, "the second demo to start")
        through = run_cli(["stats", "--from", iso(now_ms - 3600_000), "--to", iso(now_ms + 60_000),
                           "--data-dir", str(data), "--json"], env)
        assert through.returncode == 0, through.stderr
        assert json.loads(through.stdout)["meetings"] >= first_run["meetings"]
        published = run_cli(["import", str(mine), "--data-dir", str(data), "--no-progress"], env)
        assert published.returncode == 0 and "published into the running meetpulse demo" in published.stdout
        busy = run_cli(["migrate", "--data-dir", str(data)], env)
        assert busy.returncode == 2
        assert busy.stderr.count("\n") == 1 and f"process {demo.pid}" in busy.stderr
        time.sleep(2)  # the demo's ingest loop stores the imported message
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(30) == 0
    again = json.loads(run_cli(["stats", "--from", iso(now_ms - 3600_000), "--to", iso(now_ms + 60_000),
                                "--data-dir", str(data), "--json"], env).stdout)
    assert again["meetings"] >= first_run["meetings"] + 1  # the imported meeting too
    assert again["quality"]["samples"] >= first_run["quality"]["samples"]
