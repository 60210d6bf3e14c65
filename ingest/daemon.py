"""The consumer loop: batch, write to ClickHouse and Redis, dead-letter, then commit offset + 1.

Shape after Arroyo / Quix Streams: a batch bounded in size and time with an injected clock,
sinks that write a whole batch, commit at the end of the chain, pause (not sleep) while a sink
is down, and shutdown through a flag the loop reads.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Callable

import redis as redis_lib

from queries.engine import EngineUnavailable, QueryError

from .kafka import BrokerUnavailable, KafkaConsumer, KafkaProducer, Message
from .live import record_consumer_lag
from .metrics import IngestMetrics
from .pipeline import BatchResult, Sinks, decode_batch

log = logging.getLogger(__name__)

RETRYABLE = (EngineUnavailable, QueryError, BrokerUnavailable, redis_lib.exceptions.ConnectionError,
             redis_lib.exceptions.TimeoutError, redis_lib.exceptions.BusyLoadingError, OSError)
ERROR_HEADER = "meetpulse-error"


class RetryLimitExceeded(RuntimeError):
    """A sink stayed down longer than INGEST_RETRY_LIMIT_S; the daemon exits non-zero."""


@dataclass
class Batch:
    """Messages gathered until ``max_messages`` or ``max_seconds`` (by the injected clock)."""

    max_messages: int
    max_seconds: float
    clock: Callable[[], float] = time.monotonic
    messages: list[Message] = field(default_factory=list)
    opened: float | None = None

    def add(self, messages: list[Message]) -> None:
        if messages and self.opened is None:
            self.opened = self.clock()
        self.messages.extend(messages)

    def ready(self) -> bool:
        if not self.messages:
            return False
        return len(self.messages) >= self.max_messages or self.clock() - self.opened >= self.max_seconds

    def commit_offsets(self) -> dict[tuple[str, int], int]:
        offsets: dict[tuple[str, int], int] = {}
        for m in self.messages:
            key = (m.topic, m.partition)
            offsets[key] = max(offsets.get(key, -1), m.offset + 1)
        return offsets


class IngestDaemon:
    def __init__(self, consumer: KafkaConsumer, dlq_producer: KafkaProducer, dlq_topic: str, sinks: Sinks,
                 metrics: IngestMetrics, *, max_messages: int = 5000, max_seconds: float = 0.5,
                 max_bytes: int = 1_048_576, retry_limit_s: float = 300.0, max_backoff_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, on_batch: Callable[[BatchResult], None] | None = None):
        self.consumer = consumer
        self.dlq_producer = dlq_producer
        self.dlq_topic = dlq_topic
        self.sinks = sinks
        self.metrics = metrics
        self.max_messages = max_messages
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self.retry_limit_s = retry_limit_s
        self.max_backoff_s = max_backoff_s
        self.clock = clock
        self.on_batch = on_batch
        self.stopping = False
        self._last_lag_check = 0.0
        self._batches = 0
        # Test hook for the crash-replay guarantee: SIGKILL this process after the Nth batch's
        # writes and before its commit (MEETPULSE_FAULT_KILL_BEFORE_COMMIT=N).
        fault = os.environ.get("MEETPULSE_FAULT_KILL_BEFORE_COMMIT", "")
        self._kill_after = int(fault) if fault.isdigit() else None

    def stop(self, *_args) -> None:
        """Ask the loop to finish the batch in hand, commit and return (signal-handler safe)."""
        self.stopping = True

    def run(self) -> None:
        self.metrics.set(status="running", healthy=True)
        batch = Batch(self.max_messages, self.max_seconds, self.clock)
        try:
            while True:
                if not self.stopping:
                    room = self.max_messages - len(batch.messages)
                    batch.add(self.consumer.poll_batch(room, timeout=min(0.2, self.max_seconds)))
                if batch.ready() or (self.stopping and batch.messages):
                    if not self._process(batch):
                        break  # stopping during an outage: leave the batch uncommitted
                    batch = Batch(self.max_messages, self.max_seconds, self.clock)
                if self.stopping and not batch.messages:
                    break
                self._maybe_record_lag()
        finally:
            self.metrics.set(status="stopped")
            self.consumer.close()

    def _process(self, batch: Batch) -> bool:
        started = time.perf_counter()
        decoded = decode_batch(batch.messages, self.max_bytes)
        result = self._write_with_retry(decoded)
        if result is None:
            return False
        self._batches += 1
        if self._kill_after is not None and self._batches >= self._kill_after:
            log.warning("fault injection: killed after the writes of batch %d, before its commit", self._batches)
            os.kill(os.getpid(), signal.SIGKILL)
        self.consumer.commit(batch.commit_offsets())
        self.metrics.record_commit()
        self.metrics.record_batch(result, time.perf_counter() - started)
        if self.on_batch is not None:
            self.on_batch(result)
        return True

    def _write_once(self, decoded, done: dict) -> BatchResult:
        """Run the steps not yet done for this batch; ``done`` keeps what succeeded across retries."""
        now_ms = done.setdefault("now_ms", int(time.time() * 1000))
        if "result" not in done:
            done["result"] = self.sinks.write_clickhouse(decoded, now_ms)
        result = done["result"]
        if "sessions" not in done:
            self.sinks.refresh_sessions(decoded, now_ms)
            done["sessions"] = True
        if result.invalid and "dlq" not in done:
            for d in result.invalid:
                m = d.message
                self.dlq_producer.send(self.dlq_topic, m.value or b"", key=m.key,
                                       headers={ERROR_HEADER: d.result.reason})
            self.dlq_producer.flush()
            done["dlq"] = True
        self.sinks.write_redis(decoded, result, now_ms)
        return result

    def _write_with_retry(self, decoded) -> BatchResult | None:
        deadline = self.clock() + self.retry_limit_s
        backoff = 0.2
        paused = False
        done: dict = {}
        try:
            while True:
                try:
                    result = self._write_once(decoded, done)
                    if paused:
                        log.info("sinks are back; resuming")
                        self.metrics.set(status="running", healthy=True)
                    return result
                except RETRYABLE as exc:
                    self.metrics.set(write_failures=self.metrics.write_failures + 1, status=f"retrying: {exc}")
                    if self.stopping:
                        log.warning("stopping during an outage; batch left uncommitted: %s", exc)
                        return None
                    if self.clock() + backoff > deadline:
                        self.metrics.set(healthy=False, status=f"gave up: {exc}")
                        raise RetryLimitExceeded(
                            f"a sink stayed down for {self.retry_limit_s:.0f}s (INGEST_RETRY_LIMIT_S): {exc}") from None
                    log.warning("write failed, retrying in %.1fs: %s", backoff, exc)
                    if not paused:
                        self.consumer.pause_all()
                        paused = True
                    self._wait(backoff)
                    backoff = min(self.max_backoff_s, backoff * 2)
        finally:
            if paused:
                self.consumer.resume_all()

    def _wait(self, seconds: float) -> None:
        end = self.clock() + seconds
        while self.clock() < end and not self.stopping:
            self.consumer.keep_alive()

    def _maybe_record_lag(self) -> None:
        now = time.monotonic()
        if now - self._last_lag_check < 5.0:
            return
        self._last_lag_check = now
        try:
            ends = self.consumer.high_watermarks()
        except Exception as exc:  # lag is informative only
            log.debug("lag unavailable: %s", exc)
            return
        lag = sum(max(0, high - position) for position, high in ends.values() if position >= 0)
        self.metrics.set(consumer_lag=lag)
        if self.sinks.live is not None:
            try:
                record_consumer_lag(self.sinks.live.redis, int(time.time() * 1000), lag)
                # a partition whose log now ends at or below what Redis applied was recreated
                # (a broker without persistence restarted): its watermark must start over
                self.sinks.live.forget_watermarks_beyond({f"{t}:{p}": high for (t, p), (_pos, high) in ends.items()})
            except RETRYABLE:
                pass
