"""A broker without persistence restarts under a running daemon: the daemon finds the re-created
topic by itself, and the live counters start their offsets over instead of ignoring new messages."""
from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
import redis

from cli_helpers import env_with, metric, run_cli, start_daemon, wait_until
from components import ComponentUnavailable, free_port, tansu_binary, unavailable

pytestmark = pytest.mark.slow


class Tansu:
    def __init__(self):
        self.port = free_port()
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([str(tansu_binary()), "broker", "--listener-url", self.url,
                                      "--advertised-listener-url", self.url, "--storage-engine", "memory://tansu/"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def _lines(path, prefix, count, now):
    path.write_text("".join(json.dumps({"eventType": "MEETING_STARTED", "timestamp": now,
                                        "meetingId": f"{prefix}{i}"}) + "\n" for i in range(count)))
    return path


def test_daemon_resumes_after_a_memory_broker_restart(tmp_path, redis_client, redis_server, fresh_database):
    try:
        broker = Tansu()
        broker.start()
    except ComponentUnavailable as exc:
        unavailable(str(exc))
    env = env_with(KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{broker.port}", REDIS_URL=redis_server.url,
                   CLICKHOUSE_URL=fresh_database[0], KAFKA_TOPIC="restart-t", KAFKA_DLQ_TOPIC="restart-t-dlq",
                   KAFKA_GROUP_ID="restart-g", INGEST_BATCH_MAX_SECONDS=0.2)
    assert run_cli(["migrate"], env).returncode == 0
    port = free_port()
    daemon = start_daemon(env, port, log_path=tmp_path / "daemon.log")
    now = int(time.time() * 1000)
    try:
        assert run_cli(["import", str(_lines(tmp_path / "a.jsonl", "a", 50, now)), "--no-progress"],
                       env).returncode == 0
        wait_until(lambda: (metric(port, "meetpulse_ingest_consumed_total") or 0) >= 50, 60, what="the first 50")
        broker.stop()
        broker.start()  # same port, empty: the topic and the group's offsets are gone
        assert run_cli(["import", str(_lines(tmp_path / "b.jsonl", "b", 5, now)), "--no-progress"],
                       env).returncode == 0
        wait_until(lambda: (metric(port, "meetpulse_ingest_consumed_total") or 0) >= 55, 60,
                   what="the daemon to resume on the re-created topic")
        assert daemon.poll() is None
        wait_until(lambda: redis.Redis.from_url(redis_server.url).zcard("meetpulse:live:meetings") == 55, 20,
                   what="the live counters to take the new offsets")
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        broker.stop()
