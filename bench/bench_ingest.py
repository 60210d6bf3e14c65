"""Benchmark: ingest throughput of one batch path (decode, dedup, store, session upkeep) on chDB.

Generates simulated traffic, then stores it in batches of --batch messages through
``ingest.pipeline`` (the daemon's sinks without Kafka). The baseline, measured in the same run,
is decoding and validating the same messages only (``ingest.contract.decode``): the ratio says
what storing costs on top of reading.

    .venv/bin/python bench/bench_ingest.py --messages 100000
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.contract import decode  # noqa: E402
from ingest.kafka import Message  # noqa: E402
from ingest.pipeline import Sinks, decode_batch  # noqa: E402
from ingest.simulator import TrafficSimulator  # noqa: E402
from queries.engine import ChdbEngine  # noqa: E402
from queries.migrate import migrate  # noqa: E402


def traffic(count: int) -> list[bytes]:
    now = [1_767_225_600_000]
    sim = TrafficSimulator(seed=3, meetings=200, rate=2000, invalid_ratio=0.01, now_ms=lambda: now[0])
    out: list[bytes] = []
    while len(out) < count:
        now[0] += 1000
        out.extend(sim.tick(now[0]))
    return out[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000, help="messages to ingest (default 100,000)")
    parser.add_argument("--batch", type=int, default=5000, help="messages per batch (default 5,000)")
    args = parser.parse_args()
    print(f"simulating {args.messages:,} messages...", flush=True)
    raws = traffic(args.messages)
    kafka_ts = 1_767_225_600_000 + 86_400_000 * 30
    started = time.perf_counter()
    for raw in raws:
        decode(raw, kafka_ts)
    baseline = time.perf_counter() - started
    print(f"baseline decode + validate: {baseline:.2f}s = {len(raws) / baseline:,.0f} msg/s", flush=True)

    folder = Path(tempfile.mkdtemp(prefix="mp-bench-ingest-"))
    engine = ChdbEngine(folder / "chdb")
    migrate(engine)
    sinks = Sinks(engine, None)
    messages = [Message("bench", 0, i, None, raw, kafka_ts) for i, raw in enumerate(raws)]
    started = time.perf_counter()
    for i in range(0, len(messages), args.batch):
        decoded = decode_batch(messages[i:i + args.batch], 1 << 20)
        now_ms = int(time.time() * 1000)
        sinks.write_clickhouse(decoded, now_ms)
        sinks.refresh_sessions(decoded, now_ms)
        done = min(i + args.batch, len(messages))
        if (i // args.batch) % 5 == 0:
            print(f"  {done:,}/{len(messages):,} stored", flush=True)
    seconds = time.perf_counter() - started
    print(f"ingest (decode, dedup, store, sessions): {seconds:.2f}s = {len(raws) / seconds:,.0f} msg/s "
          f"= {seconds / baseline:.1f} x baseline")
    engine.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
