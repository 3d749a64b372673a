"""Per-client request limit over a rolling minute (by Telegram user, else by address)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


class ClientLimiter:
    """At most ``per_minute`` requests per client key in any 60 seconds."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str) -> float | None:
        """Count a request; None if allowed, else the seconds until one is allowed again."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW_S:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return hits[0] + WINDOW_S - now
        hits.append(now)
        if len(self._hits) > 10_000:  # memory stays bounded by recently active clients
            for idle in [k for k, h in self._hits.items() if not h or h[-1] <= now - WINDOW_S]:
                del self._hits[idle]
        return None
