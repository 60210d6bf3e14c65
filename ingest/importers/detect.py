"""Which importer reads a file, decided from its content (never from its name)."""
from __future__ import annotations

import orjson

from .columns import fold, header_map
from .tables import sniff_delimiter
from .textio import head_lines, sniff_encoding

FORMATS = ("webrtc-internals", "rtcstats", "zoom-webhook", "zoom-csv", "teams")


class UnknownFormatError(ValueError):
    """The file is in none of FORMATS; the message is one line naming the formats tried."""

    def __init__(self, path, detail: str = ""):
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{path}: not a recognised export{extra}; tried formats: "
                         + ", ".join(FORMATS))


def _first_json_line(head: bytes):
    for line in head.splitlines():
        line = line.strip()
        if line:
            try:
                return orjson.loads(line)
            except orjson.JSONDecodeError:
                return None
    return None


def detect_format(path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise UnknownFormatError(path, "empty file")
    encoding = sniff_encoding(head)
    if encoding.startswith("utf-8"):
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
        if text.startswith("RTCStatsDump"):
            return "rtcstats"
        if text.startswith("[") or text.startswith("{"):
            first = _first_json_line(head.lstrip(b"\xef\xbb\xbf"))
            if isinstance(first, list) and first and isinstance(first[0], str):
                return "rtcstats"
            if isinstance(first, dict) and "statsSessionId" in first:
                return "rtcstats"
            if isinstance(first, dict) and isinstance(first.get("event"), str) and "payload" in first:
                return "zoom-webhook"
            if isinstance(first, list) and first and isinstance(first[0], dict) and "event" in first[0]:
                return "zoom-webhook"
            if '"PeerConnections"' in text or ('"getUserMedia"' in text and '"UserAgent"' in text):
                return "webrtc-internals"
            if '"event"' in text and '"meeting.' in text and '"payload"' in text:
                return "zoom-webhook"
            if text.startswith("{") and len(head) == 65536:
                # a large JSON object whose PeerConnections key comes late
                with open(path, "rb") as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        if b'"PeerConnections"' in chunk:
                            return "webrtc-internals"
            raise UnknownFormatError(path, "JSON but not a known dump or webhook")
    lines = head_lines(path, 60)
    for line in lines:
        fields = [f.strip().strip('"') for f in line.split(",")]
        roles = header_map(fields)
        folded = [fold(f) for f in fields]
        if folded and folded[0] == "meeting id" and "topic" in folded:
            return "zoom-csv"
        if "join" in roles and "leave" in roles and (
                "guest" in roles or any("(minutes)" in f for f in folded)
                or any(f == "user email" for f in folded)):
            return "zoom-csv"
    if sniff_delimiter(path):
        return "teams"
    raise UnknownFormatError(path)
