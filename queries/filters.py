"""Dashboard filters (region, meeting type, source platform) as a meeting-id restriction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

MEETINGS_WITH = "meeting_id IN (SELECT meeting_id FROM events WHERE {column} IN %({param})s)"
"""Meetings with any event whose ``column`` takes one of the chosen values.

Meeting type and platform come from MEETING_STARTED; region from any event that carries one
(a meeting with participants in two regions matches both). Dimensions combine with AND.
"""

_DIMENSIONS = (("regions", "region"), ("meeting_types", "meeting_type"), ("platforms", "platform"))


@dataclass(frozen=True)
class Filters:
    regions: tuple[str, ...] = ()
    meeting_types: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()

    @classmethod
    def of(cls, regions: Iterable[str] = (), meeting_types: Iterable[str] = (),
           platforms: Iterable[str] = ()) -> "Filters":
        def clean(values):
            return tuple(sorted({v for v in values if v}))
        return cls(clean(regions), clean(meeting_types), clean(platforms))

    @property
    def empty(self) -> bool:
        return not (self.regions or self.meeting_types or self.platforms)

    def sql(self) -> tuple[str, dict]:
        """(`` AND meeting_id IN (...)`` fragment, its bound parameters); ("", {}) without filters."""
        fragment, params = "", {}
        for attr, column in _DIMENSIONS:
            values = getattr(self, attr)
            if values:
                param = f"filter_{column}"
                fragment += " AND " + MEETINGS_WITH.format(column=column, param=param)
                params[param] = tuple(values)
        return fragment, params
