"""Per-client request limits over a rolling minute and, optionally, a rolling day.

The bot limits Telegram users (a minute and a day); the web app limits its clients (a minute,
by Telegram user when initData is valid, else by address). One limiter serves both.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

MINUTE = 60.0
DAY = 86_400.0


class RateLimiter:
    """At most ``per_minute`` requests in any 60 s (and ``per_day`` in any 24 h) per client key."""

    def __init__(
        self,
        per_minute: int,
        per_day: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        if per_day is not None and per_day < 1:
            raise ValueError(f"per_day must be at least 1, got {per_day}")
        self.per_minute = per_minute
        self.per_day = per_day
        self._clock = clock
        self._window = DAY if per_day is not None else MINUTE  # how long a hit is remembered
        self._hits: dict[Hashable, deque[float]] = {}

    def check(self, key: Hashable) -> float | None:
        """Count a request; None if allowed, else the seconds until one is allowed again."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        wait = 0.0
        if self.per_day is not None and len(hits) >= self.per_day:
            wait = hits[-self.per_day] + DAY - now
        recent = [t for t in hits if t > now - MINUTE][-self.per_minute :]
        if len(recent) >= self.per_minute:
            wait = max(wait, recent[0] + MINUTE - now)
        if wait > 0:
            return wait
        hits.append(now)
        self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        # Keep memory bounded by active clients: drop those idle for a whole window (rarely).
        if len(self._hits) > 10_000:
            for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self._window]:
                del self._hits[key]
