"""Per-client request limits that every process sees: the rolling windows of
:class:`pixelpainter_common.rate_limit.RateLimiter`, kept in Redis.

Both limiters are awaited the same way (``await limiter.check(key)``), so a caller does not
care which one it has: :class:`LocalLimiter` for one process, :class:`RedisRateLimiter` for many.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from typing import TYPE_CHECKING, Protocol

from pixelpainter_common.rate_limit import DAY, MINUTE, RateLimiter, check_limits

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared_state.keys import Keys


class Limiter(Protocol):
    """``await check(key)``: None if the request is allowed (and counted), else seconds to wait."""

    per_minute: int
    per_day: int | None

    async def check(self, key: Hashable) -> float | None: ...


class LocalLimiter:
    """:class:`RateLimiter` in this process's memory (no Redis: one process, as always)."""

    def __init__(self, per_minute: int, per_day: int | None = None) -> None:
        self._limiter = RateLimiter(per_minute, per_day)
        self.per_minute = per_minute
        self.per_day = per_day

    async def check(self, key: Hashable) -> float | None:
        """Count a request; None if allowed, else the seconds until one is allowed again."""
        return self._limiter.check(key)


# One sorted set of request times per client; the same arithmetic as RateLimiter.check, in one
# atomic script on Redis's own clock (replicas with different clocks still agree).
_CHECK = """
local per_minute = tonumber(ARGV[1])
local per_day = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = per_day > 0 and DAY or MINUTE
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local wait = 0
if per_day > 0 and n >= per_day then
  local hit = redis.call('ZRANGE', KEYS[1], n - per_day, n - per_day, 'WITHSCORES')
  wait = tonumber(hit[2]) + DAY - now
end
local recent = redis.call('ZCOUNT', KEYS[1], '(' .. tostring(now - MINUTE), '+inf')
if recent >= per_minute then
  local hit = redis.call('ZRANGE', KEYS[1], n - per_minute, n - per_minute, 'WITHSCORES')
  wait = math.max(wait, tonumber(hit[2]) + MINUTE - now)
end
if wait > 0 then
  return tostring(wait)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return false
""".replace("DAY", repr(DAY)).replace("MINUTE", repr(MINUTE))


class RedisRateLimiter:
    """At most ``per_minute`` requests in any 60 s (and ``per_day`` in any 24 h) per client key,
    counted across every process that shares the Redis and the ``scope``.

    Each client is one sorted set that expires a window after its last request.
    """

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        scope: str,
        per_minute: int,
        per_day: int | None = None,
    ) -> None:
        check_limits(per_minute, per_day)
        self.per_minute = per_minute
        self.per_day = per_day
        self._keys = keys
        self._scope = scope
        self._script = redis.register_script(_CHECK)

    async def check(self, key: Hashable) -> float | None:
        """Count a request; None if allowed, else the seconds until one is allowed again."""
        wait = await self._script(
            keys=[self._keys("rate", self._scope, key)],
            args=[self.per_minute, self.per_day or 0, uuid.uuid4().hex],
        )
        return None if wait is None else float(wait)
