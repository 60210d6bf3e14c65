"""Issue 2, must-show 1, 2 and 4: the fixture through the real pipeline on both engines equals the oracle.

The oracle (tests/oracle.py) is an independent plain-Python reading of DESIGN sections 3-4.
"""
from __future__ import annotations

import signal
import uuid

import pytest
from confluent_kafka import Consumer

import oracle
import pipeline_fixture as pf
from cli_helpers import env_with, metric, run_cli, start_daemon, stats_json, wait_until
from components import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fixture_messages():
    return pf.build_fixture()


@pytest.fixture(scope="module")
def fixture_file(tmp_path_factory, fixture_messages):
    path = tmp_path_factory.mktemp("fixture") / "events.jsonl"
    pf.write_jsonl(path, fixture_messages)
    return path


@pytest.fixture(scope="module")
def expected(fixture_messages):
    raw = pf.with_kafka_ts(fixture_messages)
    return {name: oracle.expected_stats(raw, a, b) for name, (a, b) in pf.NAMED_RANGES.items()}


def assert_all_ranges(env, expected, extra=()):
    for name, (a, b) in pf.NAMED_RANGES.items():
        got = stats_json(env, a, b, list(extra))
        assert oracle.stats_close(got, expected[name]) == [], name


def test_fixture_shape(fixture_messages):
    assert len(fixture_messages) >= 2000
    reasons = {r.split(":")[0] for r in pf.EXPECTED_DEAD_LETTERS}
    assert reasons >= {"not_utf8", "not_json", "not_object", "unknown_event_type", "missing_field",
                       "wrong_type", "out_of_range", "bad_timestamp", "too_large"}


def test_import_then_stats_embedded_chdb(tmp_path, fixture_file, expected):
    env = env_with()
    data = tmp_path / "data"
    out = run_cli(["import", str(fixture_file), "--data-dir", str(data), "--no-progress"], env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert f"read {len(pf.build_fixture())}" in lines
    assert "dead-lettered 12" in lines
    assert_all_ranges(env, expected, ["--data-dir", str(data)])
    # a second import of the same file changes no number
    out = run_cli(["import", str(fixture_file), "--data-dir", str(data), "--no-progress"], env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "stored 0" in out.stdout.splitlines()
    assert_all_ranges(env, expected, ["--data-dir", str(data)])


def _server_env(broker, redis_server, database_url, topic):
    return env_with(KAFKA_BOOTSTRAP_SERVERS=broker, REDIS_URL=redis_server.url, CLICKHOUSE_URL=database_url,
                    KAFKA_TOPIC=topic, KAFKA_DLQ_TOPIC=topic + "-dlq", KAFKA_GROUP_ID=f"g-{topic}", INGEST_BATCH_MAX_MESSAGES=500,
                    INGEST_BATCH_MAX_SECONDS=0.2)


def _read_dlq(broker, topic, expected_count, timeout=30.0):
    consumer = Consumer({"bootstrap.servers": broker, "group.id": f"dlq-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
                         "heartbeat.interval.ms": 1000})
    consumer.subscribe([topic])
    got = []
    try:
        wait_until(lambda: (got.extend(m for m in consumer.consume(50, 0.5) if not m.error()) or
                            len(got) >= expected_count), timeout, what="dead letters")
    finally:
        consumer.close()
    return got


def test_server_daemon_dead_letters_and_stats(tmp_path, broker, redis_server, fresh_database, fixture_file,
                                              fixture_messages, expected):
    url, _name = fresh_database
    topic = "events-" + uuid.uuid4().hex[:8]
    env = _server_env(broker, redis_server, url, topic)
    assert run_cli(["migrate"], env).returncode == 0
    port = free_port()
    daemon = start_daemon(env, port, log_path=tmp_path / "daemon.log")
    try:
        out = run_cli(["import", str(fixture_file), "--no-progress"], env)
        assert out.returncode == 0, out.stderr
        wait_until(lambda: (metric(port, "meetpulse_ingest_consumed_total") or 0) >= len(fixture_messages), 120,
                   what="the daemon to consume the fixture")
        assert metric(port, "meetpulse_ingest_stored_total") == 3987
        assert metric(port, "meetpulse_ingest_dead_lettered_total") == 12
        assert_all_ranges(env, expected)

        dead = _read_dlq(broker, topic + "-dlq", 12)
        by_bytes = {m.value(): dict(m.headers() or [])["meetpulse-error"].decode() for m in dead}
        wanted = {}
        for raw, kafka_ts in pf.with_kafka_ts(fixture_messages):
            _message, reason = oracle.validate(raw, kafka_ts)
            if reason:
                wanted[raw] = reason
        assert len(wanted) == 12
        assert by_bytes == wanted
        assert daemon.poll() is None, "the daemon keeps going after invalid messages"
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0


@pytest.mark.parametrize("engine_kind", ["chdb", "server"])
def test_kill_9_before_commit_then_restart(tmp_path, broker, redis_server, fresh_database, fixture_file,
                                           fixture_messages, expected, engine_kind):
    topic = "events-" + uuid.uuid4().hex[:8]
    if engine_kind == "server":
        env = _server_env(broker, redis_server, fresh_database[0], topic)
        assert run_cli(["migrate"], env).returncode == 0
        extra = []
    else:
        env = _server_env(broker, redis_server, None, topic)
        extra = ["--data-dir", str(tmp_path / "data")]
    out = run_cli(["import", str(fixture_file), "--no-progress"], env)
    assert out.returncode == 0, out.stderr

    port = free_port()
    crashing = start_daemon({**env, "MEETPULSE_FAULT_KILL_BEFORE_COMMIT": "3"}, port, extra,
                            log_path=tmp_path / "crash.log")
    assert crashing.wait(120) == -signal.SIGKILL
    assert "killed after the writes of batch 3" in (tmp_path / "crash.log").read_text()

    daemon = start_daemon(env, port, extra, log_path=tmp_path / "restart.log")
    try:
        # the restarted member re-reads the uncommitted batch: 500 messages at least
        wait_until(lambda: (metric(port, "meetpulse_ingest_consumed_total") or 0) >= len(fixture_messages) - 1000,
                   120, what="the restarted daemon to catch up")
        assert (metric(port, "meetpulse_ingest_duplicates_total") or 0) >= 500
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    assert_all_ranges(env, expected, extra)
