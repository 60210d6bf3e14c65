"""Time range, zone and filter parameters: parsed once, the same way for the pages and the API.

Pure functions only (no Flask, no Dash): ``parse_query(args, now_ms)`` turns URL parameters into a
``TimeQuery`` or raises ``ParamError`` naming the parameter and the problem.

* ``range`` is one of 1h, 24h, 7d, 30d (default 24h), ending at ``now`` rounded up to the
  cache quantum, so every browser asking within one quantum gets the same [from, to).
* or ``from`` and ``to`` in ISO 8601 (a time without a zone is UTC; ``to`` defaults to now);
  giving ``range`` together with ``from``/``to`` is an error, so is from >= to.
* ``tz`` is an IANA zone (UTC by default) for bucket boundaries and display.
* ``region``, ``meeting_type``, ``platform`` filter meetings; repeat them or separate by commas.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterable, Mapping
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from queries.filters import Filters
from queries.pages.buckets import Bucketing
from queries.timeutil import epoch_ms

RANGES = {"1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000}
DEFAULT_RANGE = "24h"
FILTER_PARAMS = ("region", "meeting_type", "platform")
MAX_SPAN_MS = 400 * 86_400_000
MAX_FILTER_VALUES = 50
MAX_VALUE_LEN = 200
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class ParamError(ValueError):
    """A request parameter is unusable; ``param`` names it and ``problem`` says why."""

    def __init__(self, param: str, problem: str):
        super().__init__(f"{param}: {problem}")
        self.param = param
        self.problem = problem

    def as_json(self) -> dict:
        return {"error": "bad_parameter", "parameter": self.param, "problem": self.problem}


@dataclass(frozen=True)
class TimeQuery:
    """A resolved request: half-open [from_ms, to_ms), the display zone and the filters."""

    from_ms: int
    to_ms: int
    tz: str = "UTC"
    range_key: str | None = DEFAULT_RANGE
    filters: Filters = field(default_factory=Filters)

    @property
    def span_ms(self) -> int:
        return self.to_ms - self.from_ms

    def previous(self) -> tuple[int, int]:
        """The previous range of equal length, [from - span, from)."""
        return self.from_ms - self.span_ms, self.from_ms

    @property
    def bucketing(self) -> Bucketing:
        return Bucketing.for_range(self.from_ms, self.to_ms, self.tz)

    def canonical(self) -> dict:
        """Everything that decides a query's result, in a canonical form (for cache keys)."""
        return {"from_ms": self.from_ms, "to_ms": self.to_ms, "tz": self.tz,
                "region": list(self.filters.regions), "meeting_type": list(self.filters.meeting_types),
                "platform": list(self.filters.platforms)}

    def describe(self) -> dict:
        """The resolved range as returned by the API."""
        return {"from_ms": self.from_ms, "to_ms": self.to_ms, "from": iso_utc(self.from_ms),
                "to": iso_utc(self.to_ms), "range": self.range_key, "tz": self.tz,
                "bucket": self.bucketing.step,
                "filters": {"region": list(self.filters.regions),
                            "meeting_type": list(self.filters.meeting_types),
                            "platform": list(self.filters.platforms)}}

    def url_params(self) -> dict:
        """URL parameters that reproduce this query (relative ranges stay relative)."""
        out: dict = {}
        if self.range_key:
            out["range"] = self.range_key
        else:
            out["from"] = iso_utc(self.from_ms)
            out["to"] = iso_utc(self.to_ms)
        if self.tz != "UTC":
            out["tz"] = self.tz
        for name, values in zip(FILTER_PARAMS, (self.filters.regions, self.filters.meeting_types,
                                                self.filters.platforms)):
            if values:
                out[name] = ",".join(values)
        return out

    def query_string(self) -> str:
        return "?" + urlencode(self.url_params())


def iso_utc(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    text = dt.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    return text.replace("+00:00", "Z")


def quantize(now_ms: int, quantum_ms: int) -> int:
    """``now`` rounded up to a multiple of the quantum, so requests within one quantum share keys."""
    if quantum_ms <= 1:
        return int(now_ms)
    return -(-int(now_ms) // quantum_ms) * quantum_ms


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def parse_tz(text: str | None) -> str:
    if text is None or text == "":
        return "UTC"
    if len(text) > 64 or not re.fullmatch(r"[A-Za-z0-9_+\-/]+", text):
        raise ParamError("tz", f"{text[:64]!r} is not an IANA time zone name")
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ParamError("tz", f"unknown time zone {text!r} (use an IANA name such as Europe/Berlin)") from None
    return text


EARLIEST_MS = 0                      # 1970-01-01: event times start in 2000 anyway
LATEST_MS = 7_258_118_400_000        # 2200-01-01: keeps every zone's local dates inside Python's range


def parse_instant(text: str, param: str) -> int:
    """Epoch ms of an ISO 8601 time; without a zone it is UTC."""
    raw = text.strip()
    # an unencoded "+05:30" in a URL arrives as " 05:30"
    raw = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", raw)
    if not _ISO_DATE.match(raw):
        raise ParamError(param, f"{raw[:40]!r} is not an ISO 8601 time such as 2026-01-05T00:00:00Z")
    if re.match(r"^\d{4}-\d{2}-\d{2}(Z|[+-])", raw):
        # Python would read "2026-12-01+05:30" as 05:30 on that day, without a zone
        raise ParamError(param, f"{raw[:40]!r} has a zone but no time; write 2026-12-01T00:00:00+05:30")
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T"))
        ms = epoch_ms(dt)
    except (ValueError, OverflowError) as exc:
        raise ParamError(param, f"{raw[:40]!r} is not a valid time: {exc}") from None
    if not EARLIEST_MS <= ms < LATEST_MS:
        raise ParamError(param, f"{raw[:40]!r} is outside 1970-01-01 to 2199-12-31")
    return ms


def _values(args: Mapping, name: str) -> list[str]:
    """All values of a parameter, from a Werkzeug MultiDict, a dict of lists or a dict of strings."""
    if hasattr(args, "getlist"):
        raw = args.getlist(name)
    else:
        value = args.get(name)
        raw = [] if value is None else (list(value) if isinstance(value, (list, tuple)) else [value])
    return [str(v) for v in raw]


def _single(args: Mapping, name: str) -> str | None:
    values = _values(args, name)
    if len(values) > 1:
        raise ParamError(name, "given more than once")
    return values[0] if values else None


def parse_filters(args: Mapping) -> Filters:
    chosen: dict[str, list[str]] = {}
    for name in FILTER_PARAMS:
        items = [part.strip() for value in _values(args, name) for part in value.split(",")]
        items = [i for i in items if i]
        if len(items) > MAX_FILTER_VALUES:
            raise ParamError(name, f"at most {MAX_FILTER_VALUES} values")
        for item in items:
            if len(item) > MAX_VALUE_LEN or any(ord(c) < 32 for c in item):
                raise ParamError(name, "a value is too long or holds control characters")
        chosen[name] = items
    return Filters.of(chosen["region"], chosen["meeting_type"], chosen["platform"])


def parse_query(args: Mapping, now_ms: int, quantum_ms: int = 0) -> TimeQuery:
    """The TimeQuery that URL parameters ask for; raises ParamError for a bad one."""
    range_key = _single(args, "range")
    from_text = _single(args, "from")
    to_text = _single(args, "to")
    tz = parse_tz(_single(args, "tz"))
    filters = parse_filters(args)
    now = quantize(now_ms, quantum_ms)
    if range_key not in (None, "") and (from_text or to_text):
        raise ParamError("range", "give either range or from/to, not both")
    if from_text or to_text:
        if not from_text:
            raise ParamError("from", "required when to is given")
        start = parse_instant(from_text, "from")
        end = parse_instant(to_text, "to") if to_text else now
        if start >= end:
            raise ParamError("from", "must be before to")
        if end - start > MAX_SPAN_MS:
            raise ParamError("from", "the range may span at most 400 days")
        return TimeQuery(start, end, tz, None, filters)
    key = range_key or DEFAULT_RANGE
    if key not in RANGES:
        raise ParamError("range", f"{key[:20]!r} is not one of {', '.join(RANGES)}")
    return TimeQuery(now - RANGES[key], now, tz, key, filters)


def parse_search(search: str | None, now_ms: int, quantum_ms: int = 0) -> TimeQuery:
    """Parse a URL query string (``?range=7d&tz=...``) as the pages receive it."""
    args = parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    return parse_query(args, now_ms, quantum_ms)


def local_input_to_iso(text: str | None, tz: str) -> str | None:
    """A browser ``datetime-local`` value read in zone ``tz``, as ISO 8601 with its offset."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.isoformat()


def iso_to_local_input(ms: int, tz: str) -> str:
    """The ``datetime-local`` text of an instant in zone ``tz``."""
    return datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def local_label(ms: int, tz: str, with_seconds: bool = False) -> str:
    """Wall-clock text of an instant in zone ``tz`` (naive ISO, for chart axes and tables)."""
    dt = datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(tz))
    return dt.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def build_search(range_key: str | None, from_iso: str | None, to_iso: str | None, tz: str | None,
                 filters: Iterable[tuple[str, Iterable[str]]] = ()) -> str:
    """The query string the controls describe (values as the user chose them)."""
    out: list[tuple[str, str]] = []
    if range_key and range_key != "custom":
        out.append(("range", range_key))
    else:
        if from_iso:
            out.append(("from", from_iso))
        if to_iso:
            out.append(("to", to_iso))
    if tz and tz != "UTC":
        out.append(("tz", tz))
    for name, values in filters:
        values = [v for v in (values or []) if v]
        if values:
            out.append((name, ",".join(sorted(values))))
    return "?" + urlencode(out) if out else ""
