"""Local date-times in exports: day-first or month-first decided from the whole file.

Rule: a first field above 12 anywhere means day-first; a second field above 12 means
month-first; failing both, a 24-hour clock (no AM/PM anywhere) means day-first, AM/PM
month-first. Year-first dates (``2026/5/6``, ISO) need no decision. Times without a zone are
in the ``tz`` zone of the import.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_DATE_TIME = re.compile(
    r"^\s*(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:\s*,\s*|\s+|T)"
    r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,](\d{1,6}))?)?"
    r"\s*([AaPp])?\.?\s*(?:[Mm]\.?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?\s*$"
)


class DateOrderError(ValueError):
    """The file has both a first and a second date field above 12."""


class DateOrder:
    """Collects evidence over a file's date strings, then decides day-first."""

    def __init__(self):
        self.first_gt12 = False
        self.second_gt12 = False
        self.has_ampm = False
        self.seen = 0

    def add(self, text: str) -> None:
        match = _DATE_TIME.match(text or "")
        if not match:
            return
        self.seen += 1
        a, b = match.group(1), match.group(2)
        if len(a) < 4:
            if int(a) > 12:
                self.first_gt12 = True
            if int(b) > 12:
                self.second_gt12 = True
        if match.group(8):
            self.has_ampm = True

    def dayfirst(self, override: bool | None = None) -> bool:
        if override is not None:
            return override
        if self.first_gt12 and self.second_gt12:
            raise DateOrderError("dates have a first field above 12 and a second field above 12; "
                                 "pass --dayfirst or --monthfirst")
        if self.first_gt12:
            return True
        if self.second_gt12:
            return False
        return not self.has_ampm


def parse_local(text: str, dayfirst: bool, zone) -> int | None:
    """Epoch ms of an export's date-time, or None when it is not one."""
    match = _DATE_TIME.match(text or "")
    if not match:
        return None
    a, b, c, hour, minute, second, fraction, ampm, offset = match.groups()
    if len(a) == 4:
        year, month, day = int(a), int(b), int(c)
    else:
        year = int(c)
        day, month = (int(a), int(b)) if dayfirst else (int(b), int(a))
    if year < 100:
        year += 2000
    hour = int(hour)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.upper() == "P" else 0)
    micro = int((fraction or "0").ljust(6, "0")[:6])
    try:
        local = datetime(year, month, day, hour, int(minute), int(second or 0), micro)
    except ValueError:
        return None
    if offset:
        if offset in ("Z", "UTC", "GMT"):
            tzinfo = timezone.utc
        else:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            tzinfo = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        aware = local.replace(tzinfo=tzinfo)
    else:
        aware = local.replace(tzinfo=zone)
    return int(round(aware.timestamp() * 1000))
