"""A pool of refine servers: the least busy healthy one with the model gets the job, a server
that dies mid-job hands it to the next, and admins see every server."""

from __future__ import annotations

import asyncio

import pytest

from bot.state import STATE_KEY
from tests.bot.test_bot_refine import admin_texts, colored_reply, refined_photos
from tests.support.refine import FakeRefineServer
from tests.support.telegram import ADMIN_ID
from tests.support.telegram import USER_ID as USER
from tests.support.tokens import REFINE_TOKEN


@pytest.fixture
async def second_server():
    server = await FakeRefineServer(REFINE_TOKEN).start()
    yield server
    server.release()
    await server.stop()


@pytest.fixture
def pool_settings(make_settings, refine_server, second_server):
    return make_settings(
        refine_urls=[refine_server.url, second_server.url],
        npoint_bin_id="",
        health_check_interval_s=30.0,
    )


async def test_least_busy_server_with_the_model_gets_the_job(
    telegram, refine_server, second_server, pool_settings, run_bot
):
    refine_server.queue = 3  # the first is busy
    async with run_bot(pool_settings) as app:
        state = app.bot_data[STATE_KEY]
        await state.refine.refresh_status()
        _, colored = await colored_reply(telegram)
        await telegram.tap(USER, colored, "r:b:30")
        await telegram.wait_for(lambda c: c in refined_photos(telegram))
        assert (len(refine_server.requests), len(second_server.requests)) == (0, 1)

        # The idle one lacks the model asked for: the busy one that has it gets the job.
        second_server.models = ["balanced"]
        await state.refine.refresh_status()
        await telegram.tap(USER, colored, "r:q:30")
        await telegram.wait_for(lambda c: c in refined_photos(telegram), count=2)
        assert (len(refine_server.requests), len(second_server.requests)) == (1, 1)

        await telegram.send_text(ADMIN_ID, "/status")
        [status] = await telegram.wait_for(lambda c: c.chat_id == ADMIN_ID)
        text = status.params["text"]
        assert refine_server.url in text and second_server.url in text
        assert text.count("✨ Refine server") == 2


async def test_a_server_dying_mid_job_hands_it_to_the_next(
    telegram, refine_server, second_server, pool_settings, run_bot
):
    async with run_bot(pool_settings):
        _, colored = await colored_reply(telegram)
        refine_server.hold()  # a long GPU job on the first server...
        await telegram.tap(USER, colored, "r:b:30")
        await asyncio.wait_for(refine_server.arrived.wait(), 10)
        await refine_server.kill()  # ...that dies with it
        await telegram.wait_for(lambda c: c in refined_photos(telegram))
        assert len(second_server.requests) == 1
        assert second_server.requests[0]["image"] == refine_server.requests[0]["image"]
        alerts = await telegram.wait_for(lambda c: c.chat_id == ADMIN_ID)
        assert (
            "offline" in alerts[0].params["text"] and refine_server.url in alerts[0].params["text"]
        )
        assert len(admin_texts(telegram)) == 1
        # No "⏳" left behind and no error text: the user got just the picture.
        assert not [t for t in telegram.texts(USER)]


def test_ranking_healthy_with_the_model_least_loaded_first():
    from pydantic import SecretStr

    from bot.services.discovery import RefineLocator
    from bot.services.health import RefineHealth
    from bot.services.refine_pool import RefinePool, RefineServer

    async def notify(text: str) -> None:
        pass

    def server(name: str, *, online: bool | None, queue: int, busy: bool, models: list[str]):
        locator = RefineLocator(
            None,  # type: ignore[arg-type]  # never called here
            fixed_url=f"https://{name}.example",
            npoint_api_base="",
            npoint_bin_id="",
            token=SecretStr(""),
        )
        health = RefineHealth(notify, name=name)
        health.online = online
        health.record_status({"queue": queue, "busy": busy, "models": models})
        return RefineServer(name, locator, health)

    both = ["balanced", "quality"]
    servers = [
        server("down", online=False, queue=0, busy=False, models=both),
        server("full", online=True, queue=3, busy=True, models=both),
        server("idle-no-quality", online=True, queue=0, busy=False, models=["balanced"]),
        server("busy", online=True, queue=0, busy=True, models=both),
        server("new", online=None, queue=1, busy=False, models=both),
    ]

    def make_server(name: str, url: str) -> RefineServer:
        made = server(name, online=None, queue=0, busy=False, models=both)
        made.locator.fixed_url = url
        return made

    pool = RefinePool(servers, make_server)
    assert [s.name for s in pool.ranked("quality")] == [
        "busy", "new", "full", "idle-no-quality", "down"
    ]  # fmt: skip
    assert [s.name for s in pool.ranked("balanced")][:2] == ["idle-no-quality", "busy"]
    pool.set_override("https://chosen.example/")
    assert [(s.name, s.locator.known_url) for s in pool.servers] == [
        ("/seturl", "https://chosen.example")
    ]
    assert pool.source == "/seturl"
    pool.set_override(None)
    assert len(pool.servers) == 5
