"""Counters for /status."""

from __future__ import annotations

import datetime as dt
import time


class Stats:
    """Uptime and today's request count (UTC day)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self._day = dt.datetime.now(dt.UTC).date()
        self.requests_today = 0

    def count_request(self) -> None:
        """Count one sketch or refine request."""
        today = dt.datetime.now(dt.UTC).date()
        if today != self._day:
            self._day, self.requests_today = today, 0
        self.requests_today += 1

    @property
    def uptime_s(self) -> float:
        """Seconds since start."""
        return time.monotonic() - self.started
