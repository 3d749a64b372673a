"""Periodic work on PTB's job queue."""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.state import BotState, get_state

logger = logging.getLogger(__name__)


async def check_refine_health(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ping the refine servers; admins hear once when an outage starts and once when it ends."""
    await refresh_refine_health(get_state(context))


async def refresh_refine_health(state: BotState) -> None:
    """One ``/status`` read of every refine server; the client records each one's health."""
    if not state.pool.configured:
        return
    await state.refine.refresh_status()
