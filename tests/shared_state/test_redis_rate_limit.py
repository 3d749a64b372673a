"""The Redis limiter keeps the in-memory limiter's windows, across processes and restarts."""

from __future__ import annotations

import asyncio

import pytest

from shared_state.connection import connect
from shared_state.keys import Keys
from shared_state.rate_limit import LocalLimiter, RedisRateLimiter


async def test_minute_window_is_shared_by_every_client_of_the_redis(redis_url):
    first, second = connect(redis_url), connect(redis_url)  # two replicas' connections
    try:
        a = RedisRateLimiter(first, Keys(), "bot", per_minute=3, per_day=10)
        b = RedisRateLimiter(second, Keys(), "bot", per_minute=3, per_day=10)
        assert await a.check(42) is None
        assert await b.check(42) is None
        assert await a.check(42) is None
        wait_a, wait_b = await a.check(42), await b.check(42)  # at the limit, refused by both
        assert wait_a is not None and 59.0 < wait_a <= 60.0
        assert wait_b is not None and 59.0 < wait_b <= 60.0
        assert await b.check(7) is None  # per user
        other_scope = RedisRateLimiter(first, Keys(), "webapp", per_minute=3)
        assert await other_scope.check(42) is None  # per scope
        other_prefix = RedisRateLimiter(first, Keys("another-bot"), "bot", per_minute=3)
        assert await other_prefix.check(42) is None  # per prefix
        # Keys expire: a client idle for a whole window leaves nothing behind.
        ttl = await first.ttl("pixelpainter:rate:bot:42")
        assert 86_400 <= ttl <= 86_401
        assert await first.ttl("pixelpainter:rate:webapp:42") <= 61
    finally:
        await first.aclose()
        await second.aclose()


async def test_day_window_and_concurrent_checks(redis_url):
    client = connect(redis_url)
    try:
        limiter = RedisRateLimiter(client, Keys(), "bot", per_minute=100, per_day=5)
        results = await asyncio.gather(*(limiter.check("u") for _ in range(20)))
        assert sum(r is None for r in results) == 5  # atomic: exactly the day's five pass
        waits = [r for r in results if r is not None]
        assert all(86_390 < w <= 86_400 for w in waits)
    finally:
        await client.aclose()


async def test_limit_survives_a_redis_restart(redis_server, redis_url):
    client = connect(redis_url)
    try:
        limiter = RedisRateLimiter(client, Keys(), "bot", per_minute=1)
        assert await limiter.check(1) is None
        redis_server.restart(kill=True)  # SIGKILL: only the append-only file is left
        wait = await limiter.check(1)  # the client reconnects by itself
        assert wait is not None and wait > 50
    finally:
        await client.aclose()


async def test_local_limiter_is_awaited_the_same_way():
    limiter = LocalLimiter(per_minute=1, per_day=None)
    assert await limiter.check(1) is None
    assert await limiter.check(1) == pytest.approx(60.0, abs=1.0)
