"""Issue 2, must-show 3: ClickHouse or Redis stopped mid-ingest; nothing lost, nothing counted twice,
and the same daemon process recovers by itself."""
from __future__ import annotations

import signal
import time
import uuid

import pytest
import redis

import oracle
import pipeline_fixture as pf
from cli_helpers import env_with, metric, run_cli, start_daemon, wait_until
from components import free_port
from test_pipeline_end_to_end import assert_all_ranges

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    messages = pf.build_fixture()
    folder = tmp_path_factory.mktemp("halves")
    first, second = folder / "first.jsonl", folder / "second.jsonl"
    cut = len(messages) // 2
    pf.write_jsonl(first, messages[:cut])
    pf.write_jsonl(second, messages[cut:])
    raw = pf.with_kafka_ts(messages)
    expected = {name: oracle.expected_stats(raw, a, b) for name, (a, b) in pf.NAMED_RANGES.items()}
    return first, second, len(messages), expected


def _env(broker, redis_server, url):
    topic = "outage-" + uuid.uuid4().hex[:8]
    return env_with(KAFKA_BOOTSTRAP_SERVERS=broker, REDIS_URL=redis_server.url, CLICKHOUSE_URL=url,
                    KAFKA_TOPIC=topic, KAFKA_DLQ_TOPIC=topic + "-dlq", KAFKA_GROUP_ID="g-" + topic,
                    INGEST_BATCH_MAX_MESSAGES=400, INGEST_BATCH_MAX_SECONDS=0.2, INGEST_RETRY_MAX_BACKOFF_S=1)


def _consumed(port):
    return metric(port, "meetpulse_ingest_consumed_total") or 0


@pytest.mark.parametrize("component", ["clickhouse", "redis"])
def test_outage_mid_ingest_heals_without_restart(tmp_path, broker, redis_server, clickhouse_server,
                                                 fresh_database, halves, component):
    first, second, total, expected = halves
    env = _env(broker, redis_server, fresh_database[0])
    assert run_cli(["migrate"], env).returncode == 0
    port = free_port()
    daemon = start_daemon(env, port, log_path=tmp_path / "daemon.log")
    server = clickhouse_server if component == "clickhouse" else redis_server
    try:
        assert run_cli(["import", str(first), "--no-progress"], env).returncode == 0
        wait_until(lambda: _consumed(port) > 0, 60, what="the first batches")
        server.stop()
        assert run_cli(["import", str(second), "--no-progress"], env).returncode == 0
        wait_until(lambda: (metric(port, "meetpulse_ingest_write_failures_total") or 0) >= 2, 60,
                   what="failed writes while the server is down")
        stuck = _consumed(port)
        time.sleep(2)
        assert _consumed(port) == stuck, "nothing is committed while a sink is down"
        assert daemon.poll() is None
        server.start()
        wait_until(lambda: _consumed(port) >= total, 120, what="the daemon to catch up after the outage")
        assert daemon.poll() is None, "the same process recovered"
        assert metric(port, "meetpulse_ingest_stored_total") == 3987
        assert_all_ranges(env, expected)
        if component == "redis":
            # Redis came back empty: the live state was rebuilt from ClickHouse, dead letters included
            client = redis.Redis.from_url(redis_server.url)
            assert client.scard("meetpulse:dlq:hashes") == 12
    finally:
        if server.proc is None:
            server.start()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
