"""Per-user request limits over a rolling minute and a rolling day."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MINUTE = 60.0
DAY = 86_400.0


class RateLimiter:
    """At most ``per_minute`` requests in any 60 s and ``per_day`` in any 24 h, per user."""

    def __init__(
        self, per_minute: int, per_day: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}

    def check(self, user_id: int) -> float | None:
        """Count a request; None if allowed, else the seconds until one is allowed again."""
        now = self._clock()
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - DAY:
            hits.popleft()
        wait = 0.0
        if len(hits) >= self.per_day:
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
        # Keep memory bounded by active users: drop users idle for a day (checked rarely).
        if len(self._hits) > 10_000:
            for user_id in [u for u, h in self._hits.items() if not h or h[-1] <= now - DAY]:
                del self._hits[user_id]
