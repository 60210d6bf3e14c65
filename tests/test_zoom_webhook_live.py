"""Issue 4, must-show 3: a signed Zoom webhook reaches the live panel within 5 s; a bad signature
gets 401 and changes nothing."""
from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest

from cli_helpers import MEETPULSE, ROOT, env_with, metric, run_cli, start_daemon, wait_until
from components import free_port

pytestmark = pytest.mark.slow
SECRET = "test-webhook-secret"


def zoom_body(event: str, uuid_: str, when: datetime, participant: dict | None = None) -> bytes:
    obj = {"uuid": uuid_, "id": 81234567890, "host_id": "hostXYZ", "topic": "Weekly sync", "type": 2,
           "start_time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "timezone": "", "duration": 30}
    if participant:
        obj["participant"] = participant
    return json.dumps({"event": event, "payload": {"account_id": "acc1", "object": obj}}).encode()


def post(url: str, body: bytes, secret: str = SECRET, stamp: int | None = None):
    stamp = int(time.time()) if stamp is None else stamp
    signature = "v0=" + hmac.new(secret.encode(), b"v0:%d:" % stamp + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "x-zm-request-timestamp": str(stamp), "x-zm-signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def realtime(base: str) -> dict:
    with urllib.request.urlopen(base + "/api/v1/analytics/realtime", timeout=5) as response:
        return json.loads(response.read())


def test_signed_webhook_reaches_the_live_panel(tmp_path, broker, redis_client, redis_server, fresh_database):
    topic = "zoom-" + uuid.uuid4().hex[:8]
    env = env_with(KAFKA_BOOTSTRAP_SERVERS=broker, REDIS_URL=redis_server.url, CLICKHOUSE_URL=fresh_database[0],
                   KAFKA_TOPIC=topic, KAFKA_DLQ_TOPIC=topic + "-dlq", KAFKA_GROUP_ID="g-" + topic,
                   ZOOM_WEBHOOK_SECRET=SECRET, MEETPULSE_PSEUDONYM_KEY="k" * 32,
                   MEETPULSE_DATA_DIR=str(tmp_path / "data"), INGEST_BATCH_MAX_SECONDS=0.2)
    assert run_cli(["migrate"], env).returncode == 0
    metrics_port, web_port = free_port(), free_port()
    daemon = start_daemon(env, metrics_port, log_path=tmp_path / "daemon.log")
    web = subprocess.Popen(MEETPULSE + ["serve", "--port", str(web_port)], env=env, cwd=ROOT,
                           stdout=open(tmp_path / "web.log", "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{web_port}"
    try:
        wait_until(lambda: _up(base), 30, what="the web app")
        wait_until(lambda: metric(metrics_port, "meetpulse_ingest_consumed_total") is not None, 30,
                   what="the daemon")
        before = realtime(base)
        now = datetime.now(timezone.utc)
        meeting = "inst-" + uuid.uuid4().hex[:8] + "=="

        # URL validation challenge
        status, answer = post(base + "/webhooks/zoom", json.dumps(
            {"event": "endpoint.url_validation", "payload": {"plainToken": "abc123"}}).encode())
        assert status == 200
        assert answer == {"plainToken": "abc123",
                          "encryptedToken": hmac.new(SECRET.encode(), b"abc123", hashlib.sha256).hexdigest()}

        # a bad signature: 401, nothing published
        status, answer = post(base + "/webhooks/zoom", zoom_body("meeting.started", meeting, now), secret="wrong")
        assert status == 401 and "x-zm-signature" in answer["error"]
        status, _ = post(base + "/webhooks/zoom", zoom_body("meeting.started", meeting, now),
                         stamp=int(time.time()) - 3600)
        assert status == 401
        time.sleep(1.5)
        assert metric(metrics_port, "meetpulse_ingest_consumed_total") == 0
        assert realtime(base)["live_meetings"] == before["live_meetings"]

        sent = time.monotonic()
        assert post(base + "/webhooks/zoom", zoom_body("meeting.started", meeting, now))[0] == 200
        person = {"user_id": "16778240", "user_name": "Dana Example", "id": "p-dana", "join_time":
                  now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        status, answer = post(base + "/webhooks/zoom",
                              zoom_body("meeting.participant_joined", meeting, now, person))
        assert status == 200 and answer["published"] == 1
        live = wait_until(lambda: (r := realtime(base))["live_participants"] >= 1 and r, 5, 0.1,
                          what="the webhook in the live panel")
        assert time.monotonic() - sent < 5
        assert live["live_meetings"] == before["live_meetings"] + 1
        assert live["live_participants"] == before["live_participants"] + 1
    finally:
        web.send_signal(signal.SIGINT)
        web.wait(15)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0


def _up(base: str) -> bool:
    try:
        realtime(base)
        return True
    except OSError:
        return False
