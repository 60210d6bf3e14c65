"""A progress bar on a terminal (standard error), silent elsewhere."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int | None = None, enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.total = total
        self.done = 0
        self._last = 0.0
        self._started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        rate = self.done / max(time.monotonic() - self._started, 1e-6)
        if self.total:
            share = min(1.0, self.done / self.total)
            bar = "#" * int(share * 30)
            text = f"\r{self.label} [{bar:<30}] {self.done}/{self.total} ({rate:,.0f}/s)"
        else:
            text = f"\r{self.label} {self.done:,} ({rate:,.0f}/s)"
        self.stream.write(text)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
