"""``POST /webhooks/zoom``: Zoom's live events, signature-checked, published like any producer."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import orjson
from flask import Blueprint, jsonify, request

log = logging.getLogger(__name__)


def zoom_webhook_blueprint(secret: str, options_factory: Callable, publish: Callable[[list[dict]], None] | None):
    """``options_factory()`` gives the importer options (join state, pseudonym key);
    ``publish(messages)`` sends contract-v1 messages to the topic (None: no broker configured)."""
    from ingest.importers import verify_zoom_signature, zoom_url_validation_response, zoom_webhook_events

    blueprint = Blueprint("zoom_webhook", __name__)
    lock = threading.Lock()  # one request at a time updates the join state
    state: dict = {}

    def error(status: int, message: str):
        return jsonify({"error": message}), status

    @blueprint.post("/webhooks/zoom")
    def zoom():
        if not secret:
            return error(503, "Zoom webhooks are off: set ZOOM_WEBHOOK_SECRET")
        raw = request.get_data(cache=False)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return error(400, "body: not JSON")
        if not isinstance(body, dict):
            return error(400, "body: not a JSON object")
        if not verify_zoom_signature(secret, request.headers.get("x-zm-request-timestamp"),
                                     request.headers.get("x-zm-signature"), raw, time.time()):
            return error(401, "x-zm-signature: signature or timestamp does not match")
        if body.get("event") == "endpoint.url_validation":
            return jsonify(zoom_url_validation_response(secret, body))
        if publish is None:
            return error(503, "Kafka: no broker configured for webhook events (KAFKA_BOOTSTRAP_SERVERS)")
        with lock:
            if "options" not in state:
                state["options"] = options_factory()
            options = state["options"]
            skipped_before = len(options.summary.skipped)
            messages = zoom_webhook_events(body, options)
            skipped = [reason for _path, _line, reason in options.summary.skipped[skipped_before:]]
        try:
            publish(messages)
        except Exception as exc:  # the broker is down: Zoom retries a non-2xx delivery
            log.warning("zoom webhook not published: %s", exc)
            return error(503, f"Kafka: {exc}")
        return jsonify({"published": len(messages), "skipped": skipped})

    return blueprint


def kafka_publisher(bootstrap: str, topic: str) -> Callable[[list[dict]], None]:
    from ingest.kafka import KafkaProducer

    producer = KafkaProducer(bootstrap)
    lock = threading.Lock()

    def publish(messages: list[dict]) -> None:
        with lock:
            for message in messages:
                producer.send(topic, orjson.dumps(message), key=message["meetingId"].encode())
            producer.flush(10)

    return publish
