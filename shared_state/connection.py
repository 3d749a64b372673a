"""One Redis client per process, retrying across a Redis restart."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
