"""Fixtures for the bot tests: local Telegram, refine server and npoint, and a running bot."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from PIL import Image, ImageDraw
from refine_stub import FakeNpoint, FakeRefineServer
from telegram_stub import FakeTelegram

from bot.app import build_application, polling
from bot.settings import BotSettings

BOT_TOKEN = "1234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
REFINE_TOKEN = "refine-secret-9f8e7d6c5b4a"
ADMIN_ID = 900
USER_ID = 42
BIN_ID = "bin0123456789"


def sketch_bytes(size: tuple[int, int] = (96, 64), fmt: str = "PNG") -> bytes:
    """A small line drawing: white paper, a few black strokes."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), outline="black", width=2)
    draw.line((0, h - 1, w - 1, 0), fill="black", width=2)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(BOT_TOKEN).start()
    yield server
    await server.close()


@pytest.fixture
async def refine_server() -> AsyncIterator[FakeRefineServer]:
    server = await FakeRefineServer(REFINE_TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture
async def npoint(refine_server: FakeRefineServer) -> AsyncIterator[FakeNpoint]:
    server = await FakeNpoint(BIN_ID, refine_server.url).start()
    yield server
    await server.stop()


@pytest.fixture
def make_settings(telegram: FakeTelegram, npoint: FakeNpoint) -> Callable[..., BotSettings]:
    """Settings pointing at the local servers; keyword arguments override."""

    def make(**overrides: Any) -> BotSettings:
        values: dict[str, Any] = {
            "telegram_bot_token": BOT_TOKEN,
            "telegram_api_base": telegram.base,
            "admin_chat_ids": [ADMIN_ID],
            "refine_token": REFINE_TOKEN,
            "npoint_bin_id": BIN_ID,
            "npoint_api_base": npoint.url,
            "refine_url": None,
            "allowed_user_ids": [],
            "health_check_interval_s": 30.0,
            "rate_limit_per_minute": 100,
            "rate_limit_per_day": 1000,
            "refine_timeout_s": 20.0,
        }
        values.update(overrides)
        return BotSettings(_env_file=None, **values)

    return make


@pytest.fixture
def run_bot(tiny_colorizer) -> Callable[[BotSettings], contextlib.AbstractAsyncContextManager]:
    """``async with run_bot(settings) as app``: the real Application, polling the stub."""

    @contextlib.asynccontextmanager
    async def run(settings: BotSettings) -> AsyncIterator[Any]:
        application = build_application(settings, colorizer=tiny_colorizer)
        async with polling(application, poll_interval=0.0, timeout=1) as app:
            yield app

    return run


@pytest.fixture
async def bot(make_settings, run_bot) -> AsyncIterator[Any]:
    """The bot with default test settings, running."""
    async with run_bot(make_settings()) as app:
        yield app
