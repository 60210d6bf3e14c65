"""Microsoft Teams attendance exports -> sessions.

Variants: the older list (Full Name, User Action, Timestamp: one Joined / Left / Joined before
per row), the per-session table (Name, Join Time, Leave Time, Duration, Email, Role, UPN) and the
multi-section report (1. Summary key-values; 2. Participants with first join / last leave;
3. In-Meeting Activities with one row per session). In a report the per-session section is used,
else the per-person section, else the list. Any encoding of textio, tab/semicolon/comma,
headers in English, German, French, Portuguese or Indonesian. The file is read twice: once to
decide the date order and the meeting's span, once to emit.

A person is their email (or UPN) when present, else their name compared without case and extra
spaces. The meeting id is the report's meeting id when it has one, else its start time (and
title). MEETING_ENDED is at the report's end time, else at the last time in the file.
"""
from __future__ import annotations

from datetime import datetime, timezone

from .columns import action_kind
from .dates import DateOrder, parse_local
from .events import duration_s, message
from .pseudonym import normalize_email, normalize_name
from .tables import iter_table_rows, sniff_delimiter

_PREFERENCE = ("sessions", "aggregate", "list")


def _cell(fields, roles, role):
    index = roles.get(role)
    if index is None or index >= len(fields):
        return ""
    return fields[index].strip()


def person_key(name: str, email: str) -> str | None:
    if email and "@" in email:
        return "email:" + normalize_email(email)
    if name:
        return "name:" + normalize_name(name)
    return None


def _time_cells(kind):
    if kind == "sessions":
        return ("join", "leave")
    if kind == "aggregate":
        return ("first_join", "last_leave")
    return ("timestamp",)


def iter_teams(path, options):
    sniffed = sniff_delimiter(path)
    if sniffed is None:
        raise ValueError(f"{path}: no Teams attendance table header found")
    delimiter, _ = sniffed
    summary = options.summary
    # pass 1: which table, date order, span, people
    kinds, info, order = set(), {}, DateOrder()
    for record in iter_table_rows(path, delimiter):
        if record[0] == "header":
            kinds.add(record[2])
        elif record[0] == "summary":
            info.setdefault(record[2], record[3])
            if record[2] in ("start", "end"):
                order.add(record[3])
        else:
            for role in _time_cells(record[2]):
                order.add(_cell(record[4], record[3], role))
    use = next(k for k in _PREFERENCE if k in kinds)
    dayfirst = order.dayfirst(options.dayfirst)
    zone = options.zone
    people, first, last = set(), None, None
    for record in iter_table_rows(path, delimiter):
        if record[0] != "row" or record[2] != use:
            continue
        fields, roles = record[4], record[3]
        key = person_key(_cell(fields, roles, "name"), _cell(fields, roles, "email") or _cell(fields, roles, "upn"))
        if key and (use != "list" or action_kind(_cell(fields, roles, "action")) == "join"):
            people.add(key)
        for role in _time_cells(use):
            ts = parse_local(_cell(fields, roles, role), dayfirst, zone)
            if ts is not None:
                first = ts if first is None else min(first, ts)
                last = ts if last is None else max(last, ts)
    start = parse_local(info.get("start", ""), dayfirst, zone) if info.get("start") else None
    end = parse_local(info.get("end", ""), dayfirst, zone) if info.get("end") else None
    start = start if start is not None else first
    end = end if end is not None else last
    if start is None:
        summary.skip(path, None, "no parseable time in the file")
        return
    if info.get("meeting_id"):
        meeting_id = "teams:" + info["meeting_id"].strip()
    else:
        stamp = datetime.fromtimestamp(start / 1000, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        meeting_id = "teams:" + stamp
        if info.get("title"):
            meeting_id += "-" + options.pseudonyms.person_id("title:" + normalize_name(info["title"]))[2:10]
    platform = {"platform": "teams"}
    yield message("MEETING_STARTED", start, meeting_id, None,
                  dict(platform, participants=[]), ("meeting",))
    # pass 2: emit
    open_joins: dict[str, int] = {}
    for record in iter_table_rows(path, delimiter):
        if record[0] != "row":
            continue
        _, number, kind, roles, fields = record
        if kind != use:
            continue
        summary.counts["rows"] += 1
        name = _cell(fields, roles, "name")
        email = _cell(fields, roles, "email") or _cell(fields, roles, "upn")
        key = person_key(name, email)
        if key is None:
            summary.skip(path, number, "row without a name or email")
            continue
        user_id = "teams:" + options.pseudonyms.person_id(key)
        joined = dict(platform, userName=options.pseudonyms.user_name(name))
        if kind == "list":
            action_text = _cell(fields, roles, "action")
            action = action_kind(action_text)
            ts = parse_local(_cell(fields, roles, "timestamp"), dayfirst, zone)
            if ts is None:
                summary.skip(path, number, f"unreadable timestamp {_cell(fields, roles, 'timestamp')!r}")
                continue
            summary.source_time(ts)
            if action == "join":
                open_joins[user_id] = ts
                yield message("PARTICIPANT_JOINED", ts, meeting_id, user_id,
                              dict(joined, joinTime=ts), (ts,))
            elif action == "leave":
                join = open_joins.pop(user_id, None)
                if join is None or join > ts:
                    summary.skip(path, number, "Left without an earlier Joined for this person")
                    continue
                yield message("PARTICIPANT_LEFT", ts, meeting_id, user_id,
                              dict(platform, duration=duration_s(join, ts), leaveReason="left"),
                              (join, ts))
            else:
                summary.skip(path, number, f"unknown user action {action_text!r}")
            continue
        join_role, leave_role = _time_cells(kind)
        join = parse_local(_cell(fields, roles, join_role), dayfirst, zone)
        leave = parse_local(_cell(fields, roles, leave_role), dayfirst, zone)
        if join is None:
            summary.skip(path, number, f"unreadable join time {_cell(fields, roles, join_role)!r}")
            continue
        summary.source_time(join)
        yield message("PARTICIPANT_JOINED", join, meeting_id, user_id,
                      dict(joined, joinTime=join), (join,))
        if leave is None:
            summary.skip(path, number, "no readable leave time; session left open")
            continue
        summary.source_time(leave)
        if leave < join:
            summary.skip(path, number, "leave time before join time")
            continue
        yield message("PARTICIPANT_LEFT", leave, meeting_id, user_id,
                      dict(platform, duration=duration_s(join, leave), leaveReason="left"),
                      (join, leave))
    if end is not None and end >= start:
        yield message("MEETING_ENDED", end, meeting_id, None,
                      dict(platform, duration=duration_s(start, end), totalParticipants=len(people)),
                      ("meeting-ended",))
