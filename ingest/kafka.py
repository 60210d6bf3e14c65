"""The one module that imports confluent_kafka: producer, consumer and admin wrappers."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

log = logging.getLogger(__name__)
# librdkafka's own log lines go through Python logging (quiet unless --verbose), not raw stderr
LIBRDKAFKA_LOG = logging.getLogger("librdkafka")


def _base(bootstrap: str) -> dict:
    return {"bootstrap.servers": bootstrap, "logger": LIBRDKAFKA_LOG}

# A consumer with librdkafka's defaults waits ~23 s for its first assignment on tansu; these
# bring it to ~3 s and still suit a real Kafka cluster.
FAST_GROUP_SETTINGS = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


class BrokerUnavailable(RuntimeError):
    """The Kafka-protocol broker did not answer."""


@dataclass(frozen=True)
class Message:
    """What the ingest loop needs of one Kafka message."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None


def ensure_topics(bootstrap: str, topics: Sequence[str], partitions: int = 3, timeout: float = 10.0) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    admin = AdminClient(_base(bootstrap))
    try:
        existing = admin.list_topics(timeout=timeout).topics
    except KafkaException as exc:
        raise BrokerUnavailable(f"Kafka broker at {bootstrap} did not answer: {exc}") from None
    missing = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics if t not in existing]
    if not missing:
        return
    for topic, future in admin.create_topics(missing, operation_timeout=timeout).items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise


class KafkaProducer:
    """Thin producer: bytes in, delivery errors surfaced on flush."""

    def __init__(self, bootstrap: str, **config):
        conf = {**_base(bootstrap), "linger.ms": 5, "enable.idempotence": False}
        conf.update(config)
        self._producer = Producer(conf)
        self._errors: list[str] = []

    def _on_delivery(self, err, _msg) -> None:
        if err is not None:
            self._errors.append(str(err))

    def send(self, topic: str, value: bytes, key: bytes | str | None = None,
             headers: dict[str, bytes | str] | None = None) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers,
                                       on_delivery=self._on_delivery)
                break
            except BufferError:
                self._producer.poll(0.1)
        self._producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        remaining = self._producer.flush(timeout)
        errors, self._errors = self._errors, []
        if remaining:
            raise BrokerUnavailable(f"{remaining} messages not delivered within {timeout:.0f}s")
        if errors:
            raise BrokerUnavailable(f"{len(errors)} messages failed: {errors[0]}")


class KafkaConsumer:
    """Consumer-group member with manual commits, pause/resume and lag."""

    def __init__(self, bootstrap: str, group_id: str, topics: Iterable[str], **config):
        conf = {
            **_base(bootstrap),
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            # notice a topic that was deleted and created again (a broker without persistence
            # restarted) within seconds, not librdkafka's default five minutes
            "topic.metadata.refresh.interval.ms": 10000,
            **FAST_GROUP_SETTINGS,
        }
        conf.update(config)
        self._consumer = Consumer(conf)
        self._consumer.subscribe(list(topics))

    def poll_batch(self, max_messages: int, timeout: float) -> list[Message]:
        out = []
        for msg in self._consumer.consume(num_messages=max_messages, timeout=timeout):
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer error: %s", err)
                continue
            ts_type, ts = msg.timestamp()
            out.append(Message(msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(),
                               ts if ts_type != 0 and ts >= 0 else None))
        return out

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Commit ``next offset to read`` per (topic, partition)."""
        if not offsets:
            return
        parts = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        self._consumer.commit(offsets=parts, asynchronous=False)

    def assignment(self) -> list[tuple[str, int]]:
        return [(tp.topic, tp.partition) for tp in self._consumer.assignment()]

    def pause_all(self) -> None:
        parts = self._consumer.assignment()
        if parts:
            self._consumer.pause(parts)

    def resume_all(self) -> None:
        parts = self._consumer.assignment()
        if parts:
            self._consumer.resume(parts)

    def keep_alive(self) -> None:
        """Serve group callbacks while paused, so the member keeps its assignment."""
        for msg in self._consumer.consume(num_messages=1, timeout=0.2):
            log.debug("message while paused (will be re-read): %s", msg.offset())

    def high_watermarks(self) -> dict[tuple[str, int], tuple[int, int]]:
        """(position, end offset) of each assigned partition (position -1 when not known yet)."""
        parts = self._consumer.assignment()
        if not parts:
            return {}
        out = {}
        for tp in self._consumer.position(parts):
            try:
                _low, high = self._consumer.get_watermark_offsets(tp, timeout=1.0, cached=False)
            except KafkaException:
                continue
            out[(tp.topic, tp.partition)] = (tp.offset, high)
        return out

    def close(self) -> None:
        self._consumer.close()
