"""Refine buttons: the refine server, its discovery, outages and restarts."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.npoint import BIN_ID, discovery_document
from tests.support.refine import FakeRefineServer
from tests.support.sketches import sketch_bytes
from tests.support.telegram import ADMIN_ID
from tests.support.telegram import USER_ID as USER
from tests.support.tokens import REFINE_TOKEN


async def colored_reply(telegram, caption: str | None = None) -> tuple[dict, dict]:
    """Send a sketch; the sketch message and the bot's colored reply."""
    sketch = await telegram.send_photo(USER, sketch_bytes(), caption=caption)
    colored = (await telegram.reply_to(sketch, "sendPhoto")).result
    return sketch, colored


def refined_photos(telegram) -> list:
    return [
        c for c in telegram.sent(USER, "sendPhoto") if "seed" in (c.params.get("caption") or "")
    ]


def admin_texts(telegram) -> list[str]:
    return [c.params["text"] for c in telegram.sent(ADMIN_ID, "sendMessage")]


async def test_refine_tap_gets_refined_image(telegram, refine_server, bot):
    sketch, colored = await colored_reply(telegram, caption="silver hair, red eyes")
    query_id = await telegram.tap(USER, colored, "r:q:45")
    [refined] = await telegram.wait_for(lambda c: c in refined_photos(telegram))

    [answer] = [c for c in telegram.calls if c.method == "answerCallbackQuery"]
    assert answer.params["callback_query_id"] == query_id
    assert answer.params["text"] == "Refining with Quality…"
    captions = [c.params.get("caption") for c in telegram.calls if c.method == "editMessageCaption"]
    assert captions == ["⏳ Refining with Quality…", None]  # progress, then put back

    [request] = refine_server.requests
    assert request["headers"]["Authorization"] == f"Bearer {REFINE_TOKEN}"
    assert request["headers"]["ngrok-skip-browser-warning"] == "1"
    assert request["model"] == "quality"
    assert request["strength"] == "0.45"
    assert request["prompt"] == "silver hair, red eyes"
    assert request["sketch"] == telegram.files[sketch["photo"][-1]["file_id"]][2]
    assert request["image"][:2] == b"\xff\xd8"

    assert refined.params["caption"] == "✨ Quality · strength 0.45 · seed 1234 · 0.2 s"
    assert refined.params["reply_parameters"]["message_id"] == sketch["message_id"]
    buttons = refined.params["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["a:q:45", "n:q:45"]

    # Another seed: the colored image again, with a seed chosen by the bot.
    await telegram.tap(USER, refined.result, "n:q:45")
    await telegram.wait_for(lambda c: c in refined_photos(telegram), count=2)
    second = refine_server.requests[1]
    assert second["seed"].isdigit()
    assert second["image"] == request["image"]
    # Refine this again: the refined picture is the input.
    await telegram.tap(USER, refined.result, "a:q:45")
    await telegram.wait_for(lambda c: c in refined_photos(telegram), count=3)
    assert refine_server.requests[2]["image"].startswith(b"\x89PNG")


async def test_refine_server_down_then_back(telegram, refine_server, make_settings, run_bot):
    async with run_bot(make_settings(health_check_interval_s=0.3)):
        _, colored = await colored_reply(telegram)
        await refine_server.stop()
        for _ in range(2):
            await telegram.tap(USER, colored, "r:b:30")
        offline = await telegram.wait_for(
            lambda c: c.chat_id == USER and "asleep" in c.params.get("text", ""), count=2
        )
        assert offline[0].params["reply_parameters"]["message_id"] == colored["message_id"]
        await asyncio.sleep(1.0)  # several failed health checks: still one alert
        assert len(admin_texts(telegram)) == 1
        assert "offline" in admin_texts(telegram)[0]

        await refine_server.start()
        await telegram.wait_for(lambda c: "back online" in c.params.get("text", ""))
        await asyncio.sleep(0.7)
        await telegram.tap(USER, colored, "r:b:30")
        await telegram.wait_for(lambda c: c in refined_photos(telegram))
    assert len(admin_texts(telegram)) == 2


@pytest.mark.parametrize("failure", ["stopped", "ngrok-404"])
async def test_moved_refine_server_is_rediscovered(
    telegram, refine_server, npoint, make_settings, run_bot, failure
):
    moved = await FakeRefineServer(REFINE_TOKEN).start()
    try:
        async with run_bot(make_settings()):
            _, colored = await colored_reply(telegram)
            await telegram.tap(USER, colored, "r:b:30")
            await telegram.wait_for(lambda c: c in refined_photos(telegram))
            assert npoint.reads == 1
            if failure == "stopped":
                await refine_server.stop()
            else:
                refine_server.mode = "ngrok"
            npoint.documents[BIN_ID] = discovery_document(moved.url)
            await telegram.tap(USER, colored, "r:b:30")
            await telegram.wait_for(lambda c: c in refined_photos(telegram), count=2)
        assert npoint.reads == 2
        assert len(moved.requests) == 1
        assert not admin_texts(telegram)
    finally:
        await moved.stop()


async def test_refine_after_restart_on_old_message(telegram, refine_server, make_settings, run_bot):
    settings = make_settings()
    async with run_bot(settings):
        sketch, colored = await colored_reply(telegram, caption="blue dress")
    async with run_bot(settings):  # a new process: no caches
        await telegram.tap(USER, colored, "r:b:20")
        [refined] = await telegram.wait_for(lambda c: c in refined_photos(telegram))
        await telegram.tap(USER, refined.result, "n:b:20")
        await telegram.tap(USER, colored, "l:b:20")
        await telegram.wait_for(lambda c: c in refined_photos(telegram), count=2)
        await telegram.wait_for(lambda c: c.method == "sendDocument")
    first, second = refine_server.requests
    assert first["prompt"] == second["prompt"] == "blue dress"
    assert first["sketch"] == second["sketch"] == telegram.files[sketch["photo"][-1]["file_id"]][2]
    colored_id = colored["photo"][-1]["file_id"]
    assert first["image"] == telegram.files[colored_id][2]  # the colored photo, fetched back
    assert second["image"][:2] == b"\xff\xd8"  # colored again from the sketch


async def test_busy_refine_server_says_when(telegram, refine_server, bot):
    refine_server.mode = "busy"
    _, colored = await colored_reply(telegram)
    await telegram.tap(USER, colored, "r:b:30")
    [call] = await telegram.wait_for(lambda c: "busy" in c.params.get("text", ""))
    assert "20 seconds" in call.params["text"]
    assert not admin_texts(telegram)


async def test_admin_status_and_seturl(telegram, refine_server, bot):
    await telegram.send_text(USER, "/status")
    [denied] = await telegram.wait_for(lambda c: c.chat_id == USER)
    assert "admins" in denied.params["text"]

    await telegram.send_text(ADMIN_ID, "/status")
    [status] = await telegram.wait_for(lambda c: c.chat_id == ADMIN_ID)
    assert "Tesla T4" in status.params["text"]
    assert refine_server.url in status.params["text"]

    other = await FakeRefineServer(REFINE_TOKEN).start()
    try:
        await telegram.send_text(ADMIN_ID, f"/seturl {other.url}")
        await telegram.wait_for(lambda c: c.chat_id == ADMIN_ID, count=2)
        _, colored = await colored_reply(telegram)
        await telegram.tap(USER, colored, "r:b:30")
        await telegram.wait_for(lambda c: c in refined_photos(telegram))
        assert len(other.requests) == 1
        await telegram.send_text(ADMIN_ID, "/seturl auto")
        [*_, auto] = await telegram.wait_for(lambda c: c.chat_id == ADMIN_ID, count=3)
        assert "automatic" in auto.params["text"]
    finally:
        await other.stop()
