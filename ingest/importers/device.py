"""deviceInfo {os, browser, type} from a User-Agent string or UA client hints."""
from __future__ import annotations

import re

_BROWSERS = (
    (r"Edg(?:e|A|iOS)?/(\d+)", "Edge"),
    (r"OPR/(\d+)", "Opera"),
    (r"Firefox/(\d+)", "Firefox"),
    (r"Chrome/(\d+)", "Chrome"),
    (r"Version/(\d+)[\d.]* .*Safari/", "Safari"),
)
_OSES = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def from_user_agent(ua: str | None) -> dict | None:
    if not ua or not isinstance(ua, str):
        return None
    info = {}
    for pattern, name in _BROWSERS:
        match = re.search(pattern, ua)
        if match:
            info["browser"] = f"{name} {match.group(1)}"
            break
    for needle, name in _OSES:
        if needle in ua:
            info["os"] = name
            break
    info["type"] = "mobile" if re.search(r"Mobile|Android|iPhone|iPad", ua) else "desktop"
    return info


def from_client_hints(hints: dict | None, ua: str | None = None) -> dict | None:
    """Chrome's ``UserAgentData`` ({brands, mobile, platform}); falls back to the UA string."""
    info = from_user_agent(ua) or {}
    if isinstance(hints, dict):
        platform = hints.get("platform")
        if isinstance(platform, str) and platform:
            info["os"] = {"macOS": "macOS", "Windows": "Windows"}.get(platform, platform)
        for brand in hints.get("brands") or []:
            if isinstance(brand, dict) and brand.get("brand") in ("Google Chrome", "Microsoft Edge", "Chromium"):
                name = {"Google Chrome": "Chrome", "Microsoft Edge": "Edge"}.get(brand["brand"], "Chromium")
                info["browser"] = f"{name} {brand.get('version')}"
                if name != "Chromium":
                    break
        if isinstance(hints.get("mobile"), bool):
            info["type"] = "mobile" if hints["mobile"] else "desktop"
    return info or None
