"""What the handlers share, built once in ``post_init`` and kept in ``bot_data``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from telegram.ext import ContextTypes

from bot.services.coloring import ColorService
from bot.services.files import FileStore
from bot.services.image_cache import ImageCache
from bot.services.refine_client import RefineClient
from bot.services.refine_pool import RefinePool
from bot.services.refine_store import FlightStore
from bot.services.refining import Refining
from bot.services.stats import Stats
from bot.settings import BotSettings
from inference.service import ColorizeBackend
from shared_state.rate_limit import Limiter

STATE_KEY = "pixelpainter"


@dataclass
class BotState:
    """Settings and services, typed (``bot_data`` itself is an untyped dict)."""

    settings: BotSettings
    session: aiohttp.ClientSession
    redis: Any  # redis.asyncio.Redis when REDIS_URL is set, else None
    inference: ColorizeBackend
    cache: ImageCache
    files: FileStore
    colors: ColorService
    limiter: Limiter
    pool: RefinePool
    refine: RefineClient
    store: FlightStore
    refining: Refining
    stats: Stats

    def is_admin(self, user_id: int | None) -> bool:
        """Whether ``user_id`` is one of ``ADMIN_CHAT_IDS``."""
        return user_id is not None and user_id in self.settings.admin_chat_ids


def get_state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    """The application's :class:`BotState`."""
    return context.application.bot_data[STATE_KEY]
