"""Replica state in a real Redis: in-flight refines answered once, alerts sent once."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.redis_refine_store import FLIGHT_TTL_S, RedisRefineStore
from bot.services.refine_store import InFlight, StoreUnavailable
from shared_state.alerts import LocalAlerts, RedisAlerts
from shared_state.connection import connect
from shared_state.keys import Keys
from shared_state.settings import ScaleSettings


def _flight(message_id: int, caption: str = "cat") -> InFlight:
    return InFlight(
        chat_id=42,
        message_id=message_id,
        button="r:b:30",
        caption=caption,
        caption_entities=[],
        reply_markup={"inline_keyboard": []},
        started_at=0.0,
    )


@pytest.fixture
async def replicas(redis_url):
    clients = [connect(redis_url) for _ in range(3)]
    stores = [RedisRefineStore(c, Keys(), replica=f"r{i}") for i, c in enumerate(clients)]
    for store in stores:
        await store.start()
    yield stores
    for store, client in zip(stores, clients, strict=True):
        store.close()
        await client.aclose()


async def test_a_live_replicas_refines_are_left_alone_a_dead_ones_answered_once(replicas):
    a, b, c = replicas
    first = await a.add(_flight(10))
    second = await a.add(_flight(11, caption=None))
    assert await b.unfinished() == []  # a is alive: its refines are running
    assert (await b.first_on(42, 10)).caption == "cat"  # every replica sees them
    await a.finish(first)
    assert await b.first_on(42, 10) is None

    await a.aclose()  # a dies (its heartbeat is gone)
    claimed_b, claimed_c = await asyncio.gather(b.unfinished(), c.unfinished())
    assert [f.id for f in claimed_b + claimed_c] == [second]  # exactly one replica claims it
    winner = b if claimed_b else c
    loser = c if claimed_b else b
    assert (claimed_b + claimed_c)[0].caption is None and (claimed_b + claimed_c)[0].reply_markup
    assert await loser.unfinished() == []
    # The claimer keeps it until it has answered (Telegram down: tried again later).
    assert [f.id for f in await winner.unfinished()] == [second]
    await winner.finish(second)
    assert await winner.unfinished() == [] and await loser.unfinished() == []


async def test_refines_survive_a_redis_restart_and_keys_expire(replicas, redis_server):
    a, b, _ = replicas
    flight_id = await a.add(_flight(20))
    redis_server.restart(kill=True)  # SIGKILL: the append-only file is all that is left
    assert (await b.first_on(42, 20)).id == flight_id  # clients reconnect by themselves
    ttl = await b._redis.ttl(f"pixelpainter:refine:{flight_id}")
    assert 0 < ttl <= FLIGHT_TTL_S
    assert 0 < await b._redis.ttl("pixelpainter:replica:r0") <= 20


async def test_store_unreachable_is_a_typed_error():
    client = connect("redis://127.0.0.1:1/0", retries=1)  # nothing listens there
    store = RedisRefineStore(client, Keys())
    try:
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(store.add(_flight(1)), 60)
    finally:
        await client.aclose()


async def test_alerts_once_per_episode_across_replicas(redis_url):
    clients = [connect(redis_url) for _ in range(3)]
    try:
        gates = [RedisAlerts(c, Keys()) for c in clients]
        opened = await asyncio.gather(*(g.open("refine-down:a") for g in gates))
        assert sorted(opened) == [False, False, True]
        assert not await gates[0].open("refine-down:a")
        assert await gates[0].open("refine-down:b")  # another server: its own episode
        closed = await asyncio.gather(*(g.close("refine-down:a") for g in gates))
        assert sorted(closed) == [False, False, True]
        assert await gates[2].open("refine-down:a")  # the next outage alerts again
        assert await clients[0].ttl("pixelpainter:alert:refine-down:a") > 0
    finally:
        for c in clients:
            await c.aclose()
    local = LocalAlerts()
    assert await local.open("x") and not await local.open("x")
    assert await local.close("x") and not await local.close("x")


async def test_redis_restart_mid_refine_loses_nothing(
    telegram, refine_server, make_settings, run_bot, redis_server, redis_url
):
    from tests.bot.test_bot_refine import colored_reply, refined_photos
    from tests.support.telegram import USER_ID

    async with run_bot(
        make_settings(scale=ScaleSettings(_env_file=None, redis_url=redis_url))
    ) as app:
        state = app.bot_data["pixelpainter"]
        _, colored = await colored_reply(telegram)
        refine_server.hold()
        await telegram.tap(USER_ID, colored, "r:b:30")
        await asyncio.wait_for(refine_server.arrived.wait(), 10)
        [flight] = await state.store._all()  # recorded in Redis before the call
        redis_server.restart(kill=True)  # SIGKILL mid-refine; the append-only file has it
        assert (await state.store.first_on(flight.chat_id, flight.message_id)).id == flight.id
        refine_server.release()
        await telegram.wait_for(lambda c: c in refined_photos(telegram))
        async with asyncio.timeout(5):  # answered, so forgotten
            while await state.store._all():
                await asyncio.sleep(0.05)
        # The limiter works on across the restart too.
        assert await state.limiter.check(USER_ID) is None
