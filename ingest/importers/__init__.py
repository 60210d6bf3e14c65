"""Importers: real platform exports -> contract-v1 message dicts (DESIGN section 3).

API
---
``FORMATS``                      names: webrtc-internals, rtcstats, zoom-webhook, zoom-csv, teams
``detect_format(path) -> str``   from the content; raises ``UnknownFormatError`` (one line naming
                                 the formats tried) for anything else
``iter_events(path, *, fmt=None, options) -> Iterator[dict]``
                                 messages with eventId, eventType, timestamp (int epoch ms),
                                 meetingId, userId, data; counts and skipped rows go to
                                 ``options.summary`` (``ImportSummary``: events_by_type,
                                 meetings, participants, skipped [(path, line, reason)], counts)
``ImportOptions(interval_s=10, tz="UTC", dayfirst=None, keep_names=False,
                pseudonym_key=None, state=MemoryJoinStateStore())``
``JoinStateStore`` (get/put/flush), ``MemoryJoinStateStore``, ``JsonFileJoinStateStore(path)``
Zoom webhook route pieces: ``verify_zoom_signature(secret, timestamp_header, signature_header,
raw_body, now_s)``, ``zoom_url_validation_response(secret, body)``,
``zoom_webhook_events(payload, options)`` (flushes ``options.state``).

Mapping decisions
-----------------
* Ids: ``eventId`` is a hash of the event type, meeting, user and what identifies the session
  in the source (platform ids, page URL, start/join/leave times, interval start) - never file
  bytes or names - so importing a file twice gives identical events. ``meetingId``/``userId``
  carry a platform prefix (``zoom:``, ``teams:``, ``jitsi:``, ``webrtc:``).
  MEETING_STARTED's id depends on the meeting alone, so several files of one meeting keep one.
* Personal data: names and emails become keyed hashes (HMAC-SHA256 with ``pseudonym_key``):
  userName ``n-<hex16>``, person ids ``p-<hex20>`` (a person is their email when present, else
  their name compared without case and extra spaces). ``keep_names=True`` keeps userName as is;
  ids stay hashed.
* Client stats dumps (webrtc-internals, rtcstats client, RTCStatsDump): one participant per dump
  (per endpoint / user where the dump names one), peer connections merged; PARTICIPANT_JOINED at
  the first sample, PARTICIPANT_LEFT at the last; MEETING_STARTED at the first sample (no
  MEETING_ENDED: one client cannot see the end). Meeting: Jitsi meetingUniqueId, else its confID,
  else the page URL without query. QUALITY_METRICS per ``interval_s`` bucket (epoch aligned),
  timestamped at the bucket's last sample; see ``quality`` for each metric. audioQuality and
  videoQuality are both the E-model MOS of DESIGN section 4 computed from latency (round-trip
  time), jitter and loss, since no source gives perceptual scores; cpu and memory are 0 (not in
  the sources) and ``data.stats.estimated`` lists every defaulted metric. ``data.stats`` also
  has the interval's sample and packet counts.
* Jicofo server dumps: one participant per endpoint from its "Member joined/left" log lines;
  bridge stress samples are counted, not published (no per-participant quality).
* Zoom webhooks: meeting = instance uuid; leave duration from the join kept in ``state``; a leave
  without a join is skipped; meeting duration = end_time - start_time.
* Zoom CSV and Teams exports: each row is a session (Teams list: Joined/Left paired per person,
  "Joined before" is a join); MEETING_STARTED at the first time (or the report's start),
  MEETING_ENDED at the last (or the report's end); times without a zone are in ``tz``; day-first
  vs month-first decided from the whole file (see ``dates``) unless ``dayfirst`` is given.
"""
from __future__ import annotations

from typing import Iterator

from .detect import FORMATS, UnknownFormatError, detect_format
from .options import ImportOptions
from .rtcstats import iter_rtcstats
from .state import JoinStateStore, JsonFileJoinStateStore, MemoryJoinStateStore
from .summary import ImportSummary
from .teams import iter_teams
from .webrtc_internals import iter_webrtc_internals
from .zoom_csv import iter_zoom_csv
from .zoom_webhook import iter_zoom_webhook_file, verify_zoom_signature, zoom_url_validation_response
from .zoom_webhook import zoom_webhook_events as _zoom_webhook_events

_IMPORTERS = {
    "webrtc-internals": iter_webrtc_internals,
    "rtcstats": iter_rtcstats,
    "zoom-webhook": iter_zoom_webhook_file,
    "zoom-csv": iter_zoom_csv,
    "teams": iter_teams,
}

__all__ = [
    "FORMATS", "detect_format", "iter_events", "ImportOptions", "ImportSummary",
    "UnknownFormatError", "JoinStateStore", "MemoryJoinStateStore", "JsonFileJoinStateStore",
    "verify_zoom_signature", "zoom_url_validation_response", "zoom_webhook_events",
]


def iter_events(path, *, fmt: str | None = None, options: ImportOptions) -> Iterator[dict]:
    """Contract-v1 messages from one file, streamed; the summary is updated as they go."""
    fmt = fmt or detect_format(path)
    if fmt not in _IMPORTERS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    options.summary.counts["files"] += 1
    for msg in _IMPORTERS[fmt](path, options):
        options.summary.record(msg)
        yield msg


def zoom_webhook_events(payload: dict, options: ImportOptions) -> list[dict]:
    """Messages for one live webhook body (summary updated, join state flushed)."""
    events = _zoom_webhook_events(payload, options)
    for msg in events:
        options.summary.record(msg)
    return events
