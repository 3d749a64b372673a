"""Refine buttons: the refine server, its discovery, outages and restarts."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.state import STATE_KEY
from pixelpainter_common.discovery import PLACEHOLDER_TOKEN
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
    async with run_bot(make_settings(health_check_interval_s=0.3)) as app:
        _, colored = await colored_reply(telegram)
        await refine_server.stop()
        for _ in range(2):
            await telegram.tap(USER, colored, "r:b:30")
        offline = await telegram.wait_for(
            lambda c: c.chat_id == USER and "asleep" in c.params.get("text", ""), count=2
        )
        assert offline[0].params["reply_parameters"]["message_id"] == colored["message_id"]
        health = app.bot_data[STATE_KEY].pool.servers[0].health
        seen = health.failures
        async with asyncio.timeout(10):  # three more failed health checks: still one alert
            while health.failures < seen + 3:
                await asyncio.sleep(0.05)
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


@pytest.mark.parametrize(
    "url", ["http://203.0.113.9:8080", "http://refine.example.com", "ftp://127.0.0.1/"]
)
async def test_seturl_takes_only_https_or_loopback(telegram, refine_server, bot, url):
    await telegram.send_text(ADMIN_ID, f"/seturl {url}")
    [answer] = await telegram.wait_for(lambda c: c.chat_id == ADMIN_ID)
    assert "Not set" in answer.params["text"] or "Usage" in answer.params["text"]
    state = bot.bot_data[STATE_KEY]
    assert state.pool.override is None and state.pool.source == "npoint"
    _, colored = await colored_reply(telegram)
    await telegram.tap(USER, colored, "r:b:30")
    await telegram.wait_for(lambda c: c in refined_photos(telegram))
    assert len(refine_server.requests) == 1  # still the discovered server


def caption_edits(telegram) -> list[str | None]:
    return [c.params.get("caption") for c in telegram.calls if c.method == "editMessageCaption"]


@pytest.mark.parametrize(
    "forgery",
    [
        "other key",
        "unsigned v1",
        "tampered url",
        "plain http",
        "public token",
        "surrogate sig",
        "surrogate field",
    ],
)
async def test_untrusted_discovery_document_is_never_used(
    telegram, refine_server, npoint, make_settings, run_bot, caplog, forgery
):
    evil = await FakeRefineServer(REFINE_TOKEN).start()
    documents = {
        "other key": discovery_document(evil.url, token="someone-elses-token-0123456789"),
        "unsigned v1": {"url": evil.url, "models": ["balanced"], "version": 1},
        "tampered url": {**discovery_document(refine_server.url), "url": evil.url},
        "plain http": discovery_document("http://refine.example.com:5000"),
        # A bot left with .env.example's token: anyone can sign with that one.
        "public token": discovery_document(evil.url, token=PLACEHOLDER_TOKEN),
        # Lone surrogates ("\ud800" in the JSON) cannot be UTF-8 encoded for the HMAC.
        "surrogate sig": {**discovery_document(evil.url), "sig": "\ud800"},
        "surrogate field": {**discovery_document(evil.url), "gpu": "\udfff"},
    }
    npoint.documents[BIN_ID] = documents[forgery]
    token = PLACEHOLDER_TOKEN if forgery == "public token" else REFINE_TOKEN
    try:
        async with run_bot(make_settings(refine_token=token)):
            _, colored = await colored_reply(telegram)
            for _ in range(2):
                await telegram.tap(USER, colored, "r:b:30")
            await telegram.wait_for(
                lambda c: c.chat_id == USER and "unavailable" in c.params.get("text", ""), count=2
            )
        assert not evil.requests and evil.status_reads == 0  # never contacted
        assert not refine_server.requests
        [alert] = admin_texts(telegram)  # once per bad document, and no "offline" alert
        assert "discovery document was rejected" in alert
        warnings = [r for r in caplog.records if "Discovery document rejected" in r.getMessage()]
        assert len(warnings) == 1
        assert token not in caplog.text
    finally:
        await evil.stop()


async def test_refine_url_is_used_as_configured(
    telegram, refine_server, npoint, make_settings, run_bot
):
    npoint.documents[BIN_ID] = {"url": "https://forged.example", "version": 1}
    async with run_bot(make_settings(refine_url=refine_server.url)):
        _, colored = await colored_reply(telegram)
        await telegram.tap(USER, colored, "r:b:30")
        await telegram.wait_for(lambda c: c in refined_photos(telegram))
    assert npoint.reads == 0 and not admin_texts(telegram)


@pytest.mark.parametrize(
    ("mode", "words"),
    [("junk", "not a picture"), ("huge", "not a picture"), ("error", "on its side")],
)
async def test_bad_answers_are_the_servers_fault(telegram, refine_server, bot, caplog, mode, words):
    refine_server.mode = mode
    _, colored = await colored_reply(telegram)
    await telegram.tap(USER, colored, "r:b:30")
    [call] = await telegram.wait_for(
        lambda c: c.chat_id == USER and words in c.params.get("text", "")
    )
    assert "could not use this image" not in call.params["text"]
    assert call.params["reply_parameters"]["message_id"] == colored["message_id"]
    assert not refined_photos(telegram)  # nothing that is not an image reaches the user
    assert caption_edits(telegram) == ["⏳ Refining with Balanced…", None]
    logged = "without a usable image" if mode != "error" else "HTTP 500"
    assert logged in caplog.text


async def test_queue_position_comes_from_the_health_check(
    telegram, refine_server, make_settings, run_bot
):
    from bot.jobs import refresh_refine_health
    from bot.state import STATE_KEY

    refine_server.queue = 3
    async with run_bot(make_settings(health_check_interval_s=600)) as app:
        for job in app.job_queue.jobs():
            job.enabled = False  # this test runs the health check itself
        await refresh_refine_health(app.bot_data[STATE_KEY])
        assert refine_server.status_reads == 1
        _, colored = await colored_reply(telegram)
        await telegram.tap(USER, colored, "r:q:30")
        await telegram.wait_for(lambda c: c in refined_photos(telegram))
    assert caption_edits(telegram)[0] == "⏳ Refining with Quality… (3 ahead of you on the GPU)"
    assert refine_server.status_reads == 1  # the tap asked nothing over the tunnel


async def test_refine_sends_real_file_names_and_types(telegram, refine_server, bot):
    webp = sketch_bytes(fmt="WEBP")
    sketch = await telegram.send_document(USER, webp, "my sketch.webp", "image/webp", caption="x")
    colored = (await telegram.reply_to(sketch, "sendPhoto")).result
    await telegram.tap(USER, colored, "r:b:30")
    await telegram.wait_for(lambda c: c in refined_photos(telegram))
    [request] = refine_server.requests
    assert request["files"]["sketch"] == ("my sketch.webp", "image/webp")
    assert request["sketch"] == webp
    assert request["files"]["image"] == ("colored.jpg", "image/jpeg")


async def test_stopping_bot_answers_a_running_refine_after_a_short_grace(
    telegram, refine_server, make_settings, run_bot
):
    from bot.services.refine_store import RefineStore

    refine_server.hold()  # a GPU job far longer than the grace period
    settings = make_settings(shutdown_grace_s=0.5)
    async with run_bot(settings):
        _, colored = await colored_reply(telegram)
        await telegram.tap(USER, colored, "r:b:30")
        await asyncio.wait_for(refine_server.arrived.wait(), 20)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5  # not the 20 s refine timeout
    [told] = [t for t in telegram.texts(USER) if "restarting" in t]
    assert "tap the button again" in told
    assert caption_edits(telegram) == ["⏳ Refining with Balanced…", None]
    store = RefineStore(settings.bot_data_dir)
    assert await store.unfinished() == []  # answered: nothing left for the next start
    store.close()
    await asyncio.sleep(0.2)
    assert refine_server.cancelled == 1  # the held request was dropped, not left running


async def test_a_second_tap_during_a_refine_still_restores_the_original_caption(
    telegram, refine_server, bot
):
    refine_server.hold()
    sketch = await telegram.send_document(USER, sketch_bytes(), "s.png", "image/png")
    colored = (await telegram.reply_to(sketch, "sendPhoto")).result
    await telegram.tap(USER, colored, "r:b:30")
    await telegram.wait_for(lambda c: c.method == "editMessageCaption")
    await telegram.tap(USER, colored, "r:q:30")  # Telegram sends the "⏳" caption with this tap
    for _ in range(200):  # both refines reach the (held) server
        if len(refine_server.requests) == 2:
            break
        await asyncio.sleep(0.05)
    refine_server.release()
    await telegram.wait_for(lambda c: c in refined_photos(telegram), count=2)
    await asyncio.sleep(0.2)
    assert "caption" not in telegram.messages[(USER, colored["message_id"])]


async def test_an_answer_that_breaks_off_is_the_servers_fault(telegram, make_settings, run_bot):
    from aiohttp import web

    from tests.support.server import LocalServer

    class BreaksOff(LocalServer):
        """Promises a 10,000-byte PNG, sends 10 bytes and hangs up (a tunnel dropping)."""

        def routes(self) -> list[web.RouteDef]:
            return [web.post("/refine", self._refine)]

        async def _refine(self, request: web.Request) -> web.StreamResponse:
            await request.read()
            response = web.StreamResponse(headers={"Content-Length": "10000"})
            response.content_type = "image/png"
            await response.prepare(request)
            await response.write(b"\x89PNG\r\n\x1a\n\0\0")
            request.transport.close()
            return response

    async with BreaksOff() as broken, run_bot(make_settings(refine_url=broken.url)):
        _, colored = await colored_reply(telegram)
        await telegram.tap(USER, colored, "r:b:30")
        await telegram.wait_for(lambda c: "on its side" in c.params.get("text", ""))
    assert caption_edits(telegram) == ["⏳ Refining with Balanced…", None]
