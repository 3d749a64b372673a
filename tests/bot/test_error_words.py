"""Words belong to the front end, statuses to the web app: rewording every text of
``bot/texts.py`` changes no HTTP status, the Mini App's bridge path included."""

from __future__ import annotations

import struct
import zlib

import aiohttp
import pytest

from bot import texts
from bot.app import MINIAPP_KEY
from tests.support.init_data import sign_init_data
from tests.support.sketches import sketch_bytes
from tests.support.tokens import BOT_TOKEN
from webapp.telegram_auth import sketch_signature

WEBAPP_URL = "https://example.test/pixelpainter/"
# A photo of a few hundred bytes is over this limit: the bot refuses to download it.
TINY_LIMIT_MB = 0.0001


def png_bomb(side: int = 30_000) -> bytes:
    """A PNG header claiming side² pixels, a few hundred bytes in all."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    body = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + body + chunk(b"IEND", b"")


def reword_every_text(monkeypatch: pytest.MonkeyPatch) -> int:
    """Replace each text constant of ``bot.texts`` by other words; returns how many."""
    changed = 0
    for name, value in vars(texts).items():
        if not name.isupper():
            continue
        if isinstance(value, str):
            monkeypatch.setattr(texts, name, f"<{name} reworded>")
        elif isinstance(value, dict):
            monkeypatch.setattr(texts, name, {key: f"<{name} {key}>" for key in value})
        else:
            continue
        changed += 1
    return changed


def init_data(user_id: int) -> str:
    import json
    import time

    user = json.dumps({"id": user_id, "first_name": f"User{user_id}"})
    return sign_init_data({"user": user, "auth_date": str(int(time.time()))}, BOT_TOKEN)


def upload(field: str, data: bytes, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData(fields)
    form.add_field(field, data, filename="x.png", content_type="image/png")
    return form


@pytest.mark.parametrize("reworded", [False, True], ids=["as-written", "reworded"])
async def test_rewording_the_texts_changes_no_status(
    telegram, make_settings, run_bot, monkeypatch, reworded
):
    if reworded:
        assert reword_every_text(monkeypatch) > 50
    settings = make_settings(webapp_url=WEBAPP_URL, webapp_port=0, max_image_mb=TINY_LIMIT_MB)
    async with run_bot(settings) as app:
        # In the chat: the bot's own words for a file over its limit.
        sketch = await telegram.send_photo(42, sketch_bytes())
        [reply] = await telegram.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 42)
        expected_words = "<TOO_LARGE reworded>" if reworded else "This file is too big"
        assert reply.params["text"].startswith(expected_words)

        file_id = sketch["photo"][-1]["file_id"]
        editor_form = {
            "init_data": init_data(42),
            "sketch_id": file_id,
            "sig": sketch_signature(BOT_TOKEN, file_id),
        }
        truncated = sketch_bytes()[:60]
        requests = [
            # The Mini App's bridge: the sketch in Telegram is over the bot's download limit.
            ("/api/editor", aiohttp.FormData(editor_form), 413),
            # Inside the bot every endpoint needs a Telegram user's initData.
            ("/colorize", upload("sketch", b"not a picture", init_data=init_data(42)), 415),
            ("/colorize", upload("sketch", truncated, init_data=init_data(42)), 415),
            ("/colorize", upload("sketch", b"", init_data=init_data(42)), 400),
            ("/colorize", upload("sketch", png_bomb(), init_data=init_data(42)), 413),
            ("/api/send", upload("image", b"<html>", init_data=init_data(42)), 415),
            ("/api/send", upload("image", png_bomb(), init_data=init_data(42)), 413),
        ]
        base = app.bot_data[MINIAPP_KEY].url
        async with aiohttp.ClientSession(base_url=base) as http:
            for path, form, status in requests:
                async with http.post(path, data=form) as response:
                    body = await response.json()
                    assert response.status == status, (path, status, body)
                    assert body["error"] and "reworded" not in body["error"]
