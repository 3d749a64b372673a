"""Alerts sent once per episode (an outage, a rejected document), however many replicas.

An episode is a key: the first replica to :meth:`open` it alerts, the first to :meth:`close`
it says that it is over. Alone, the keys live in memory; with Redis, every replica shares them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared_state.keys import Keys

# An outage longer than this is alerted again (a reminder), by whichever replica sees it first.
EPISODE_TTL_S = 7 * 24 * 3600


class AlertGate(Protocol):
    async def open(self, episode: str) -> bool:
        """Start ``episode``; True for the one caller that should send the alert."""
        ...

    async def close(self, episode: str) -> bool:
        """End ``episode``; True for the one caller that should say it is over."""
        ...


class LocalAlerts:
    """Episodes of this process only (one bot, no Redis)."""

    def __init__(self) -> None:
        self._open: set[str] = set()

    async def open(self, episode: str) -> bool:
        if episode in self._open:
            return False
        self._open.add(episode)
        return True

    async def close(self, episode: str) -> bool:
        if episode not in self._open:
            return False
        self._open.discard(episode)
        return True


class RedisAlerts:
    """Episodes every replica sees: ``SET NX`` opens one, ``DEL`` closes it (both atomic)."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def open(self, episode: str) -> bool:
        return bool(
            await self._redis.set(self._keys("alert", episode), "1", nx=True, ex=EPISODE_TTL_S)
        )

    async def close(self, episode: str) -> bool:
        return bool(await self._redis.delete(self._keys("alert", episode)))
