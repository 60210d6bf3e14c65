"""The command line: help for everything, one clear line and exit 2 for a missing component or bad input."""
from __future__ import annotations

import json
import signal
import time

import pytest

from cli_helpers import env_with, run_cli, start_daemon, wait_until
from components import free_port

COMMANDS = ["migrate", "ingest", "simulate", "import", "stats", "serve", "demo"]


def test_help_explains_every_command_and_option():
    top = run_cli(["--help"], env_with())
    assert top.returncode == 0
    for command in COMMANDS:
        assert command in top.stdout
        out = run_cli([command, "--help"], env_with())
        assert out.returncode == 0, command
        lines = out.stdout.split("options:", 1)[1].splitlines()
        for i, line in enumerate(lines):
            words = line.split()
            if not words or not words[0].startswith("-") or words[0] in ("-h,", "--help"):
                continue
            # the option's own line, or the next one, describes it
            described = [w for w in words if not w.startswith("-") and not w.isupper() and w != "{"]
            assert described or (i + 1 < len(lines) and lines[i + 1].startswith(" " * 10)), (command, line)


def _one_line_error(out, *needles):
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert "|FAIL|" not in out.stderr, "librdkafka noise on stderr"
    lines = [l for l in out.stderr.splitlines() if l.startswith("meetpulse")]
    assert len(lines) == 1, out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unreachable_clickhouse_names_the_setting():
    env = env_with(CLICKHOUSE_URL=f"clickhouse://default:@127.0.0.1:{free_port()}/default")
    _one_line_error(run_cli(["stats", "--from", "2026-01-01", "--to", "2026-01-02"], env), "CLICKHOUSE_URL")


def test_bad_clickhouse_url_scheme():
    env = env_with(CLICKHOUSE_URL="postgres://somewhere/db")
    _one_line_error(run_cli(["migrate"], env), "CLICKHOUSE_URL")


def test_unreachable_broker_and_redis(clickhouse_server, redis_server):
    env = env_with(CLICKHOUSE_URL=clickhouse_server.url(), REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                   KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
    _one_line_error(run_cli(["ingest", "--metrics-port", "0"], env), "REDIS_URL")
    env["REDIS_URL"] = redis_server.url
    _one_line_error(run_cli(["ingest", "--metrics-port", "0"], env, timeout=60), "KAFKA_BOOTSTRAP_SERVERS")


def test_bad_times_and_reversed_range(tmp_path):
    env = env_with()
    data = str(tmp_path / "d")
    _one_line_error(run_cli(["stats", "--from", "yesterday", "--to", "2026-01-02", "--data-dir", data], env),
                    "--from", "ISO 8601")
    _one_line_error(run_cli(["stats", "--from", "2026-01-02", "--to", "2026-01-01", "--data-dir", data], env),
                    "--to")


def test_missing_file_and_unknown_format(tmp_path):
    env = env_with()
    data = str(tmp_path / "d")
    _one_line_error(run_cli(["import", str(tmp_path / "nope.jsonl"), "--data-dir", data], env), "no such file")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 nothing we know")
    _one_line_error(run_cli(["import", str(junk), "--data-dir", data], env), "tried formats")


def test_stats_json_keys_and_nulls_on_an_empty_range(tmp_path):
    out = run_cli(["stats", "--from", "2026-01-01T00:00:00", "--to", "2026-01-01T01:00:00+01:00",
                   "--data-dir", str(tmp_path / "d"), "--json"], env_with())
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert list(stats) == ["meetings", "participants", "sessions", "avg_meeting_duration_s", "participant_minutes",
                           "peak_concurrent_participants", "quality", "dead_lettered"]
    assert stats["avg_meeting_duration_s"] is None and stats["participant_minutes"] == 0.0
    assert stats["quality"] == {"samples": 0, "avg_audio_quality": None, "avg_video_quality": None,
                                "avg_latency_ms": None, "avg_packet_loss_pct": None, "p95_latency_ms": None,
                                "avg_mos": None, "poor_audio_pct": None}


@pytest.mark.slow
def test_retry_limit_exceeded_exits_non_zero(tmp_path, broker, redis_server, clickhouse_server, fresh_database):
    env = env_with(KAFKA_BOOTSTRAP_SERVERS=broker, REDIS_URL=redis_server.url, CLICKHOUSE_URL=fresh_database[0],
                   KAFKA_TOPIC="limit-t", KAFKA_DLQ_TOPIC="limit-t-dlq", KAFKA_GROUP_ID="limit-g",
                   INGEST_RETRY_LIMIT_S=3, INGEST_RETRY_MAX_BACKOFF_S=0.5, INGEST_BATCH_MAX_SECONDS=0.1)
    assert run_cli(["migrate"], env).returncode == 0
    port = free_port()
    daemon = start_daemon(env, port, log_path=tmp_path / "daemon.log")
    try:
        wait_until(lambda: _healthz(port) == 200, 30, what="healthz")
        clickhouse_server.stop()
        line = json.dumps({"eventType": "MEETING_STARTED", "timestamp": int(time.time() * 1000),
                           "meetingId": "m-limit"})
        (tmp_path / "one.jsonl").write_text(line + "\n")
        assert run_cli(["import", str(tmp_path / "one.jsonl"), "--no-progress"], env).returncode == 0
        assert daemon.wait(60) == 3
        assert "INGEST_RETRY_LIMIT_S" in (tmp_path / "daemon.log").read_text()
    finally:
        clickhouse_server.start()
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)


def _healthz(port):
    import urllib.error
    import urllib.request

    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None
