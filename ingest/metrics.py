"""The daemon's own counters, served as Prometheus text on /metrics, with /healthz beside them."""
from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BATCH_SIZE_BUCKETS = (1, 10, 100, 500, 1000, 2500, 5000, 10000)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Histogram:
    def __init__(self, buckets):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.total += 1
        self.sum += value
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1

    def lines(self, name: str) -> list[str]:
        out = [f'{name}_bucket{{le="{b}"}} {c}' for b, c in zip(self.buckets, self.counts)]
        out.append(f'{name}_bucket{{le="+Inf"}} {self.total}')
        out.append(f"{name}_sum {self.sum}")
        out.append(f"{name}_count {self.total}")
        return out


class IngestMetrics:
    """Thread-safe counters updated by the consumer loop."""

    def __init__(self):
        self._lock = threading.Lock()
        self.consumed = 0
        self.stored = 0
        self.duplicates = 0
        self.dead_lettered: Counter = Counter()
        self.write_failures = 0
        self.batch_size = Histogram(BATCH_SIZE_BUCKETS)
        self.batch_latency = Histogram(LATENCY_BUCKETS)
        self.consumer_lag = 0
        self.last_commit_s = 0.0
        self.started_s = time.time()
        self.healthy = True
        self.status = "starting"

    def record_batch(self, result, seconds: float) -> None:
        with self._lock:
            self.consumed += result.consumed
            self.stored += result.stored
            self.duplicates += result.duplicates
            self.dead_lettered.update(result.dead_lettered)
            self.batch_size.observe(result.consumed)
            self.batch_latency.observe(seconds)

    def record_commit(self) -> None:
        with self._lock:
            self.last_commit_s = time.time()

    def set(self, **values) -> None:
        with self._lock:
            for key, value in values.items():
                setattr(self, key, value)

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP meetpulse_ingest_consumed_total Messages read from Kafka.",
                "# TYPE meetpulse_ingest_consumed_total counter",
                f"meetpulse_ingest_consumed_total {self.consumed}",
                "# HELP meetpulse_ingest_stored_total Events newly stored in ClickHouse.",
                "# TYPE meetpulse_ingest_stored_total counter",
                f"meetpulse_ingest_stored_total {self.stored}",
                "# HELP meetpulse_ingest_duplicates_total Valid events skipped because their id was stored already.",
                "# TYPE meetpulse_ingest_duplicates_total counter",
                f"meetpulse_ingest_duplicates_total {self.duplicates}",
                "# HELP meetpulse_ingest_dead_lettered_total Messages sent to the dead-letter topic, by reason.",
                "# TYPE meetpulse_ingest_dead_lettered_total counter",
            ]
            for reason, count in sorted(self.dead_lettered.items()):
                lines.append(f'meetpulse_ingest_dead_lettered_total{{reason="{reason}"}} {count}')
            lines += [
                "# HELP meetpulse_ingest_write_failures_total Failed batch writes (retried).",
                "# TYPE meetpulse_ingest_write_failures_total counter",
                f"meetpulse_ingest_write_failures_total {self.write_failures}",
                "# HELP meetpulse_ingest_batch_size Messages per batch.",
                "# TYPE meetpulse_ingest_batch_size histogram",
                *self.batch_size.lines("meetpulse_ingest_batch_size"),
                "# HELP meetpulse_ingest_batch_seconds Time to write a batch to ClickHouse and Redis.",
                "# TYPE meetpulse_ingest_batch_seconds histogram",
                *self.batch_latency.lines("meetpulse_ingest_batch_seconds"),
                "# HELP meetpulse_ingest_consumer_lag Messages behind the end of the assigned partitions.",
                "# TYPE meetpulse_ingest_consumer_lag gauge",
                f"meetpulse_ingest_consumer_lag {self.consumer_lag}",
                "# HELP meetpulse_ingest_last_commit_timestamp_seconds Unix time of the last offset commit.",
                "# TYPE meetpulse_ingest_last_commit_timestamp_seconds gauge",
                f"meetpulse_ingest_last_commit_timestamp_seconds {self.last_commit_s}",
            ]
        return "\n".join(lines) + "\n"


def serve_metrics(metrics: IngestMetrics, host: str, port: int) -> ThreadingHTTPServer:
    """Serve /metrics and /healthz in a daemon thread; returns the server (``shutdown()`` stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path.startswith("/metrics"):
                body, status, ctype = metrics.render().encode(), 200, "text/plain; version=0.0.4"
            elif self.path.startswith("/healthz"):
                ok = metrics.healthy
                body = f'{{"status": "{metrics.status}"}}'.encode()
                status, ctype = (200 if ok else 503), "application/json"
            else:
                body, status, ctype = b"not found\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise OSError(f"cannot serve /metrics on {host}:{port} ({exc.strerror}); "
                      f"change INGEST_METRICS_PORT or --metrics-port") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
