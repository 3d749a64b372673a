"""Per-client request limits over a rolling minute and, optionally, a rolling day.

The bot limits Telegram users (a minute and a day); the web app limits its clients (a minute,
by Telegram user when initData is valid, else by address). One limiter serves both.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

MINUTE = 60.0
DAY = 86_400.0


def check_limits(per_minute: int, per_day: int | None) -> None:
    """Raise ValueError unless the limits are at least 1 (``per_day`` None: no daily limit)."""
    if per_minute < 1:
        raise ValueError(f"per_minute must be at least 1, got {per_minute}")
    if per_day is not None and per_day < 1:
        raise ValueError(f"per_day must be at least 1, got {per_day}")


class _Hits:
    """One client's allowed requests: the last minute's and (with a daily cap) the last day's."""

    __slots__ = ("day", "minute")

    def __init__(self) -> None:
        self.minute: deque[float] = deque()
        self.day: deque[float] = deque()


class RateLimiter:
    """At most ``per_minute`` requests in any 60 s (and ``per_day`` in any 24 h) per client key.

    A check costs O(1) amortized however many clients there are: each client keeps at most
    ``per_minute`` + ``per_day`` times, and clients are kept in order of their last allowed
    request, so the idle ones are dropped from the front as they expire.
    """

    def __init__(
        self,
        per_minute: int,
        per_day: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_limits(per_minute, per_day)
        self.per_minute = per_minute
        self.per_day = per_day
        self._clock = clock
        self._window = DAY if per_day is not None else MINUTE  # how long a hit is remembered
        self._clients: OrderedDict[Hashable, _Hits] = OrderedDict()

    def check(self, key: Hashable) -> float | None:
        """Count a request; None if allowed, else the seconds until one is allowed again."""
        now = self._clock()
        hits = self._clients.get(key)
        if hits is None:
            hits = self._clients[key] = _Hits()
        _expire(hits.minute, now - MINUTE)
        _expire(hits.day, now - DAY)
        wait = 0.0
        # Only allowed requests are kept, so the deques never outgrow their caps.
        if self.per_day is not None and len(hits.day) >= self.per_day:
            wait = hits.day[0] + DAY - now
        if len(hits.minute) >= self.per_minute:
            wait = max(wait, hits.minute[0] + MINUTE - now)
        if wait > 0:
            return wait
        hits.minute.append(now)
        if self.per_day is not None:
            hits.day.append(now)
        self._clients.move_to_end(key)
        self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        # The front is the client whose last allowed request is oldest: drop while it is idle
        # for a whole window. Each client is dropped once, so this is O(1) amortized.
        while self._clients:
            key, hits = next(iter(self._clients.items()))
            last = hits.day[-1] if hits.day else hits.minute[-1] if hits.minute else None
            if last is not None and last > now - self._window:
                return
            del self._clients[key]


def _expire(times: deque[float], before: float) -> None:
    while times and times[0] <= before:
        times.popleft()
