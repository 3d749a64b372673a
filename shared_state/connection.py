"""One Redis client per process: namespaced keys, and retries across a Redis restart."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

DEFAULT_PREFIX = "pixelpainter"
# A restarted Redis (append-only file replayed) answers again within a second or two; commands
# wait for it, retrying with backoff up to ~15 s, rather than failing the user's request.
RETRIES = 20
BACKOFF_CAP_S = 1.0


def connect(url: str, *, retries: int = RETRIES) -> Redis:
    """An asyncio client of the Redis at ``url`` (``redis://host:port/db``); connects lazily."""
    return Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=BACKOFF_CAP_S, base=0.05), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=2,
        health_check_interval=30,
    )


class Keys:
    """Key names under one prefix (``REDIS_PREFIX``), so one Redis can serve several bots."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix.rstrip(":")

    def __call__(self, *parts: object) -> str:
        """``prefix:part1:part2…``"""
        return ":".join([self.prefix, *(str(p) for p in parts)])
