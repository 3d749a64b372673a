"""Color hints in the Mini App: the bot's web app passes them to its model ("Apply hints")."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import cv2
import numpy as np
import pytest
from PIL import Image

from bot.app import MINIAPP_KEY
from tests.bot.test_bot_miniapp import WEBAPP_URL, edit_button, init_data
from tests.support.page_forms import RECORD_FORMS
from tests.support.sketches import sketch_bytes
from webapp.editor import unpack_regions


@pytest.fixture
def tiny_colorizer(tiny_hint_colorizer):
    """The bot of these tests runs a generator that takes color hints."""
    return tiny_hint_colorizer


@pytest.fixture
async def miniapp_bot(make_settings, run_bot):
    async with run_bot(make_settings(webapp_url=WEBAPP_URL, webapp_port=0)) as app:
        yield app


def _image(data_url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def _deepest_pixel(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the pixel of ``mask`` farthest from its edge."""
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    y, x = np.unravel_index(int(depth.argmax()), depth.shape)
    return int(x), int(y)


async def _chat_sketch(telegram, size: tuple[int, int]) -> dict[str, str]:
    sketch = await telegram.send_photo(42, sketch_bytes(size))
    reply = await telegram.reply_to(sketch, "sendPhoto")
    link = edit_button(reply)["web_app"]["url"]
    return {"link": link, **{k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}}


async def test_the_mini_app_editor_takes_hints(telegram, miniapp_bot):
    chat = await _chat_sketch(telegram, (96, 64))
    fields = {"init_data": init_data(42), "sketch_id": chat["sketch"], "sig": chat["sig"]}
    async with aiohttp.ClientSession(base_url=miniapp_bot.bot_data[MINIAPP_KEY].url) as http:
        async with http.post("/api/editor", data=aiohttp.FormData(fields)) as response:
            plain = await response.json()
        assert plain["hints"] is True
        regions = unpack_regions(Image.fromarray(_image(plain["region_map"])))
        ids, counts = np.unique(regions, return_counts=True)
        x, y = _deepest_pixel(regions == ids[counts.argmax()])
        hints = json.dumps([{"x": x, "y": y, "color": "#d03030"}])
        data = aiohttp.FormData({**fields, "hints": hints})
        async with http.post("/api/editor", data=data) as response:
            assert response.status == 200, await response.text()
            hinted = await response.json()
        assert tuple(_image(hinted["layer"])[y, x]) == (0xD0, 0x30, 0x30)
        bad = aiohttp.FormData({**fields, "hints": '[{"x": 1}]'})
        async with http.post("/api/editor", data=bad) as response:
            assert response.status == 400
            assert (await response.json())["error"].startswith("Hint 0: missing 'y', 'color'")


async def test_apply_hints_in_the_mini_app_page(telegram, miniapp_bot, chromium_options):
    """As Telegram opens it: place a dot with the hint tool, apply, see the new coloring."""
    async_api = pytest.importorskip("playwright.async_api")
    chat = await _chat_sketch(telegram, (160, 120))
    local = miniapp_bot.bot_data[MINIAPP_KEY].url + "/" + chat["link"].removeprefix(WEBAPP_URL)
    fragment = urlencode({"tgWebAppData": init_data(42), "tgWebAppVersion": "8.0"})
    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(**chromium_options)
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(f"{local}#{fragment}")
        await page.wait_for_selector("#result[data-ready='1']", timeout=60_000)
        assert await page.is_visible("#hint-tools")
        await page.click("#hint-mode")
        await page.locator("#hint-color").fill("#2040e0")
        box = await page.locator("#result").bounding_box()
        at = (round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2))
        x, y = (
            int((at[0] - box["x"]) * 160 // box["width"]),
            int((at[1] - box["y"]) * 120 // box["height"]),
        )
        await page.mouse.click(*at)
        await page.evaluate(RECORD_FORMS)
        await page.click("#apply-hints")
        await page.wait_for_selector("#status:has-text('Hints applied')", timeout=60_000)
        [form] = await page.evaluate("window.sentForms")
        shown = await page.evaluate(
            f"Array.from(document.getElementById('result').getContext('2d')"
            f".getImageData({x}, {y}, 1, 1).data)"
        )
        await browser.close()
    assert form["url"].endswith("api/editor")
    form = form["fields"]
    assert form["sketch_id"] == chat["sketch"] and form["sig"] == chat["sig"]
    assert json.loads(form["hints"]) == [{"x": x, "y": y, "color": "#2040e0"}]
    lines = await _lines_at(miniapp_bot, chat, x, y)
    expected = [round(c * lines / 255) for c in (0x20, 0x40, 0xE0)]
    assert np.abs(np.array(shown[:3]) - expected).max() <= 1


async def _lines_at(miniapp_bot, chat: dict[str, str], x: int, y: int) -> int:
    """The line art's value at (x, y): the picture there is the hint color times it."""
    fields = {"init_data": init_data(42), "sketch_id": chat["sketch"], "sig": chat["sig"]}
    url = miniapp_bot.bot_data[MINIAPP_KEY].url
    async with (
        aiohttp.ClientSession(base_url=url) as http,
        http.post("/api/editor", data=aiohttp.FormData(fields)) as response,
    ):
        return int(_image((await response.json())["lines"])[y, x])
