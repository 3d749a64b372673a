"""The Mini App the bot serves: the "Edit colors" button, the editor by link, "Send to chat"."""

from __future__ import annotations

import asyncio
import io
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from PIL import Image

from bot.app import MINIAPP_KEY
from tests.support.init_data import sign_init_data
from tests.support.sketches import sketch_bytes
from tests.support.tokens import BOT_TOKEN
from webapp.telegram_auth import sketch_signature

WEBAPP_URL = "https://example.test/pixelpainter/"


def init_data(user_id: int, auth_date: float | None = None, token: str = BOT_TOKEN) -> str:
    user = json.dumps({"id": user_id, "first_name": f"User{user_id}"})
    fields = {"user": user, "auth_date": str(int(auth_date or time.time())), "query_id": "Q1"}
    return sign_init_data(fields, token)


def png(size: tuple[int, int] = (80, 60), color: str = "tomato") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
async def miniapp_bot(make_settings, run_bot):
    async with run_bot(make_settings(webapp_url=WEBAPP_URL, webapp_port=0)) as app:
        yield app


@pytest.fixture
async def http(miniapp_bot):
    async with aiohttp.ClientSession(base_url=miniapp_bot.bot_data[MINIAPP_KEY].url) as session:
        yield session


def edit_button(call) -> dict | None:
    rows = call.params["reply_markup"]["inline_keyboard"]
    found = [b for row in rows for b in row if "web_app" in b]
    return found[0] if found else None


async def test_result_has_edit_button_that_opens_the_editor(telegram, miniapp_bot, http):
    sketch = await telegram.send_photo(42, sketch_bytes())
    reply = await telegram.reply_to(sketch, "sendPhoto")
    button = edit_button(reply)
    assert button is not None and button["text"].endswith("Edit colors")
    url = urlsplit(button["web_app"]["url"])
    assert url.scheme == "https" and button["web_app"]["url"].startswith(WEBAPP_URL)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["sketch"] == sketch["photo"][-1]["file_id"]

    form = aiohttp.FormData(
        {"init_data": init_data(42), "sketch_id": query["sketch"], "sig": query["sig"]}
    )
    async with http.post("/api/editor", data=form) as response:
        assert response.status == 200, await response.text()
        document = await response.json()
    assert (document["width"], document["height"]) == (96, 64)
    assert document["layer"].startswith("data:image/png;base64,")
    soft = aiohttp.FormData(
        {
            "init_data": init_data(42),
            "sketch_id": query["sketch"],
            "sig": query["sig"],
            "style": "soft",
        }
    )
    async with http.post("/api/editor", data=soft) as response:
        assert response.status == 200
        assert (await response.json())["layer"] != document["layer"]

    forged = aiohttp.FormData(
        {"init_data": init_data(42), "sketch_id": query["sketch"], "sig": "0" * 32}
    )
    async with http.post("/api/editor", data=forged) as response:
        assert response.status == 403
    unsigned = aiohttp.FormData(
        {"init_data": "", "sketch_id": query["sketch"], "sig": query["sig"]}
    )
    async with http.post("/api/editor", data=unsigned) as response:
        assert response.status == 401


async def test_strength_tap_keeps_the_edit_button(telegram, miniapp_bot):
    sketch = await telegram.send_photo(42, sketch_bytes())
    reply = await telegram.reply_to(sketch, "sendPhoto")
    await telegram.tap(42, reply.result, "s:b:45")
    [edit] = await telegram.wait_for(lambda c: c.method == "editMessageReplyMarkup")
    assert edit_button(edit) == edit_button(reply)


async def test_no_edit_button_in_groups_or_without_webapp_url(telegram, miniapp_bot, bot):
    group = {"id": -100, "type": "group", "title": "Artists"}
    user = {"id": 42, "is_bot": False, "first_name": "User42"}
    photo = telegram.photo_sizes(sketch_bytes())
    message = {"message_id": 10_001, "date": int(time.time()), "chat": group, "from": user}
    telegram.messages[(-100, 10_001)] = {**message, "photo": photo}
    await telegram.push_update(message={**message, "photo": photo})
    [reply] = await telegram.wait_for(lambda c: c.method == "sendPhoto" and c.chat_id == -100)
    assert edit_button(reply) is None


async def test_send_to_chat_delivers_file_and_preview(telegram, miniapp_bot, http):
    image = png((120, 90))
    form = aiohttp.FormData()
    form.add_field("init_data", init_data(42))
    form.add_field("image", image, filename="colored.png", content_type="image/png")
    async with http.post("/api/send", data=form) as response:
        assert response.status == 200, await response.text()
        assert await response.json() == {"sent": True, "chat_id": 42}
    [photo] = telegram.sent(42, "sendPhoto")
    [document] = telegram.sent(42, "sendDocument")
    assert photo.files["photo"][:2] == b"\xff\xd8"
    assert photo.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "r:b:30"
    assert document.files["document"] == image  # the edited PNG, byte for byte


async def test_send_of_an_odd_shape_is_a_file_with_the_keyboard(telegram, miniapp_bot, http):
    form = aiohttp.FormData()
    form.add_field("init_data", init_data(42))
    form.add_field("image", png((2040, 50)), filename="strip.png", content_type="image/png")
    async with http.post("/api/send", data=form) as response:
        assert response.status == 200
    assert not telegram.sent(42, "sendPhoto")
    [document] = telegram.sent(42, "sendDocument")
    assert document.params["reply_markup"]["inline_keyboard"]


@pytest.mark.parametrize(
    ("make_init", "words"),
    [
        (lambda: "", "no initData"),
        (lambda: init_data(42, auth_date=time.time() - 25 * 3600), "too old"),
        (lambda: init_data(42, token="7654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"), "not signed"),
        (lambda: init_data(42).replace("User42", "User43"), "not signed"),
    ],
)
async def test_send_needs_valid_init_data(telegram, miniapp_bot, http, make_init, words):
    form = aiohttp.FormData()
    form.add_field("init_data", make_init())
    form.add_field("image", png(), filename="colored.png", content_type="image/png")
    async with http.post("/api/send", data=form) as response:
        assert response.status == 401
        assert words in (await response.json())["error"]
    assert not telegram.sent(42, "sendDocument")


async def test_send_of_a_non_image_is_415(telegram, miniapp_bot, http):
    form = aiohttp.FormData()
    form.add_field("init_data", init_data(42))
    form.add_field("image", b"<html>", filename="x.png", content_type="image/png")
    async with http.post("/api/send", data=form) as response:
        assert response.status == 415
    assert not telegram.sent(42)


async def test_send_of_a_picture_larger_than_the_editor_makes_is_413(telegram, miniapp_bot, http):
    form = aiohttp.FormData()
    form.add_field("init_data", init_data(42))
    form.add_field("image", png((2049, 40)), filename="big.png", content_type="image/png")
    async with http.post("/api/send", data=form) as response:
        assert response.status == 413
        assert "larger than the editor makes" in (await response.json())["error"]
    assert not telegram.sent(42)


async def test_the_mini_app_in_a_browser_edits_and_sends(telegram, miniapp_bot, chromium_options):
    """The whole loop: result → Edit colors → the page (as Telegram opens it) → Send to chat."""
    async_api = pytest.importorskip("playwright.async_api")
    sketch = await telegram.send_photo(42, sketch_bytes((160, 120)))
    reply = await telegram.reply_to(sketch, "sendPhoto")
    link = edit_button(reply)["web_app"]["url"]
    local = miniapp_bot.bot_data[MINIAPP_KEY].url + "/" + link.removeprefix(WEBAPP_URL)
    # Telegram hands initData to the page in the URL fragment.
    fragment = urlencode({"tgWebAppData": init_data(42), "tgWebAppVersion": "8.0"})
    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(**chromium_options)
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(f"{local}#{fragment}")
        await page.wait_for_selector("#result[data-ready='1']", timeout=60_000)
        assert await page.is_visible("#send")
        width = await page.evaluate("document.getElementById('result').width")
        assert width == 160
        box = await page.locator("#result").bounding_box()
        await page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        assert await page.get_attribute("#result", "data-region")
        await page.locator("#region-color").fill("#00ff00")
        shown = await page.evaluate(
            "Array.from(document.getElementById('result').getContext('2d')"
            ".getImageData(0, 0, 160, 120).data)"
        )
        await page.click("#send")
        await page.wait_for_selector("#status:has-text('Sent!')", timeout=30_000)
        await browser.close()
    [document] = telegram.sent(42, "sendDocument")
    sent = Image.open(io.BytesIO(document.files["document"])).convert("RGBA")
    assert list(sent.getdata()) == [tuple(shown[i : i + 4]) for i in range(0, len(shown), 4)]
    assert (0, 255, 0, 255) in set(sent.getdata())


async def test_the_mini_app_caps_open_connections(miniapp_bot):
    url = urlsplit(miniapp_bot.bot_data[MINIAPP_KEY].url)
    idle = [await asyncio.open_connection(url.hostname, url.port) for _ in range(100)]
    try:
        await asyncio.sleep(0.2)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
    finally:
        for _, idle_writer in idle:
            idle_writer.close()
    assert line.split()[1] == b"503"


def upload(init: str | None = None, field: str = "sketch") -> aiohttp.FormData:
    form = aiohttp.FormData()
    if init is not None:
        form.add_field("init_data", init)
    form.add_field(field, sketch_bytes((64, 48)), filename="s.png", content_type="image/png")
    return form


async def test_inside_the_bot_no_endpoint_works_for_anonymous_callers(telegram, miniapp_bot, http):
    for path in ("/colorize", "/api/editor"):
        async with http.post(path, data=upload()) as response:
            assert response.status == 401, path
            assert "no initData" in (await response.json())["error"]
        async with http.post(path, data=upload(init_data(42))) as response:
            assert response.status == 200, path
    async with http.get("/") as page:  # the page itself loads (it brings initData along)
        assert page.status == 200


async def test_the_mini_app_takes_only_allowed_users(telegram, make_settings, run_bot):
    settings = make_settings(webapp_url=WEBAPP_URL, webapp_port=0, allowed_user_ids=[1])
    async with (
        run_bot(settings) as app,
        aiohttp.ClientSession(base_url=app.bot_data[MINIAPP_KEY].url) as http,
    ):
        for path in ("/colorize", "/api/editor"):
            async with http.post(path, data=upload(init_data(2))) as response:
                assert response.status == 403, path
                assert "private" in (await response.json())["error"]
        chat_link = aiohttp.FormData(
            {"init_data": init_data(2), "sketch_id": "any", "sig": "0" * 32}
        )
        async with http.post("/api/editor", data=chat_link) as response:
            assert response.status == 403
        async with http.post("/api/send", data=upload(init_data(2), "image")) as response:
            assert response.status == 403
        for user in (1, 900):  # an allowed user, and an admin
            async with http.post("/colorize", data=upload(init_data(user))) as response:
                assert response.status == 200, user
    assert not telegram.sent(2)


async def test_mini_app_limits_are_per_telegram_user_and_shared_with_the_chat(
    telegram, make_settings, run_bot
):
    settings = make_settings(webapp_url=WEBAPP_URL, webapp_port=0, rate_limit_per_minute=2)
    async with run_bot(settings) as app:
        async with aiohttp.ClientSession(base_url=app.bot_data[MINIAPP_KEY].url) as http:
            statuses = []
            for _ in range(3):  # one address (a proxy) for all: the limit is still per user
                async with http.post("/api/editor", data=upload(init_data(42))) as response:
                    statuses.append(response.status)
            assert statuses == [200, 200, 429]
            async with http.post("/api/editor", data=upload(init_data(43))) as response:
                assert response.status == 200  # another user is not locked out
        # One budget: user 42 spent theirs in the Mini App.
        await telegram.send_photo(42, sketch_bytes())
        await telegram.wait_for(lambda c: c.chat_id == 42 and "come back" in c.params["text"])


async def test_editor_for_an_uncached_sketch_asks_telegram_once(telegram, miniapp_bot, http):
    """A sketch the bot has not seen since it started: one getFile, then the download."""
    file_id, _ = telegram.add_file(sketch_bytes((120, 80)), "photo", ".jpg")
    form = aiohttp.FormData(
        {
            "init_data": init_data(42),
            "sketch_id": file_id,
            "sig": sketch_signature(BOT_TOKEN, file_id),
        }
    )
    async with http.post("/api/editor", data=form) as response:
        assert response.status == 200, await response.text()
        assert (await response.json())["width"] == 120
    assert [c.method for c in telegram.calls].count("getFile") == 1
