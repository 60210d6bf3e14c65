"""Explicit page registration: the app imports this list; pages never import the app."""
from __future__ import annotations

from . import engagement, meeting, overview, quality, system

PAGES = [overview.PAGE, quality.PAGE, engagement.PAGE, system.PAGE, meeting.PAGE]
"""Every page, in navbar order (the drill-down has no tab)."""


def page_for(pathname: str | None):
    for page in PAGES:
        if page.matches(pathname or "/"):
            return page
    return None
