"""Fixtures for the bot tests: local Telegram, refine server and npoint, and a running bot."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, polling
from bot.settings import BotSettings
from tests.support.npoint import BIN_ID, FakeNpoint, discovery_document
from tests.support.refine import FakeRefineServer
from tests.support.telegram import ADMIN_ID, FakeTelegram
from tests.support.tokens import BOT_TOKEN, REFINE_TOKEN


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(BOT_TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture
async def refine_server() -> AsyncIterator[FakeRefineServer]:
    server = await FakeRefineServer(REFINE_TOKEN).start()
    yield server
    server.release()
    await server.stop()


@pytest.fixture
async def npoint(refine_server: FakeRefineServer) -> AsyncIterator[FakeNpoint]:
    """npoint with a signed document that points at ``refine_server``."""
    server = await FakeNpoint().start()
    server.documents[BIN_ID] = discovery_document(refine_server.url)
    yield server
    await server.stop()


@pytest.fixture
def make_settings(
    telegram: FakeTelegram, npoint: FakeNpoint, tmp_path: Path
) -> Callable[..., BotSettings]:
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
            "bot_data_dir": tmp_path / "bot-data",
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
