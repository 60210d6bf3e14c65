"""Turn WebRTC stats observations into one QUALITY_METRICS sample per interval.

Per interval (epoch-aligned buckets of ``interval_ms``), over all peer connections of one
participant:

* networkLatency: mean round-trip time (ms) of the candidate pairs carrying data (STUN RTT);
  failing that the RTCP round trip of remote-inbound-rtp (or legacy send-ssrc ``googRtt``);
  failing that the last known value; never known: 0, listed in ``data.stats.estimated``.
* jitter: mean inbound-rtp jitter of audio streams (ms), else of any stream, else the
  remote-inbound-rtp jitter; omitted when none.
* packetLoss: 100 * lost / (received + lost) over the interval's inbound-rtp counter deltas;
  with no inbound packets, remote-inbound-rtp lost / outbound-rtp sent; else 0.
* bandwidth: kbps through the connection: candidate-pair bytes sent + received over the
  interval divided by the time the samples span, summed over peer connections (RTP byte
  counters when no candidate pair has bytes).
* audioQuality and videoQuality: the simplified E-model MOS of DESIGN section 4 from
  latency, jitter (0 when absent) and loss, in [1, 4.5]; no source reports a perceptual score,
  so both are the network MOS.
* cpu, memory: 0 (browsers do not report them), listed in ``data.stats.estimated``.
"""
from __future__ import annotations

from dataclasses import dataclass, field


def mos(latency_ms: float, jitter_ms: float, loss_pct: float) -> float:
    """Simplified E-model (DESIGN section 4)."""
    eff = latency_ms + 2.0 * jitter_ms + 10.0
    r = 93.2 - eff / 40.0 if eff < 160 else 93.2 - (eff - 120.0) / 10.0
    r -= 2.5 * loss_pct
    r = min(100.0, max(0.0, r))
    value = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)
    return min(4.5, max(1.0, value))


@dataclass
class _Bucket:
    start: int
    last_t: float = 0.0
    samples: int = 0
    rtt_pair: list = field(default_factory=list)
    rtt_remote: list = field(default_factory=list)
    jit_audio: list = field(default_factory=list)
    jit_other: list = field(default_factory=list)
    jit_remote: list = field(default_factory=list)
    in_recv: float = 0.0
    in_lost: float = 0.0
    out_sent: float = 0.0
    remote_lost: float = 0.0
    pair_bytes: dict = field(default_factory=dict)  # pc -> [bytes, min_prev_t, max_t]
    rtp_bytes: dict = field(default_factory=dict)


def _mean(values: list) -> float | None:
    return sum(values) / len(values) if values else None


class QualityAggregator:
    """Feed ``sample(t)`` once per stats snapshot and ``observe(...)`` per report, then ``finish()``.

    ``count_from_zero``: packet counters are cumulative since their stream began; when the
    dump starts with the call (rtcstats) a stream's first value counts in the interval holding
    it; when the dump may start mid-call (webrtc-internals keeps a window) the first value is
    only the baseline.
    """

    def __init__(self, interval_ms: int, count_from_zero: bool):
        self.interval_ms = interval_ms
        self.count_from_zero = count_from_zero
        self._buckets: dict[int, _Bucket] = {}
        self._prev: dict = {}
        self.first_ms: float | None = None
        self.last_ms: float | None = None
        self.samples = 0

    def _bucket(self, t: float) -> _Bucket:
        start = int(t // self.interval_ms) * self.interval_ms
        bucket = self._buckets.get(start)
        if bucket is None:
            bucket = self._buckets[start] = _Bucket(start)
        bucket.last_t = max(bucket.last_t, t)
        self.first_ms = t if self.first_ms is None else min(self.first_ms, t)
        self.last_ms = t if self.last_ms is None else max(self.last_ms, t)
        return bucket

    def sample(self, t: float) -> None:
        self._bucket(t).samples += 1
        self.samples += 1

    def _step(self, key, value, t, zero_base: bool, may_decrease: bool = False):
        """(delta, prev_t) of a cumulative counter; delta None when there is no baseline."""
        prev = self._prev.get(key)
        self._prev[key] = (value, t)
        if prev is None:
            return (value if zero_base else None), None
        prev_value, prev_t = prev
        if value < prev_value and not may_decrease:
            return value, prev_t  # counter reset (new stream object under the same id)
        return value - prev_value, prev_t

    def _bytes(self, store: dict, pc, key, fields: dict, t: float) -> float:
        moved = 0.0
        for name in ("bytesReceived", "bytesSent"):
            if name not in fields:
                continue
            delta, prev_t = self._step(key + (name,), fields[name], t, zero_base=False)
            if delta is None or prev_t is None:
                continue
            entry = store.setdefault(pc, [0.0, prev_t, t])
            entry[0] += delta
            entry[1] = min(entry[1], prev_t)
            entry[2] = max(entry[2], t)
            moved += delta
        return moved

    def observe(self, pc: str, report_id: str, kind: str, t: float, fields: dict) -> None:
        bucket = self._bucket(t)
        key = (pc, report_id)
        if kind == "inbound":
            for name, attr in (("packetsReceived", "in_recv"), ("packetsLost", "in_lost")):
                if name in fields:
                    delta, _ = self._step(key + (name,), fields[name], t, self.count_from_zero,
                                          may_decrease=(name == "packetsLost"))
                    if delta is not None:
                        setattr(bucket, attr, getattr(bucket, attr) + delta)
            if "jitterMs" in fields:
                (bucket.jit_audio if fields.get("media") == "audio" else bucket.jit_other).append(
                    fields["jitterMs"])
            self._bytes(bucket.rtp_bytes, pc, key, fields, t)
        elif kind == "outbound":
            if "packetsSent" in fields:
                delta, _ = self._step(key + ("packetsSent",), fields["packetsSent"], t,
                                      self.count_from_zero)
                if delta is not None:
                    bucket.out_sent += delta
            if "remotePacketsLost" in fields:
                delta, _ = self._step(key + ("remotePacketsLost",), fields["remotePacketsLost"], t,
                                      self.count_from_zero, may_decrease=True)
                if delta is not None:
                    bucket.remote_lost += delta
            if "rttMs" in fields and fields["rttMs"] > 0:
                bucket.rtt_remote.append(fields["rttMs"])
            self._bytes(bucket.rtp_bytes, pc, key, fields, t)
        elif kind == "remote-inbound":
            if "rttMs" in fields:
                bucket.rtt_remote.append(fields["rttMs"])
            if "jitterMs" in fields:
                bucket.jit_remote.append(fields["jitterMs"])
            if "remotePacketsLost" in fields:
                delta, _ = self._step(key + ("remotePacketsLost",), fields["remotePacketsLost"], t,
                                      self.count_from_zero, may_decrease=True)
                if delta is not None:
                    bucket.remote_lost += delta
        elif kind == "pair":
            had_bytes = any(k in fields for k in ("bytesReceived", "bytesSent"))
            moved = self._bytes(bucket.pair_bytes, pc, key, fields, t)
            if "active" in fields:
                active = fields["active"]
                self._prev[key + ("active",)] = active
            elif had_bytes:
                total = fields.get("bytesReceived", 0.0) + fields.get("bytesSent", 0.0)
                active = moved > 0 or (key + ("seen",) not in self._prev and total > 0)
                self._prev[key + ("active",)] = active
            else:
                active = self._prev.get(key + ("active",), False)
            self._prev[key + ("seen",)] = True
            if active and "rttMs" in fields:
                bucket.rtt_pair.append(fields["rttMs"])

    def finish(self) -> list[dict]:
        """One dict per interval with samples, in time order: start, ts, metrics, stats."""
        out = []
        last_rtt = None
        for start in sorted(self._buckets):
            b = self._buckets[start]
            estimated = []
            rtt = _mean(b.rtt_pair)
            if rtt is None:
                rtt = _mean(b.rtt_remote)
            if rtt is None:
                if last_rtt is not None:
                    rtt = last_rtt
                    estimated.append("networkLatency")
                else:
                    rtt = 0.0
                    estimated.append("networkLatency")
            else:
                last_rtt = rtt
            jitter = _mean(b.jit_audio)
            if jitter is None:
                jitter = _mean(b.jit_other)
            if jitter is None:
                jitter = _mean(b.jit_remote)
            lost = max(0.0, b.in_lost)
            if b.in_recv + lost > 0:
                loss = 100.0 * lost / (b.in_recv + lost)
            elif b.out_sent > 0:
                loss = 100.0 * min(max(0.0, b.remote_lost), b.out_sent) / b.out_sent
            else:
                loss = 0.0
            bandwidth = 0.0
            source = b.pair_bytes if any(v[0] > 0 for v in b.pair_bytes.values()) else b.rtp_bytes
            for total, first_t, last_t in source.values():
                if last_t > first_t:
                    bandwidth += total * 8.0 / (last_t - first_t)  # bytes/ms*8 = kbit/s
            score = mos(rtt, jitter or 0.0, loss)
            metrics = {
                "audioQuality": round(score, 4),
                "videoQuality": round(score, 4),
                "networkLatency": round(min(rtt, 60000.0), 3),
                "packetLoss": round(min(100.0, loss), 4),
                "bandwidth": round(bandwidth, 3),
                "cpu": 0,
                "memory": 0,
            }
            if jitter is not None:
                metrics["jitter"] = round(jitter, 3)
            estimated += ["cpu", "memory"]
            stats = {
                "samples": b.samples,
                "packetsReceived": int(round(b.in_recv)),
                "packetsLost": int(round(lost)),
                "rttSamples": len(b.rtt_pair) or len(b.rtt_remote),
                "estimated": estimated,
            }
            out.append({"start": start, "ts": b.last_t, "metrics": metrics, "stats": stats})
        return out
