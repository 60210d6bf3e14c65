"""Benchmark: the stats of DESIGN section 4 over months of events on chDB.

Generates N synthetic events in SQL (meetings of ~40 min with joins, leaves, quality samples every
10 s per participant, spread over 90 days), then times ``compute_stats`` for a 24 h, a 7 d and a
30 d range. Figures are ratios against a baseline measured in the same run: a plain
scan of the whole table (distinct meetings, mean latency, newest event) read with FINAL.

    .venv/bin/python bench/bench_stats.py --events 5000000
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queries.engine import ChdbEngine  # noqa: E402
from queries.migrate import migrate  # noqa: E402
from queries.sessions import rebuild_all, refresh  # noqa: E402
from queries.stats import compute_stats  # noqa: E402

DAY = 86_400_000

GENERATE = """
INSERT INTO events (event_id, event_type, ts_ms, meeting_id, user_id, region, duration_s,
                    audio_quality, video_quality, latency_ms, jitter_ms, packet_loss_pct, bandwidth_kbps,
                    cpu_pct, memory_pct, kafka_partition, kafka_offset, ingested_ms)
SELECT
    toString(number) AS event_id,
    multiIf(k = 0, 'MEETING_STARTED', k = 1, 'PARTICIPANT_JOINED', k = 2, 'PARTICIPANT_LEFT',
            k = 3, 'MEETING_ENDED', 'QUALITY_METRICS') AS event_type,
    toInt64(%(start)s + meeting * 60000 + multiIf(k = 0, 0, k = 1, user * 5000, k = 2, 2400000 - user * 3000,
            k = 3, 2400000, 10000 * (number %% 230))) AS ts_ms,
    concat('m', toString(meeting)) AS meeting_id,
    if(k IN (0, 3), '', concat('u', toString(user))) AS user_id,
    ['us-east', 'eu-west', 'ap-south'][1 + meeting %% 3] AS region,
    if(k IN (2, 3), toNullable(toFloat64(2400)), NULL) AS duration_s,
    if(k = 4, toNullable(toFloat64(1 + number %% 5)), NULL),
    if(k = 4, toNullable(toFloat64(1 + number %% 4)), NULL),
    if(k = 4, toNullable(toFloat64(number %% 700)), NULL),
    if(k = 4, toNullable(toFloat64(number %% 40)), NULL),
    if(k = 4, toNullable(toFloat64(number %% 13)), NULL),
    if(k = 4, toNullable(toFloat64(800)), NULL),
    if(k = 4, toNullable(toFloat64(30)), NULL),
    if(k = 4, toNullable(toFloat64(40)), NULL),
    0, toInt64(number), toInt64(0)
FROM (
    SELECT number, intDiv(number, 250) AS meeting, (number %% 250) %% 20 AS user,
           multiIf(number %% 250 = 0, 0, number %% 250 = 1, 3, number %% 250 < 22, 1, number %% 250 < 42, 2, 4) AS k
    FROM numbers(%(n)s)
)
"""
"""Synthetic meetings: 250 events each (start, end, 20 joins, 20 leaves, 208 quality samples)."""


BASELINE = "SELECT uniqExact(meeting_id), avg(latency_ms), max(ts_ms) FROM events FINAL"
"""One pass over every event: the cost any range query is compared with."""


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2_000_000, help="events to generate (default 2,000,000)")
    parser.add_argument("--keep", metavar="DIR", default=None, help="keep the chDB folder here instead of a temp one")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="mp-bench-"))
    engine = ChdbEngine(folder / "chdb")
    migrate(engine)
    for table in ("events", "pair_events", "sessions"):
        engine.execute(f"TRUNCATE TABLE {table}")
    span_days = 90
    meetings = args.events // 250
    start = 1_767_225_600_000  # 2026-01-01
    print(f"generating {args.events:,} events ({meetings:,} meetings over {span_days} days)...", flush=True)
    step_ms = span_days * DAY // max(meetings, 1)
    started = time.perf_counter()
    engine.execute(GENERATE.replace("meeting * 60000", f"meeting * {step_ms}"), {"start": start, "n": args.events})
    engine.execute("INSERT INTO pair_events SELECT meeting_id, user_id, event_type, ts_ms, event_id FROM events")
    print(f"  generated in {time.perf_counter() - started:.1f}s; computing sessions...", flush=True)
    started = time.perf_counter()
    rebuild_all(engine)
    print(f"  sessions of all meetings in {time.perf_counter() - started:.1f}s", flush=True)
    started = time.perf_counter()
    refresh(engine, [f"m{i}" for i in range(0, meetings, max(1, meetings // 50))])
    print(f"  ingest upkeep, 50 meetings refreshed in {(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    for table in ("events", "pair_events", "sessions"):
        engine.execute(f"OPTIMIZE TABLE {table} FINAL")
    end = start + span_days * DAY
    baseline = timed(lambda: engine.execute(BASELINE))
    print(f"baseline (one FINAL scan of the whole table): {baseline * 1000:.0f} ms")
    for label, days in (("24 h", 1), ("7 d", 7), ("30 d", 30)):
        seconds = timed(lambda: compute_stats(engine, end - days * DAY, end))
        print(f"compute_stats {label:>5}: {seconds * 1000:7.0f} ms  = {seconds / baseline:5.1f} x baseline", flush=True)
    engine.close()
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
