"""Realistic meeting traffic: a pure, seeded generator plus a paced runner that sends to Kafka.

``TrafficSimulator`` keeps about ``meetings`` meetings running at once. Each meeting has a
heavy-tailed size, a type, a host platform and region; participants join (most early, some
late), leave early or stay to the end, drop out during bad-network episodes and rejoin, and send
QUALITY_METRICS about every 10 s (the interval stretches or shrinks so the whole stream comes
close to ``rate`` events/s). MEETING_ENDED carries totals computed from exactly the sessions
that were emitted. With ``invalid_ratio`` > 0, corrupted copies of emitted messages are mixed in
(never replacing a valid one, so the valid stream stays consistent), each with the reason code
``ingest.contract.decode`` must return for it.
"""
from __future__ import annotations

import heapq
import math
import random
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Callable

from ingest.contract import USER_EVENT_TYPES
from ingest.producer import build_message, encode
from ingest.producer import now_ms as wall_now_ms

# region -> (base network latency ms, weight of users living there)
REGIONS = {
    "us-east": (35.0, 0.28), "us-west": (45.0, 0.14), "eu-west": (50.0, 0.22),
    "eu-central": (55.0, 0.08), "ap-south": (115.0, 0.12), "ap-northeast": (80.0, 0.08),
    "sa-east": (95.0, 0.08),
}
# meeting type -> (weight, median duration s, size multiplier)
MEETING_TYPES = {
    "scheduled": (0.45, 1800.0, 1.0), "recurring": (0.25, 1800.0, 1.0),
    "instant": (0.20, 900.0, 0.6), "webinar": (0.10, 3600.0, 4.0),
}
# device type (also the meeting platform) -> (weight, os choices, browsers, video-on probability,
#                                              extra latency ms, typical cpu %, typical memory %)
DEVICES = {
    "desktop": (0.45, (("Windows", 0.6), ("macOS", 0.35), ("Linux", 0.05)), (("native-app", 1.0),),
                0.7, 0.0, 25.0, 45.0),
    "web": (0.20, (("Windows", 0.5), ("macOS", 0.3), ("ChromeOS", 0.12), ("Linux", 0.08)),
            (("Chrome", 0.6), ("Edge", 0.2), ("Firefox", 0.1), ("Safari", 0.1)), 0.6, 10.0, 35.0, 55.0),
    "mobile": (0.30, (("iOS", 0.55), ("Android", 0.45)), (("native-app", 1.0),), 0.4, 35.0, 30.0, 60.0),
    "room-system": (0.05, (("RoomOS", 0.6), ("Android", 0.4)), (("native-app", 1.0),), 0.95, 0.0, 20.0, 35.0),
}
FIRST_NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jun", "Kofi",
               "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma",
               "Viktor", "Wei", "Ximena", "Yusuf", "Zoe")
LAST_NAMES = ("Silva", "Kim", "Okafor", "Novak", "Garcia", "Sato", "Müller", "Haddad", "Rossi",
              "Nguyen", "Patel", "Johansson", "Kowalski", "Mensah", "Dubois", "Ivanova")

QUALITY_INTERVAL_MS = 10_000       # nominal per-participant QUALITY_METRICS period
MIN_INTERVAL_MS, MAX_INTERVAL_MS = 250, 120_000
SIZE_MIN, SIZE_MAX = 2, 200
PARETO_ALPHA = 1.25                # 2·Pareto(1.25) capped at 200 has mean ≈ 7.5
PARETO_MEAN = 7.5
OCCUPANCY = 0.75                   # share of a meeting's invitees present at a typical moment
OTHER_WINDOW_MS = 120_000

# priorities of actions due at the same millisecond: closes before opens, the end last
_P_START, _P_LEAVE, _P_JOIN, _P_QUALITY, _P_END = range(5)


@dataclass(frozen=True)
class SimRecord:
    """One generated Kafka message; ``reason`` is the expected decode reason of an invalid one."""

    key: bytes
    value: bytes
    event_type: str | None
    valid: bool
    reason: str | None = None


@dataclass
class _User:
    user_id: str
    name: str
    region: str
    device: str
    os: str
    browser: str


@dataclass
class _Session:
    seq: int
    join_ms: int
    video_on: bool
    bad_until_ms: int = 0
    severity: float = 0.0


@dataclass
class _Meeting:
    meeting_id: str
    meeting_type: str
    host: _User
    invitees: list
    users: dict                                        # user_id -> _User
    start_ms: int
    end_ms: int
    started: bool = False
    ended: bool = False
    open: dict = field(default_factory=dict)           # user_id -> _Session
    seqs: Counter = field(default_factory=Counter)     # user_id -> sessions so far
    planned_leave: dict = field(default_factory=dict)  # user_id -> ms or None (stays to the end)
    joined: set = field(default_factory=set)
    concurrent: int = 0
    max_concurrent: int = 0
    audio_ms: int = 0
    video_ms: int = 0


def _weighted(rng: random.Random, pairs) -> str:
    names = [name for name, _ in pairs]
    weights = [w for _, w in pairs]
    return rng.choices(names, weights)[0]


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class TrafficSimulator:
    """Seeded, clock-injected meeting traffic; ``tick(now_ms)`` returns the messages due by then."""

    def __init__(self, seed, meetings: int = 20, rate: float = 50.0, invalid_ratio: float = 0.0,
                 now_ms: Callable[[], int] = wall_now_ms, *, duration_scale: float = 1.0):
        if meetings < 1:
            raise ValueError("meetings must be >= 1")
        if rate <= 0:
            raise ValueError("rate must be > 0")
        if not 0.0 <= invalid_ratio < 1.0:
            raise ValueError("invalid_ratio must be in [0, 1)")
        self._rng = random.Random(seed)
        self._clock = now_ms
        self.meetings = meetings
        self.rate = float(rate)
        self.invalid_ratio = invalid_ratio
        self.duration_scale = duration_scale
        self._heap: list = []
        self._counter = 0
        self._users: dict[int, _User] = {}
        self._running: dict[str, _Meeting] = {}
        self._open_sessions = 0
        self._other_recent: deque = deque()
        self.counts: Counter = Counter()
        per_meeting = self.rate * 0.9 * QUALITY_INTERVAL_MS / 1000 / meetings
        self._size_scale = _clamp(per_meeting / (PARETO_MEAN * OCCUPANCY), 0.5, 6.0)
        self._pool = max(1000, int(meetings * PARETO_MEAN * self._size_scale * 4))
        self.start_ms = int(self._clock())
        for index in range(meetings):  # the first starts now, the others within 5 s
            self._new_meeting(self.start_ms + (self._rng.randrange(0, 5_000) if index else 0))

    # ---- public API -------------------------------------------------------------------------
    def tick(self, now_ms: int | None = None) -> list[bytes]:
        """Message values due by ``now_ms`` (default: the injected clock)."""
        return [record.value for record in self.tick_records(now_ms)]

    def tick_records(self, now_ms: int | None = None) -> list[SimRecord]:
        now = int(self._clock() if now_ms is None else now_ms)
        out: list[SimRecord] = []
        while self._heap and self._heap[0][0] <= now:
            due, _prio, _n, action, meeting, user_id, seq = heapq.heappop(self._heap)
            getattr(self, f"_on_{action}")(out, due, meeting, user_id, seq)
        return out

    def finish(self, now_ms: int | None = None) -> list[SimRecord]:
        """Messages due by ``now_ms``, then every started meeting ended at ``now_ms``."""
        now = int(self._clock() if now_ms is None else now_ms)
        out = self.tick_records(now)
        for meeting in sorted(self._running.values(), key=lambda m: m.meeting_id):
            if meeting.started and not meeting.ended:
                self._end(out, meeting, now, replace=False)
        self._heap.clear()
        self._running.clear()
        return out

    def stats(self) -> dict:
        return {"events": dict(self.counts), "sent": sum(self.counts.values()),
                "invalid": self.counts.get("INVALID", 0), "running_meetings": len(self._running),
                "open_sessions": self._open_sessions}

    # ---- scheduling ---------------------------------------------------------------------------
    def _push(self, due: int, prio: int, action: str, meeting: _Meeting, user_id: str = "", seq: int = 0):
        self._counter += 1
        heapq.heappush(self._heap, (int(due), prio, self._counter, action, meeting, user_id, seq))

    def _user(self, index: int) -> _User:
        user = self._users.get(index)
        if user is None:
            rng = self._rng
            device = _weighted(rng, [(d, spec[0]) for d, spec in DEVICES.items()])
            spec = DEVICES[device]
            user = _User(
                user_id=f"user-{index:06d}",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                region=_weighted(rng, [(r, spec_r[1]) for r, spec_r in REGIONS.items()]),
                device=device, os=_weighted(rng, spec[1]), browser=_weighted(rng, spec[2]))
            self._users[index] = user
        return user

    def _new_meeting(self, start_ms: int) -> None:
        rng = self._rng
        mtype = _weighted(rng, [(t, spec[0]) for t, spec in MEETING_TYPES.items()])
        _w, median_s, size_mult = MEETING_TYPES[mtype]
        raw = 2 * rng.paretovariate(PARETO_ALPHA) * size_mult * self._size_scale
        size = int(_clamp(round(raw), SIZE_MIN, SIZE_MAX))
        duration_s = _clamp(rng.lognormvariate(math.log(median_s), 0.5), 120, 4 * 3600) * self.duration_scale
        duration_ms = max(10_000, int(duration_s * 1000))
        invitees = [self._user(i) for i in rng.sample(range(self._pool), size)]
        meeting = _Meeting(meeting_id=f"mtg-{rng.getrandbits(64):016x}", meeting_type=mtype,
                           host=invitees[0], invitees=invitees,
                           users={u.user_id: u for u in invitees}, start_ms=start_ms,
                           end_ms=start_ms + duration_ms)
        self._running[meeting.meeting_id] = meeting
        self._push(start_ms, _P_START, "start", meeting)
        self._push(meeting.end_ms, _P_END, "end", meeting)

    # ---- emission -----------------------------------------------------------------------------
    def _emit(self, out: list, meeting: _Meeting, event_type: str, user_id: str | None, data: dict,
              ts: int) -> None:
        event_id = "%032x" % self._rng.getrandbits(128)
        message = build_message(event_type, meeting.meeting_id, user_id, data, ts, event_id)
        key = meeting.meeting_id.encode()
        raw = encode(message)
        out.append(SimRecord(key, raw, event_type, True))
        self.counts[event_type] += 1
        if event_type != "QUALITY_METRICS":
            self._other_recent.append(ts)
        if self.invalid_ratio:
            extra = self.invalid_ratio / (1 - self.invalid_ratio)
            n = int(extra) + (1 if self._rng.random() < extra - int(extra) else 0)
            for _ in range(n):
                value, reason = self._corrupt(message, raw)
                out.append(SimRecord(key, value, None, False, reason))
                self.counts["INVALID"] += 1

    def _corrupt(self, message: dict, raw: bytes) -> tuple[bytes, str]:
        """A broken variant of ``message`` and the reason code the contract gives it."""
        rng = self._rng
        kind = rng.choice(("not_json", "not_utf8", "not_object", "unknown_type", "missing_id",
                           "missing_data", "out_of_range", "wrong_type", "old_timestamp"))
        bad = {**message, "data": {**message["data"]}}
        etype = message["eventType"]
        if kind == "not_json":
            return raw[: rng.randrange(1, len(raw) - 1)], "not_json"
        if kind == "not_utf8":
            return b"\xff" + raw[1:], "not_utf8"
        if kind == "not_object":
            return encode([message]), "not_object"
        if kind == "unknown_type":
            bad["eventType"] = rng.choice(("MEETING_PAUSED", "SCREEN_SHARE_STARTED", "participant_joined"))
            return encode(bad), "unknown_event_type"
        if kind == "missing_id":
            field_name = "userId" if etype in USER_EVENT_TYPES and rng.random() < 0.5 else "meetingId"
            del bad[field_name]
            return encode(bad), f"missing_field:{field_name}"
        if kind == "wrong_type":
            if etype == "QUALITY_METRICS":
                bad["data"]["metrics"] = {**bad["data"]["metrics"], "cpu": True}
                return encode(bad), "wrong_type:data.metrics.cpu"
            if etype in ("PARTICIPANT_LEFT", "MEETING_ENDED"):
                bad["data"]["duration"] = str(message["data"]["duration"])
                return encode(bad), "wrong_type:data.duration"
            bad["meetingId"] = rng.randrange(1, 10**9)
            return encode(bad), "wrong_type:meetingId"
        if kind == "old_timestamp":  # before 2000, or not an integer (an ISO string, a float)
            bad["timestamp"] = rng.choice((
                rng.randrange(0, 946_684_800_000), str(message["timestamp"]), float(message["timestamp"])))
            return encode(bad), "bad_timestamp"
        if etype == "QUALITY_METRICS":
            metrics = bad["data"]["metrics"] = {**bad["data"]["metrics"]}
            if kind == "missing_data":
                del metrics["networkLatency"]
                return encode(bad), "missing_field:data.metrics.networkLatency"
            metrics["packetLoss"] = round(100 + rng.uniform(0.5, 50), 2)
            return encode(bad), "out_of_range:data.metrics.packetLoss"
        if etype in ("PARTICIPANT_LEFT", "MEETING_ENDED"):
            if kind == "missing_data":
                del bad["data"]["duration"]
                return encode(bad), "missing_field:data.duration"
            bad["data"]["duration"] = -round(rng.uniform(1, 600), 3)
            return encode(bad), "out_of_range:data.duration"
        del bad["timestamp"]
        return encode(bad), "missing_field:timestamp"

    # ---- actions ------------------------------------------------------------------------------
    def _on_start(self, out, ts, meeting: _Meeting, _user_id, _seq):
        meeting.started = True
        host = meeting.host
        self._emit(out, meeting, "MEETING_STARTED", None, {
            "hostId": host.user_id, "meetingType": meeting.meeting_type,
            "participants": [u.user_id for u in meeting.invitees],
            "region": host.region, "platform": host.device}, ts)
        span = meeting.end_ms - ts
        self._push(ts, _P_JOIN, "join", meeting, host.user_id)
        for user in meeting.invitees[1:]:
            if self._rng.random() < 0.8:
                offset = self._rng.expovariate(1 / 60_000)
            else:
                offset = self._rng.uniform(0, 0.8 * span)
            if offset < span - 1000:
                self._push(ts + int(offset), _P_JOIN, "join", meeting, user.user_id)

    def _on_join(self, out, ts, meeting: _Meeting, user_id, _seq):
        if meeting.ended or user_id in meeting.open or ts >= meeting.end_ms:
            return
        user = meeting.users[user_id]
        if user_id not in meeting.planned_leave:
            leaves_early = user is not meeting.host and self._rng.random() < 0.3
            meeting.planned_leave[user_id] = (
                ts + int(self._rng.uniform(0.1, 0.95) * (meeting.end_ms - ts)) if leaves_early else None)
        meeting.seqs[user_id] += 1
        seq = meeting.seqs[user_id]
        session = _Session(seq, ts, self._rng.random() < DEVICES[user.device][3])
        meeting.open[user_id] = session
        meeting.joined.add(user_id)
        meeting.concurrent += 1
        meeting.max_concurrent = max(meeting.max_concurrent, meeting.concurrent)
        self._open_sessions += 1
        self._emit(out, meeting, "PARTICIPANT_JOINED", user_id, {
            "userName": user.name, "joinTime": ts,
            "deviceInfo": {"os": user.os, "browser": user.browser, "type": user.device},
            "region": user.region}, ts)
        self._push(ts + int(self._rng.uniform(0.2, 1.0) * self._interval_ms(ts)), _P_QUALITY,
                   "quality", meeting, user_id, seq)
        leave_at = meeting.planned_leave[user_id]
        if leave_at is not None and ts < leave_at < meeting.end_ms:
            reason = "removed_by_host" if self._rng.random() < 0.03 else "left"
            self._push(leave_at, _P_LEAVE, f"leave_{reason}", meeting, user_id, seq)

    def _close(self, out, ts, meeting: _Meeting, user_id: str, reason: str) -> None:
        session = meeting.open.pop(user_id)
        length = ts - session.join_ms
        meeting.concurrent -= 1
        meeting.audio_ms += length
        if session.video_on:
            meeting.video_ms += length
        self._open_sessions -= 1
        self._emit(out, meeting, "PARTICIPANT_LEFT", user_id,
                   {"duration": length / 1000, "leaveReason": reason}, ts)

    def _current(self, meeting: _Meeting, user_id: str, seq: int) -> _Session | None:
        session = meeting.open.get(user_id)
        if meeting.ended or session is None or session.seq != seq:
            return None
        return session

    def _on_leave_left(self, out, ts, meeting, user_id, seq):
        if self._current(meeting, user_id, seq):
            self._close(out, ts, meeting, user_id, "left")

    def _on_leave_removed_by_host(self, out, ts, meeting, user_id, seq):
        if self._current(meeting, user_id, seq):
            self._close(out, ts, meeting, user_id, "removed_by_host")

    def _on_quality(self, out, ts, meeting: _Meeting, user_id, seq):
        session = self._current(meeting, user_id, seq)
        if session is None:
            return
        rng = self._rng
        user = meeting.users[user_id]
        if ts >= session.bad_until_ms:
            session.severity = 0.0
            episode_p = 0.04 if user.device == "mobile" else 0.02
            if rng.random() < episode_p:
                session.bad_until_ms = ts + int(rng.uniform(20_000, 180_000))
                session.severity = rng.uniform(0.3, 1.0)
        if session.severity and rng.random() < 0.06 * session.severity:
            self._close(out, ts, meeting, user_id, "network_drop")
            rejoin = ts + int(rng.uniform(3_000, 45_000))
            if rng.random() < 0.85 and rejoin < meeting.end_ms - 1000:
                self._push(rejoin, _P_JOIN, "join", meeting, user_id)
            return
        self._emit(out, meeting, "QUALITY_METRICS", user_id,
                   {"metrics": self._metrics(user, session), "region": user.region}, ts)
        self._push(ts + self._interval_ms(ts), _P_QUALITY, "quality", meeting, user_id, seq)

    def _metrics(self, user: _User, session: _Session) -> dict:
        rng = self._rng
        _w, _os, _br, _video_p, extra_latency, cpu_base, mem_base = DEVICES[user.device]
        latency = (REGIONS[user.region][0] + extra_latency) * rng.lognormvariate(0, 0.25)
        jitter = 1 + latency * 0.08 * rng.lognormvariate(0, 0.4)
        loss = rng.expovariate(1 / 0.3)
        sev = session.severity
        if sev:
            latency = latency * (1 + 4 * sev) + 150 * sev * rng.uniform(0.5, 1.5)
            jitter += 20 + 80 * sev * rng.random()
            loss += rng.uniform(2, 20) * sev
        latency = _clamp(latency, 1, 60_000)
        loss = _clamp(loss, 0, 100)
        if session.video_on:
            bandwidth = rng.uniform(1200, 2800) * (1 - min(0.7, loss / 30))
        else:
            bandwidth = rng.uniform(60, 120)
        # the client's own 1-5 audio rating: driven by loss and jitter like MOS, but not the same number
        audio = _clamp(4.7 - 0.12 * loss - jitter / 45 - max(0.0, latency - 250) / 400 + rng.gauss(0, 0.3), 1, 5)
        video = 4.6 - loss * 0.15 - max(0.0, latency - 150) / 200 + rng.gauss(0, 0.15)
        if session.video_on and bandwidth < 900:
            video -= 0.6
        return {
            "audioQuality": round(audio, 2), "videoQuality": round(_clamp(video, 1, 5), 2),
            "networkLatency": round(latency, 1), "jitter": round(jitter, 1),
            "packetLoss": round(loss, 2), "bandwidth": round(bandwidth, 1),
            "cpu": round(_clamp(cpu_base * rng.lognormvariate(0, 0.3) + 15 * sev, 1, 100), 1),
            "memory": round(_clamp(mem_base + rng.gauss(0, 8), 5, 100), 1),
        }

    def _on_end(self, out, ts, meeting: _Meeting, _user_id, _seq):
        if not meeting.ended:
            self._end(out, meeting, ts, replace=True)

    def _end(self, out, meeting: _Meeting, ts: int, replace: bool) -> None:
        for user_id in sorted(meeting.open):
            self._close(out, ts, meeting, user_id, "meeting_ended")
        meeting.ended = True
        self._emit(out, meeting, "MEETING_ENDED", None, {
            "duration": (ts - meeting.start_ms) / 1000,
            "totalParticipants": len(meeting.joined),
            "maxConcurrentUsers": meeting.max_concurrent,
            "audioMinutes": meeting.audio_ms / 60_000,
            "videoMinutes": meeting.video_ms / 60_000}, ts)
        self._running.pop(meeting.meeting_id, None)
        if replace:
            self._new_meeting(ts + self._rng.randrange(0, 10_000))

    def _interval_ms(self, ts: int) -> int:
        """Next QUALITY_METRICS delay: spread the rate left after other events over open sessions."""
        recent = self._other_recent
        while recent and recent[0] < ts - OTHER_WINDOW_MS:
            recent.popleft()
        window_s = _clamp((ts - self.start_ms) / 1000, 10, OTHER_WINDOW_MS / 1000)
        valid_rate = self.rate * (1 - self.invalid_ratio)
        quality_rate = max(valid_rate - len(recent) / window_s, valid_rate * 0.25)
        base = max(self._open_sessions, 1) / quality_rate * 1000
        return int(_clamp(base, MIN_INTERVAL_MS, MAX_INTERVAL_MS) * self._rng.uniform(0.85, 1.15))


def run_simulation(producer, topic: str, rate: float, meetings: int, duration_s: float | None = None,
                   invalid_ratio: float = 0.0, stop_event=None, progress=None, *, seed=None,
                   tick_s: float = 0.1, duration_scale: float = 1.0, end_meetings: bool = True) -> int:
    """Send simulated traffic through ``producer`` (``ingest.kafka.KafkaProducer``) until
    ``duration_s`` has passed or ``stop_event`` is set; returns the number of messages sent.

    Event time follows the wall clock at the start plus monotonic elapsed time. On stop, the
    meetings still running are ended (``end_meetings``) so their totals stay consistent.
    ``progress(stats)`` gets ``TrafficSimulator.stats()`` about once a second and at the end.
    """
    seed = secrets.randbits(64) if seed is None else seed
    wall0, mono0 = wall_now_ms(), time.monotonic()

    def clock() -> int:
        return wall0 + int((time.monotonic() - mono0) * 1000)

    sim = TrafficSimulator(seed, meetings, rate, invalid_ratio, now_ms=clock, duration_scale=duration_scale)
    next_tick, next_progress = mono0, mono0 + 1.0
    while True:
        stopping = ((duration_s is not None and time.monotonic() - mono0 >= duration_s)
                    or (stop_event is not None and stop_event.is_set()))
        records = sim.finish() if stopping and end_meetings else sim.tick_records()
        for record in records:
            producer.send(topic, record.value, key=record.key)
        if progress is not None and (stopping or time.monotonic() >= next_progress):
            progress(sim.stats())
            next_progress += 1.0
        if stopping:
            break
        next_tick += tick_s
        delay = max(0.0, next_tick - time.monotonic())
        if stop_event is not None:
            stop_event.wait(delay)
        else:
            time.sleep(delay)
    producer.flush()
    return sim.stats()["sent"]
