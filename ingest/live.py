"""Live counters in Redis: written once per batch by the daemon, read by the live panel and the API.

Replay safety: each batch carries, per partition, the offsets it applies; a hash of applied
watermarks is read first and messages at or below it are dropped, and the watermark moves in the
same Lua script (one atomic step) as the counters. The live sets are idempotent on their own
(a replayed join re-adds the same member with the same score), so after Redis loses its data
``rebuild`` restores them from ClickHouse.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson

PREFIX = "meetpulse:"
K_MEETINGS = PREFIX + "live:meetings"          # zset meeting -> last activity (event ms)
K_PARTICIPANTS = PREFIX + "live:participants"  # zset "meeting\x1fuser" -> last activity
K_ENDED = PREFIX + "ended:meetings"            # zset meeting -> end (event ms)
K_MEMBERS = PREFIX + "meeting:members:"        # set per meeting of user ids seen joining
K_WATERMARKS = PREFIX + "applied"              # hash "topic:partition" -> last applied offset
K_DLQ = PREFIX + "dlq:hashes"                  # set of SHA-256 of rejected messages
K_DLQ_REASONS = PREFIX + "dlq:reasons"         # hash reason -> distinct rejected messages
K_EPS = PREFIX + "eps:"                        # string per wall-clock second -> events applied
K_MINUTE = PREFIX + "minute:"                  # hash per wall-clock minute -> throughput counters
K_STATE = PREFIX + "state"                     # hash: last_event_ms, last_batch_ms, consumer_lag, ...
SEP = "\x1f"

_APPLY = """
local p = cjson.decode(ARGV[1])
local K_MEETINGS, K_PARTICIPANTS, K_ENDED, K_MEMBERS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_WATERMARKS, K_DLQ, K_DLQ_REASONS, K_EPS = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local K_MINUTE, K_STATE = KEYS[9], KEYS[10]
local SEP = '\\31'
local function ended_at(m)
  local e = redis.call('ZSCORE', K_ENDED, m)
  if e then return tonumber(e) end
  return nil
end
for _, ev in ipairs(p.events) do
  local kind, m, u, ts = ev[1], ev[2], ev[3], ev[4]
  local e = ended_at(m)
  local over = e ~= nil and ts >= e
  if kind == 'MEETING_ENDED' then
    if e == nil or ts < e then redis.call('ZADD', K_ENDED, ts, m) end
    redis.call('ZREM', K_MEETINGS, m)
    local members = redis.call('SMEMBERS', K_MEMBERS .. m)
    for _, user in ipairs(members) do redis.call('ZREM', K_PARTICIPANTS, m .. SEP .. user) end
    redis.call('DEL', K_MEMBERS .. m)
  elseif not over then
    if kind == 'MEETING_STARTED' then
      redis.call('ZADD', K_MEETINGS, 'GT', ts, m)
    else
      redis.call('ZADD', K_MEETINGS, 'XX', 'GT', ts, m)
      local key = m .. SEP .. u
      if kind == 'PARTICIPANT_JOINED' then
        redis.call('ZADD', K_PARTICIPANTS, 'GT', ts, key)
        redis.call('SADD', K_MEMBERS .. m, u)
        redis.call('EXPIRE', K_MEMBERS .. m, p.members_ttl)
      elseif kind == 'PARTICIPANT_LEFT' then
        local s = redis.call('ZSCORE', K_PARTICIPANTS, key)
        if s and tonumber(s) <= ts then redis.call('ZREM', K_PARTICIPANTS, key) end
      else
        redis.call('ZADD', K_PARTICIPANTS, 'XX', 'GT', ts, key)
      end
    end
  end
end
local new_dlq = 0
for _, d in ipairs(p.dlq) do
  if redis.call('SADD', K_DLQ, d[1]) == 1 then
    redis.call('HINCRBY', K_DLQ_REASONS, d[2], 1)
    new_dlq = new_dlq + 1
  end
end
for tp, off in pairs(p.watermarks) do redis.call('HSET', K_WATERMARKS, tp, off) end
if p.applied > 0 then
  redis.call('INCRBY', K_EPS, p.applied)
  redis.call('EXPIRE', K_EPS, 120)
end
redis.call('HINCRBY', K_MINUTE, 'consumed', p.applied)
redis.call('HINCRBY', K_MINUTE, 'stored', p.stored)
redis.call('HINCRBY', K_MINUTE, 'duplicates', p.duplicates)
redis.call('HINCRBY', K_MINUTE, 'dead_lettered', new_dlq)
redis.call('EXPIRE', K_MINUTE, 172800)
local last = tonumber(redis.call('HGET', K_STATE, 'last_event_ms') or '0')
if p.last_event_ms > last then redis.call('HSET', K_STATE, 'last_event_ms', p.last_event_ms) end
redis.call('HSET', K_STATE, 'last_batch_ms', p.now_ms)
if p.ingest_lag_ms then redis.call('HSET', K_STATE, 'ingest_lag_ms', p.ingest_lag_ms) end
local horizon = p.now_ms - p.idle_ms
redis.call('ZREMRANGEBYSCORE', K_MEETINGS, '-inf', '(' .. horizon)
redis.call('ZREMRANGEBYSCORE', K_PARTICIPANTS, '-inf', '(' .. horizon)
redis.call('ZREMRANGEBYSCORE', K_ENDED, '-inf', '(' .. (p.now_ms - p.ended_keep_ms))
return new_dlq
"""


@dataclass
class LiveBatch:
    """What one ingest batch changes in the live counters (before the watermark filter)."""

    events: list[tuple[str, int, str, str, str, int]] = field(default_factory=list)
    """("topic:partition", offset, event type, meeting id, user id, event ms)"""
    dead_letters: list[tuple[str, int, str, str]] = field(default_factory=list)
    """("topic:partition", offset, sha256, reason)"""
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    """highest offset per (topic, partition) in the batch"""
    stored: int = 0
    duplicates: int = 0
    ingest_lag_ms: int | None = None
    """now - the newest event stored by the batch (None when it stored none)"""


class LiveCounters:
    """Writer and reader of the Redis live state."""

    def __init__(self, redis_client, idle_timeout_s: int = 1800):
        self.redis = redis_client
        self.idle_ms = idle_timeout_s * 1000
        self._apply = redis_client.register_script(_APPLY)

    def watermarks(self) -> dict[str, int]:
        raw = self.redis.hgetall(K_WATERMARKS)
        return {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in raw.items()}

    def apply(self, batch: LiveBatch, now_ms: int | None = None) -> int:
        """Apply a batch once; returns how many of its messages were new to Redis."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        marks = self.watermarks()

        def fresh(tp: str, offset: int) -> bool:
            return offset > marks.get(tp, -1)

        events = sorted((e for e in batch.events if fresh(e[0], e[1])), key=lambda e: (e[5], e[1]))
        dlq = [d for d in batch.dead_letters if fresh(d[0], d[1])]
        applied = len(events) + len(dlq)
        payload = {
            "events": [[e[2], e[3], e[4], e[5]] for e in events] or [],
            "dlq": [[d[2], d[3]] for d in dlq],
            "watermarks": {f"{t}:{p}": str(o) for (t, p), o in batch.offsets.items()
                           if o > marks.get(f"{t}:{p}", -1)},
            "applied": applied,
            "stored": batch.stored if applied else 0,
            "duplicates": batch.duplicates if applied else 0,
            "last_event_ms": max((e[5] for e in events), default=0),
            "now_ms": now_ms,
            "idle_ms": self.idle_ms,
            "ended_keep_ms": max(self.idle_ms, 86_400_000),
            "members_ttl": max(self.idle_ms // 1000, 1) * 4,
        }
        if batch.ingest_lag_ms is not None:  # absent rather than null: cjson's null is truthy in Lua
            payload["ingest_lag_ms"] = batch.ingest_lag_ms
        # cjson turns an empty list into an object; both are iterated the same way by ipairs/pairs.
        keys = [K_MEETINGS, K_PARTICIPANTS, K_ENDED, K_MEMBERS, K_WATERMARKS, K_DLQ, K_DLQ_REASONS,
                K_EPS + str(now_ms // 1000), K_MINUTE + str(now_ms // 60000), K_STATE]
        self._apply(keys=keys, args=[orjson.dumps(payload)])
        return applied

    def reset_watermarks(self) -> None:
        self.redis.delete(K_WATERMARKS)

    def forget_watermarks_beyond(self, log_ends: dict[str, int]) -> list[str]:
        """Drop the watermark of each partition whose log ends at or below it (the log was reset)."""
        marks = self.watermarks()
        stale = [tp for tp, end in log_ends.items() if tp in marks and end <= marks[tp]]
        if stale:
            self.redis.hdel(K_WATERMARKS, *stale)
        return stale

    def is_initialised(self) -> bool:
        return bool(self.redis.hexists(K_STATE, "initialised_ms"))

    def rebuild(self, engine, now_ms: int | None = None) -> dict:
        """Restore the live sets and the dead-letter set from ClickHouse after Redis lost them."""
        from queries.live_rebuild import dead_letter_hashes, last_event_ms, live_entities

        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        since = now_ms - self.idle_ms
        meetings, participants = live_entities(engine, since)
        hashes = dead_letter_hashes(engine)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(K_MEETINGS, K_PARTICIPANTS, K_DLQ, K_DLQ_REASONS)
        for meeting, ts in meetings:
            pipe.zadd(K_MEETINGS, {meeting: ts})
        for meeting, user, ts in participants:
            pipe.zadd(K_PARTICIPANTS, {meeting + SEP + user: ts})
            pipe.sadd(K_MEMBERS + meeting, user)
            pipe.expire(K_MEMBERS + meeting, max(self.idle_ms // 1000, 1) * 4)
        for sha, reason in hashes:
            pipe.sadd(K_DLQ, sha)
            pipe.hincrby(K_DLQ_REASONS, reason, 1)
        last = last_event_ms(engine)
        if last:
            pipe.hset(K_STATE, "last_event_ms", last)
        pipe.hset(K_STATE, "initialised_ms", now_ms)
        pipe.execute()
        return {"meetings": len(meetings), "participants": len(participants), "dead_letters": len(hashes)}


def _int(value) -> int | None:
    return None if value is None else int(float(value))


def read_live_status(redis_client, now_ms: int | None = None, idle_timeout_s: int = 1800,
                     window_s: int = 10) -> dict:
    """The live panel's numbers, straight from Redis (never cached)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    horizon = now_ms - idle_timeout_s * 1000
    now_s = now_ms // 1000
    pipe = redis_client.pipeline(transaction=False)
    pipe.zcount(K_MEETINGS, horizon, "+inf")
    pipe.zcount(K_PARTICIPANTS, horizon, "+inf")
    pipe.scard(K_DLQ)
    pipe.hgetall(K_STATE)
    # the current second is still filling, so the rate uses the `window_s` whole seconds before it
    pipe.mget([K_EPS + str(s) for s in range(now_s - window_s, now_s)])
    meetings, participants, dlq, state, eps = pipe.execute()
    state = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
             for k, v in state.items()}
    last_event = _int(state.get("last_event_ms"))
    last_batch = _int(state.get("last_batch_ms"))
    return {
        "live_meetings": int(meetings),
        "live_participants": int(participants),
        "events_per_second": sum(int(v) for v in eps if v is not None) / window_s,
        "last_event_ms": last_event,
        "last_event_age_s": None if last_event is None else max(0.0, (now_ms - last_event) / 1000.0),
        "last_batch_ms": last_batch,
        "ingest_lag_ms": _int(state.get("ingest_lag_ms")),
        "consumer_lag": _int(state.get("consumer_lag")),
        "dead_lettered": int(dlq),
        "now_ms": now_ms,
    }


def read_minutes(redis_client, now_ms: int | None = None, minutes: int = 60) -> list[dict]:
    """Per-minute ingest counters for the System page, oldest first (missing minutes are zero)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    current = now_ms // 60000
    pipe = redis_client.pipeline(transaction=False)
    rng = range(current - minutes + 1, current + 1)
    for minute in rng:
        pipe.hgetall(K_MINUTE + str(minute))
    out = []
    for minute, raw in zip(rng, pipe.execute()):
        row = {(k.decode() if isinstance(k, bytes) else k): int(float(v)) for k, v in raw.items()}
        out.append({"minute_ms": minute * 60000, "consumed": row.get("consumed", 0),
                    "stored": row.get("stored", 0), "duplicates": row.get("duplicates", 0),
                    "dead_lettered": row.get("dead_lettered", 0), "consumer_lag": row.get("consumer_lag")})
    return out


def dead_letter_reasons(redis_client) -> dict[str, int]:
    raw = redis_client.hgetall(K_DLQ_REASONS)
    return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}


def record_consumer_lag(redis_client, now_ms: int, consumer_lag: int) -> None:
    """The daemon's consumer lag, now and in this minute's counters."""
    minute = K_MINUTE + str(now_ms // 60000)
    pipe = redis_client.pipeline(transaction=False)
    pipe.hset(K_STATE, "consumer_lag", consumer_lag)
    pipe.hset(minute, "consumer_lag", consumer_lag)
    pipe.expire(minute, 172800)
    pipe.execute()
