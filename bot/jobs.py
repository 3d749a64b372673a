"""Periodic work on PTB's job queue."""

from __future__ import annotations

import contextlib
import logging

from telegram.ext import ContextTypes

from bot.services.refine_client import RefineError
from bot.state import BotState, get_state

logger = logging.getLogger(__name__)


async def check_refine_health(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ping the refine server; admins hear once when an outage starts and once when it ends."""
    await refresh_refine_health(get_state(context))


async def refresh_refine_health(state: BotState) -> None:
    """One ``/status`` read: the client records it, and the server's health, in ``state.health``."""
    if not state.locator.configured:
        return
    with contextlib.suppress(RefineError):  # already recorded by the client
        await state.refine.refresh_status()
