"""ImportOptions: the knobs every importer reads, plus the summary it writes into."""
from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .pseudonym import Pseudonymizer
from .state import JoinStateStore, MemoryJoinStateStore
from .summary import ImportSummary


@dataclass
class ImportOptions:
    """``interval_s``: QUALITY_METRICS bucket; ``tz``: zone for times without one;
    ``dayfirst``: None decides from the file, True/False override; ``keep_names``: publish
    display names as they are; ``pseudonym_key``: HMAC key (required unless keep_names);
    ``state``: where Zoom joins wait for their leaves."""

    interval_s: float = 10
    tz: str = "UTC"
    dayfirst: bool | None = None
    keep_names: bool = False
    pseudonym_key: bytes | None = None
    state: JoinStateStore = field(default_factory=MemoryJoinStateStore)
    summary: ImportSummary = field(default_factory=ImportSummary)

    def __post_init__(self):
        if self.interval_s is None or not self.interval_s > 0:
            raise ValueError("interval_s must be > 0")
        if self.pseudonym_key is None and not self.keep_names:
            raise ValueError("pseudonym_key is required unless keep_names=True")
        if isinstance(self.pseudonym_key, str):
            self.pseudonym_key = self.pseudonym_key.encode("utf-8")
        self.zone = ZoneInfo(self.tz)
        self.pseudonyms = Pseudonymizer(self.pseudonym_key, self.keep_names)

    @property
    def interval_ms(self) -> int:
        return int(round(self.interval_s * 1000))
