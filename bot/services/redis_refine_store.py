"""In-flight refines in Redis, shared by every bot replica (``REDIS_URL`` set).

The same calls as :class:`bot.services.refine_store.RefineStore`, plus ownership: each refine
belongs to the replica that runs it, and each replica keeps a heartbeat key alive. A refine is
"cut off" when its owner's heartbeat is gone (the replica crashed or was killed); the first live
replica to notice claims it atomically, puts its caption back and asks its user to tap again.
One refine, one answer, whichever replica gives it.

Keys (under ``REDIS_PREFIX``): ``refine:<id>`` a hash (the flight as JSON, its owner, whether it
was claimed), ``refines`` a sorted set of ids, ``replica:<id>`` the heartbeats. Every key expires.
With Redis's append-only file on, a restarted Redis still has every refine it acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import asdict, replace

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.services.refine_store import InFlight, StoreUnavailable
from shared_state.keys import Keys

logger = logging.getLogger(__name__)

# A refine record outlives any refine (REFINE_TIMEOUT_S is minutes); then it is dropped.
FLIGHT_TTL_S = 24 * 3600
HEARTBEAT_S = 5.0
HEARTBEAT_TTL_S = 20

# Claim a refine whose owner is gone: atomically, so exactly one replica answers it.
_CLAIM = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then return false end
if owner == ARGV[1] then
  if redis.call('HGET', KEYS[1], 'claimed') == '1' then return redis.call('HGET', KEYS[1], 'data') end
  return false
end
if redis.call('EXISTS', ARGV[2] .. owner) == 1 then return false end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'claimed', '1')
return redis.call('HGET', KEYS[1], 'data')
"""


class RedisRefineStore:
    """In-flight refines of all replicas; ``start()`` begins this replica's heartbeat."""

    def __init__(self, redis: Redis, keys: Keys, replica: str | None = None) -> None:
        self._redis = redis
        self._keys = keys
        self.replica = replica or uuid.uuid4().hex[:12]
        self._claim = redis.register_script(_CLAIM)
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Announce this replica alive, and keep it so every few seconds."""
        await self._beat()
        self._heartbeat = asyncio.create_task(self._beat_forever(), name="replica-heartbeat")

    async def _beat(self) -> None:
        await self._redis.set(self._keys("replica", self.replica), time.time(), ex=HEARTBEAT_TTL_S)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self._beat()
            except RedisError as err:  # Redis restarting: the next beat catches up
                logger.warning("Replica heartbeat failed: %s", err)

    async def add(self, flight: InFlight) -> int:
        """Record ``flight`` as this replica's; its id. Raises StoreUnavailable without Redis."""
        try:
            flight_id = int(await self._redis.incr(self._keys("refines", "next-id")))
            data = json.dumps(
                asdict(replace(flight, id=flight_id, started_at=flight.started_at or time.time()))
            )
            key = self._keys("refine", flight_id)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping={"data": data, "owner": self.replica, "claimed": "0"})
                pipe.expire(key, FLIGHT_TTL_S)
                pipe.zadd(self._keys("refines"), {str(flight_id): flight_id})
                pipe.expire(self._keys("refines"), FLIGHT_TTL_S)
                await pipe.execute()
        except RedisError as err:
            raise StoreUnavailable(f"Redis: {err}") from err
        return flight_id

    async def finish(self, flight_id: int) -> None:
        """Forget a refine whose user has an answer."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._keys("refine", flight_id))
                pipe.zrem(self._keys("refines"), str(flight_id))
                await pipe.execute()
        except RedisError as err:
            raise StoreUnavailable(f"Redis: {err}") from err

    async def unfinished(self) -> list[InFlight]:
        """Refines cut off (their replica is gone), now claimed by this one; oldest first."""
        found = []
        for flight in await self._all():
            assert flight.id is not None
            data = await self._claim(
                keys=[self._keys("refine", flight.id)],
                args=[self.replica, self._keys("replica", "")],
            )
            if data is not None:
                found.append(_flight(data))
        return found

    async def first_on(self, chat_id: int, message_id: int) -> InFlight | None:
        """The oldest refine still under way on this message (its caption is the original)."""
        for flight in await self._all():
            if flight.chat_id == chat_id and flight.message_id == message_id:
                return flight
        return None

    async def _all(self) -> list[InFlight]:
        ids = await self._redis.zrange(self._keys("refines"), 0, -1)
        if not ids:
            return []
        keys = [self._keys("refine", i.decode()) for i in ids]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "data")
            values = await pipe.execute()
        gone = [i for i, value in zip(ids, values, strict=True) if value is None]
        if gone:  # expired records leave the index too
            await self._redis.zrem(self._keys("refines"), *gone)
        return [_flight(value) for value in values if value is not None]

    def close(self) -> None:
        """Stop the heartbeat (the replica's refines become "cut off" once it expires)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None

    async def aclose(self) -> None:
        """Stop the heartbeat and drop it now: a clean stop hands its leftovers over at once."""
        self.close()
        with contextlib.suppress(RedisError):
            await self._redis.delete(self._keys("replica", self.replica))


def _flight(data: bytes | str) -> InFlight:
    return InFlight(**json.loads(data))
