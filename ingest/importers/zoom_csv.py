"""Zoom participant report CSV -> one session per row.

Header ``Name (Original Name), User Email, Join Time, Leave Time, Duration (Minutes), Guest``
(optionally preceded by a meeting block ``Meeting ID, Topic, Start Time, ...`` and its values).
A person is their email when present, else their name compared without case and extra spaces;
a renamed participant ``Display (Original)`` is the original name. Each row is a session, so
rejoins are sessions of one person; a session's duration is leave - join (the report's minutes
are rounded up). The file is read twice: date order and span first, then the events.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from .columns import fold, header_map
from .dates import DateOrder, parse_local
from .events import duration_s, message
from .pseudonym import normalize_email, normalize_name
from .textio import iter_rows

_RENAMED = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")


def split_name(raw: str) -> tuple[str, str]:
    """(display name, identity name): ``Meena T (Arun KVS Menon)`` -> both parts."""
    match = _RENAMED.match(raw or "")
    if match and match.group(1).strip() and match.group(2).strip():
        return match.group(1).strip(), match.group(2).strip()
    return (raw or "").strip(), (raw or "").strip()


def person_key(raw_name: str, email: str) -> str | None:
    if email and "@" in email:
        return "email:" + normalize_email(email)
    _, identity = split_name(raw_name)
    return "name:" + normalize_name(identity) if identity else None


def _is_zoom_header(roles: dict) -> bool:
    return "join" in roles and "leave" in roles and ("name" in roles or "email" in roles)


def _scan(path):
    """Yield ("meeting", line, fields, values) and ("row", line, roles, fields)."""
    roles = None
    meeting_header = None
    for number, fields in iter_rows(path, ","):
        if not any(fields):
            continue
        if roles is not None:
            yield ("row", number, roles, fields)
            continue
        if fold(fields[0]) == "meeting id":
            meeting_header = fields
            continue
        if meeting_header is not None:
            yield ("meeting", number, meeting_header, fields)
            meeting_header = None
            continue
        candidate = header_map(fields)
        if _is_zoom_header(candidate):
            roles = candidate


def _cell(fields, roles, role):
    index = roles.get(role)
    return fields[index].strip() if index is not None and index < len(fields) else ""


def iter_zoom_csv(path, options):
    summary = options.summary
    order, meeting = DateOrder(), {}
    first_key = None
    first = last = None
    for record in _scan(path):
        if record[0] == "meeting":
            meeting = {fold(k): v for k, v in zip(record[2], record[3])}
            continue
        _, _, roles, fields = record
        order.add(_cell(fields, roles, "join"))
        order.add(_cell(fields, roles, "leave"))
    dayfirst = order.dayfirst(options.dayfirst)
    zone = options.zone
    people = set()
    for record in _scan(path):
        if record[0] != "row":
            continue
        _, _, roles, fields = record
        key = person_key(_cell(fields, roles, "name"), _cell(fields, roles, "email"))
        join = parse_local(_cell(fields, roles, "join"), dayfirst, zone)
        leave = parse_local(_cell(fields, roles, "leave"), dayfirst, zone)
        if key:
            people.add(key)
            if first_key is None and join is not None:
                first_key = key
        for ts in (join, leave):
            if ts is not None:
                first = ts if first is None else min(first, ts)
                last = ts if last is None else max(last, ts)
    if first is None:
        summary.skip(path, None, "no readable join time in the file")
        return
    if meeting.get("meeting id"):
        start_text = meeting.get("start time", "")
        meeting_start = parse_local(start_text, dayfirst, zone) if start_text else None
        meeting_id = "zoom:" + re.sub(r"\s+", "", meeting["meeting id"])
        if meeting_start is not None:
            first = min(first, meeting_start)
            meeting_id += "@" + datetime.fromtimestamp(meeting_start / 1000, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    else:
        stamp = datetime.fromtimestamp(first / 1000, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        first_person = options.pseudonyms.person_id(first_key)[2:10] if first_key else "anon"
        meeting_id = f"zoom-report:{stamp}-{first_person}"
    platform = {"platform": "zoom"}
    yield message("MEETING_STARTED", first, meeting_id, None, dict(platform, participants=[]),
                  ("meeting",))
    for record in _scan(path):
        if record[0] != "row":
            continue
        _, number, roles, fields = record
        summary.counts["rows"] += 1
        raw_name, email = _cell(fields, roles, "name"), _cell(fields, roles, "email")
        key = person_key(raw_name, email)
        if key is None:
            summary.skip(path, number, "row without a name or email")
            continue
        join = parse_local(_cell(fields, roles, "join"), dayfirst, zone)
        leave = parse_local(_cell(fields, roles, "leave"), dayfirst, zone)
        if join is None or leave is None:
            summary.skip(path, number, "unreadable join or leave time")
            continue
        if leave < join:
            summary.skip(path, number, "leave time before join time")
            continue
        summary.source_time(join)
        summary.source_time(leave)
        user_id = "zoom:" + options.pseudonyms.person_id(key)
        display, _ = split_name(raw_name)
        joined = dict(platform, userName=options.pseudonyms.user_name(display), joinTime=join)
        yield message("PARTICIPANT_JOINED", join, meeting_id, user_id, joined, (join,))
        yield message("PARTICIPANT_LEFT", leave, meeting_id, user_id,
                      dict(platform, duration=duration_s(join, leave), leaveReason="left"),
                      (join, leave))
    yield message("MEETING_ENDED", last, meeting_id, None,
                  dict(platform, duration=duration_s(first, last), totalParticipants=len(people)),
                  ("meeting-ended",))
