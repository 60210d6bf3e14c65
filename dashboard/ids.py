"""Every component id of the dashboard, in one place (pages build theirs with ``panel_ids``)."""
from __future__ import annotations

URL = "url"
PAGE = "page-content"
NAV = "nav"
TOKEN = "refresh-token"
LIVE_TOKEN = "live-token"
DONE_SINK = "done-sink"
LIVE_DONE_SINK = "live-done-sink"
INTERVAL = "refresh-interval"
LIVE_INTERVAL = "live-interval"
DOWNLOAD = "csv-download"
URL_ERROR = "url-error"

RANGE = "range-select"
CUSTOM_ROW = "custom-range"
FROM = "custom-from"
TO = "custom-to"
TZ = "tz-select"
REGION = "filter-region"
MEETING_TYPE = "filter-meeting-type"
PLATFORM = "filter-platform"
REFRESH_EVERY = "refresh-every"
PAUSE = "refresh-pause"

CSV_TYPE = "csv-button"
"""Pattern-matching id type of every panel's CSV button: {"type": CSV_TYPE, "panel": <panel id>}."""

NAV_LINKS = {"overview": "nav-overview", "quality": "nav-quality", "engagement": "nav-engagement",
             "system": "nav-system"}


def page_done(page: str) -> str:
    """Store a page's refresh writes when it has rendered (clears the in-flight flag)."""
    return f"{page}-done"


def page_updated(page: str) -> str:
    return f"{page}-updated"


def graph(panel: str) -> str:
    return f"{panel}-graph"


def body(panel: str) -> str:
    return f"{panel}-body"


def message(panel: str) -> str:
    return f"{panel}-msg"


def csv_button(panel: str) -> dict:
    return {"type": CSV_TYPE, "panel": panel}


def kpi(key: str) -> str:
    return f"kpi-{key.replace('.', '-').replace('_', '-')}"


LIVE_BODY = "live-body"
LIVE_DONE = "live-done"
